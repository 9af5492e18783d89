// AlterClientQuotas (key 49), v0–1.
// Behavior as Kafka (KIP-546): ALTER_CONFIGS on the cluster, else every entry
// CLUSTER_AUTHORIZATION_FAILED. Each entry is checked on its own (quotas/client-quota-entity.ts:
// entity types and combinations, known keys for the entity kind, whole numbers for the byte rates,
// each key once) and answers INVALID_REQUEST with Kafka's message when it fails; the valid entries
// are applied together — durable before the answer — unless `validateOnly`. A removal of a key that
// is not set is a no-op. The new quotas apply to the next request of every client they match.

import { ErrorCode } from '@sluice/protocol';
import { checkQuotaValue, type ClientQuotaEntity, isClientQuotaKey, parseEntity } from '../quotas/client-quota-entity.ts';
import type { ClientQuotaChange } from '../quotas/client-quota-store.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

type Op = { key: string; value: number; remove: boolean };

/** The entry's changes, or the INVALID_REQUEST message. */
export function entryChanges(entity: ClientQuotaEntity, ops: readonly Op[]): ClientQuotaChange[] | string {
  const keys = new Set<string>();
  const changes: ClientQuotaChange[] = [];
  for (const op of ops) {
    if (keys.has(op.key)) return `Duplicate quota key ${op.key} not updating quota for entity`;
    keys.add(op.key);
    if (op.remove) {
      if (!isClientQuotaKey(op.key)) return `Invalid configuration key ${op.key}`;
      const problem = checkQuotaValue(entity, op.key, 1);
      if (problem !== null) return problem;
      changes.push({ entity, key: op.key, value: undefined });
    } else {
      const problem = checkQuotaValue(entity, op.key, op.value);
      if (problem !== null) return problem;
      changes.push({ entity, key: op.key, value: op.value });
    }
  }
  return changes;
}

export const alterClientQuotasHandler = defineHandler({
  apiKey: 49,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const wire = (e: (typeof request.entries)[number]) => e.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName }));
    if (!authorize(ctx, AclOperation.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return {
        throttleTimeMs: 0,
        entries: request.entries.map((e) => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entity: wire(e) })),
      };
    }
    const answers = request.entries.map((e) => {
      const entity = parseEntity(e.entity);
      const changes = typeof entity === 'string' ? entity : entryChanges(entity, e.ops);
      return { entity: wire(e), changes };
    });
    const valid = answers.flatMap((a) => (typeof a.changes === 'string' ? [] : a.changes));
    let storageError: string | null = null;
    if (!request.validateOnly && valid.length > 0) {
      try {
        await ctx.broker.quotas.store.apply(valid);
      } catch (err) {
        ctx.broker.logger.error({ err }, 'writing client quotas failed');
        storageError = `writing the client quotas failed: ${(err as Error).message}`;
      }
    }
    return {
      throttleTimeMs: 0,
      entries: answers.map((a) => {
        if (typeof a.changes === 'string') return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: a.changes, entity: a.entity };
        if (storageError !== null) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: storageError, entity: a.entity };
        return { errorCode: ErrorCode.NONE, errorMessage: null, entity: a.entity };
      }),
    };
  },
});
