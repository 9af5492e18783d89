// Membership of a classic consumer group (protocol type 'consumer', the range assignor):
// JoinGroup -> (leader: assign) -> SyncGroup -> Heartbeat … -> LeaveGroup, as Kafka's consumer
// coordinator does it.
//
// - JoinGroup v4+ first answers MEMBER_ID_REQUIRED with a member id to rejoin with (KIP-394).
// - The coordinator holds JoinGroup until every member has rejoined (up to the rebalance timeout),
//   so that request gets the rebalance timeout on top of the request timeout.
// - The leader (its member id equals JoinGroup's `leader`) decodes every member's subscription,
//   looks the topics up and runs the range assignor; followers send no assignments.
// - Heartbeat REBALANCE_IN_PROGRESS means "rejoin"; UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION mean
//   the membership is gone: rejoin from scratch.
//
// Concurrency contract: one owner (the Consumer). join() and leave() are not called
// concurrently with each other; heartbeat() may run while the owner fetches.

import { ApiKey, ErrorCode, type JoinGroupResponseMembers } from '@sluice/protocol';
import type { BrokerConnection } from './connection.ts';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type TopicPartitions,
} from './consumer-protocol.ts';
import { ClientError, KafkaApiError } from './errors.ts';
import { findCoordinator } from './groups.ts';
import type { KafkaClient } from './kafka-client.ts';
import { assignRange, RANGE_ASSIGNOR_NAME } from './range-assignor.ts';

export interface MembershipOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export const DEFAULT_MEMBERSHIP = {
  sessionTimeoutMs: 45_000, // Kafka's session.timeout.ms default
  rebalanceTimeoutMs: 60_000,
  requestTimeoutMs: 30_000,
} as const;

export type HeartbeatOutcome = 'ok' | 'rejoin';

/** Errors after which the member must join again (with its id, or from scratch). */
function needsRejoin(code: number): boolean {
  return (
    code === ErrorCode.REBALANCE_IN_PROGRESS ||
    code === ErrorCode.UNKNOWN_MEMBER_ID ||
    code === ErrorCode.ILLEGAL_GENERATION ||
    code === ErrorCode.FENCED_INSTANCE_ID
  );
}

const MAX_JOIN_ATTEMPTS = 20;

export class GroupMember {
  readonly groupId: string;
  private readonly client: KafkaClient;
  private readonly options: MembershipOptions;
  private coordinator: BrokerConnection | null = null;
  memberId = '';
  generationId = -1;
  isLeader = false;
  assignment: readonly TopicPartitions[] = [];

  constructor(client: KafkaClient, options: MembershipOptions) {
    this.client = client;
    this.groupId = options.groupId;
    this.options = options;
  }

  /** The coordinator connection of the current membership. */
  async coordinatorConnection(): Promise<BrokerConnection> {
    if (this.coordinator === null || !this.coordinator.isOpen) this.coordinator = await findCoordinator(this.client, this.groupId);
    return this.coordinator;
  }

  /** Joins (or rejoins) the group and returns this member's assignment. */
  async join(): Promise<readonly TopicPartitions[]> {
    for (let attempt = 0; attempt < MAX_JOIN_ATTEMPTS; attempt++) {
      const conn = await this.coordinatorConnection();
      const joined = await conn.request(
        ApiKey.JoinGroup,
        {
          groupId: this.groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: null,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocols: [{ name: RANGE_ASSIGNOR_NAME, metadata: encodeSubscription({ topics: this.options.topics, generationId: this.generationId }) }],
          reason: null,
        },
        { timeoutMs: this.options.rebalanceTimeoutMs + this.options.requestTimeoutMs },
      );
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId;
        continue;
      }
      if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || joined.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        this.resetMembership();
        continue;
      }
      if (
        joined.errorCode === ErrorCode.NOT_COORDINATOR ||
        joined.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
        joined.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
      ) {
        this.coordinator = null;
        continue;
      }
      if (joined.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (joined.errorCode !== 0) throw new KafkaApiError('join', `group ${JSON.stringify(this.groupId)}`, joined.errorCode);
      if (joined.protocolName !== null && joined.protocolName !== RANGE_ASSIGNOR_NAME) {
        throw new ClientError(
          `group ${JSON.stringify(this.groupId)} chose assignor ${JSON.stringify(joined.protocolName)}; this client only runs ${RANGE_ASSIGNOR_NAME}`,
          'use a group id whose members all use the range assignor',
        );
      }
      this.memberId = joined.memberId;
      this.generationId = joined.generationId;
      this.isLeader = joined.leader === joined.memberId;

      const assignments = this.isLeader && !joined.skipAssignment ? await this.assign(joined.members) : [];
      const synced = await conn.request(ApiKey.SyncGroup, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: RANGE_ASSIGNOR_NAME,
        assignments,
      });
      if (needsRejoin(synced.errorCode)) {
        if (synced.errorCode !== ErrorCode.REBALANCE_IN_PROGRESS) this.resetMembership();
        continue;
      }
      if (synced.errorCode !== 0) throw new KafkaApiError('sync', `group ${JSON.stringify(this.groupId)}`, synced.errorCode);
      this.assignment = decodeAssignment(synced.assignment).assignedPartitions;
      return this.assignment;
    }
    throw new ClientError(`could not join group ${JSON.stringify(this.groupId)} after ${MAX_JOIN_ATTEMPTS} attempts`, 'the group keeps rebalancing; retry');
  }

  /** One heartbeat: 'rejoin' when the group is rebalancing or this membership is gone. */
  async heartbeat(): Promise<HeartbeatOutcome> {
    const conn = await this.coordinatorConnection();
    const body = await conn.request(ApiKey.Heartbeat, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
    });
    if (body.errorCode === 0) return 'ok';
    if (needsRejoin(body.errorCode)) {
      if (body.errorCode !== ErrorCode.REBALANCE_IN_PROGRESS) this.resetMembership();
      return 'rejoin';
    }
    if (body.errorCode === ErrorCode.NOT_COORDINATOR || body.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
      this.coordinator = null;
      return 'rejoin';
    }
    throw new KafkaApiError('heartbeat to', `group ${JSON.stringify(this.groupId)}`, body.errorCode);
  }

  /** Leaves the group so the others rebalance now rather than after the session timeout. */
  async leave(): Promise<void> {
    if (this.memberId === '') return;
    const conn = await this.coordinatorConnection();
    const version = conn.version(ApiKey.LeaveGroup);
    const body = await conn.request(
      ApiKey.LeaveGroup,
      version >= 3
        ? { groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'the consumer is closing' }] }
        : { groupId: this.groupId, memberId: this.memberId },
    );
    const code = body.errorCode !== 0 ? body.errorCode : (body.members?.[0]?.errorCode ?? 0);
    this.resetMembership();
    // The membership may already be gone (session expired); that is what leaving wanted.
    if (code !== 0 && code !== ErrorCode.UNKNOWN_MEMBER_ID) throw new KafkaApiError('leave', `group ${JSON.stringify(this.groupId)}`, code);
  }

  private resetMembership(): void {
    this.memberId = '';
    this.generationId = -1;
    this.isLeader = false;
    this.assignment = [];
  }

  /** The leader's job: subscriptions -> range assignment -> SyncGroup assignments. */
  private async assign(members: readonly JoinGroupResponseMembers[]): Promise<Array<{ memberId: string; assignment: Uint8Array }>> {
    const subs = members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, sub: decodeSubscription(m.metadata) }));
    const topics = [...new Set(subs.flatMap((s) => s.sub.topics))];
    const md = await this.client.metadata(topics);
    const counts = new Map<string, number>();
    for (const t of md.topics.values()) if (t.errorCode === 0) counts.set(t.name, t.partitions.length);
    const plan = assignRange(
      subs.map((s) => ({ memberId: s.memberId, groupInstanceId: s.groupInstanceId, topics: s.sub.topics })),
      counts,
    );
    // Write each assignment in a version its member can read: the one it subscribed with, at most ours.
    return subs.map((s) => ({
      memberId: s.memberId,
      assignment: encodeAssignment({ assignedPartitions: plan.get(s.memberId) ?? [] }, Math.min(s.sub.version, 3)),
    }));
  }
}
