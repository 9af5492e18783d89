// The group coordinator's requests and answers, in the protocol's field names where they map to
// a message; the handlers translate between these and each API version's wire shapes.

import type { GroupState } from './group.ts';
import type { Protocol } from './member.ts';

export interface JoinGroupInput {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
  readonly clientId: string;
  readonly clientHost: string;
  readonly reason: string | null;
  /** JoinGroup v4+: a member without an id first gets one, with MEMBER_ID_REQUIRED. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a Stable group may skip the assignment. */
  readonly supportSkippingAssignment: boolean;
}

export interface SyncGroupInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** v5+: checked against the group's when given. */
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Uint8Array }>;
}

export interface HeartbeatInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeavingMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly reason: string | null;
}

export interface LeaveResult {
  readonly errorCode: number;
  readonly members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
}

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
}

export interface OffsetCommitInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** OffsetCommit v2-4; -1 = the broker's retention. */
  readonly retentionTimeMs: number;
  readonly apiVersion: number;
  readonly offsets: readonly OffsetToCommit[];
}

/** TxnOffsetCommit: offsets committed inside a transaction (applied by its COMMIT marker). */
export interface TxnOffsetCommitInput {
  readonly groupId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  /** v3+ (KIP-447): -1 / "" / null skip the generation and member checks. */
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly offsets: readonly OffsetToCommit[];
}

export interface FetchedOffset {
  readonly partitionIndex: number;
  readonly committedOffset: number;
  readonly committedLeaderEpoch: number;
  readonly metadata: string;
  readonly errorCode: number;
}

export interface OffsetFetchResult {
  readonly errorCode: number;
  readonly topics: Array<{ name: string; partitions: FetchedOffset[] }>;
}

export interface DescribedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly memberMetadata: Uint8Array;
  readonly memberAssignment: Uint8Array;
}

export interface DescribedGroup {
  readonly errorCode: number;
  readonly groupId: string;
  readonly groupState: GroupState;
  readonly protocolType: string;
  /** The selected protocol while Stable, else ''. */
  readonly protocolData: string;
  readonly members: DescribedMember[];
}

export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
  /** A classic group's GroupState or a consumer group's ConsumerGroupState. */
  readonly groupState: string;
  /** 'consumer' for KIP-848 consumer groups; absent (classic) otherwise. */
  readonly groupType?: 'consumer';
}
