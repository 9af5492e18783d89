// What the Produce, Fetch and topic-mutation handlers do with client quotas (quotas/), as Kafka's
// KafkaApis does: record what the client used, put the throttle time in the response (the
// connection then mutes the client for that long) and, for fetches, answer empty instead of
// sending what the quota does not allow. Nothing is recorded while no quota of the kind is set.

import { ErrorCode } from '@sluice/protocol';
import { quotaUser } from '../quotas/client-quota-manager.ts';
import type { RequestContext } from './handler.ts';

const who = (ctx: RequestContext) => ({ user: quotaUser(ctx.session.principal), clientId: ctx.header.clientId ?? '' });

/** Produce: records the request's record bytes; the throttle time for the response (0: none). */
export function produceThrottleMs(ctx: RequestContext, topicData: readonly { partitionData: readonly { records: Uint8Array | null }[] }[]): number {
  const quota = ctx.broker.quotas.produce;
  if (!quota.anyQuota) return 0; // no quota set: nothing to count on the produce path
  let bytes = 0;
  for (const t of topicData) for (const p of t.partitionData) bytes += p.records?.byteLength ?? 0;
  const { user, clientId } = who(ctx);
  const ms = quota.recordAndGetThrottleTimeMs(user, clientId, bytes);
  quota.throttled(user, clientId, ms);
  return ms;
}

/** Fetch: the most bytes one response may carry under the client's quota (Infinity: no quota). */
export function fetchQuotaMaxBytes(ctx: RequestContext): number {
  const quota = ctx.broker.quotas.fetch;
  if (!quota.anyQuota) return Number.POSITIVE_INFINITY;
  const { user, clientId } = who(ctx);
  return quota.maxValueInQuotaWindow(user, clientId);
}

/**
 * Fetch: records the response's bytes; when that puts the client over its quota the bytes are
 * taken back and the throttle time returned — the caller then answers with no records (Kafka's
 * getThrottledResponse), and the client fetches again once the throttle time has passed.
 */
export function fetchThrottleMs(ctx: RequestContext, bytes: number): number {
  const quota = ctx.broker.quotas.fetch;
  if (!quota.anyQuota) return 0;
  const { user, clientId } = who(ctx);
  const ms = quota.recordAndGetThrottleTimeMs(user, clientId, bytes);
  if (ms > 0) {
    quota.unrecord(user, clientId, bytes);
    quota.throttled(user, clientId, ms);
  }
  return ms;
}

/**
 * Controller mutations (KIP-599) for one CreateTopics, CreatePartitions or DeleteTopics request.
 * `strict` (CreateTopics v6+, CreatePartitions v3+, DeleteTopics v5+): a topic is refused with
 * THROTTLING_QUOTA_EXCEEDED while the client's bucket is in debt; older versions are always
 * served and only throttled. Validate-only requests are not counted, as in Kafka.
 */
export class MutationQuota {
  private readonly ctx: RequestContext;
  private readonly strict: boolean;
  private readonly counted: boolean;
  private throttle = 0;

  constructor(ctx: RequestContext, strict: boolean, validateOnly = false) {
    this.ctx = ctx;
    this.strict = strict;
    this.counted = !validateOnly && ctx.broker.quotas.controllerMutation.anyQuota;
  }

  /** The error for the next topic when the client is over its quota (strict only), else null. */
  refusal(): { errorCode: number; errorMessage: string } | null {
    if (!this.counted || !this.strict) return null;
    const { user, clientId } = who(this.ctx);
    const ms = this.ctx.broker.quotas.controllerMutation.mutationThrottleTimeMs(user, clientId);
    if (ms <= 0) return null;
    this.throttle = Math.max(this.throttle, ms);
    return { errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: 'The throttling quota has been exceeded.' };
  }

  /** Counts `partitions` created or deleted. */
  record(partitions: number): void {
    if (!this.counted || partitions <= 0) return;
    const { user, clientId } = who(this.ctx);
    this.throttle = Math.max(this.throttle, this.ctx.broker.quotas.controllerMutation.recordMutations(user, clientId, partitions));
  }

  /** The response's throttle time (counted once, for the metrics). */
  throttleTimeMs(): number {
    if (this.throttle > 0) {
      const { user, clientId } = who(this.ctx);
      this.ctx.broker.quotas.controllerMutation.throttled(user, clientId, this.throttle);
    }
    return this.throttle;
  }
}
