// Consumer-group administration, as kafka-consumer-groups.sh does it: FindCoordinator,
// ListGroups (asked of every broker), ConsumerGroupDescribe (KIP-848 consumer groups), then
// ShareGroupDescribe (KIP-932 share groups, with DescribeShareGroupOffsets for their start
// offsets), falling back to DescribeGroups for classic ones, as Kafka's admin client does, OffsetFetch, OffsetCommit (a "simple"
// commit with generation -1 and no member id, for offset resets) and DeleteGroups.

import { ApiKey, type Encodable, ErrorCode, type OffsetFetchRequest } from '@sluice/protocol';
import type { BrokerConnection } from './connection.ts';
import { decodeAssignment, type TopicPartitions } from './consumer-protocol.ts';
import { checkError, ClientError, KafkaApiError } from './errors.ts';
import { type KafkaClient, sleep } from './kafka-client.ts';
import { groupByTopic, tpKey } from './offsets.ts';

/** FindCoordinator key type for a consumer group. */
const KEY_TYPE_GROUP = 0;
const COORDINATOR_WAIT_MS = 10_000;

function isCoordinatorBusy(code: number): boolean {
  return code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
}

/**
 * The connection to a group's coordinator (or, with key type 1, a transactional id's); waits
 * while the coordinator is loading.
 */
export async function findCoordinator(client: KafkaClient, groupId: string, keyType = KEY_TYPE_GROUP): Promise<BrokerConnection> {
  const what = keyType === KEY_TYPE_GROUP ? 'group' : 'transactional id';
  const deadline = Date.now() + COORDINATOR_WAIT_MS;
  for (;;) {
    const conn = client.bootstrap;
    const version = conn.version(ApiKey.FindCoordinator);
    const body = await conn.request(ApiKey.FindCoordinator, version >= 4 ? { keyType, coordinatorKeys: [groupId] } : { key: groupId, keyType });
    // v4+ answers per key; earlier versions answer for the one key at the top level (where
    // the decoder fills every field, so the defaults below are never used).
    const c =
      version >= 4
        ? body.coordinators?.[0]
        : { nodeId: body.nodeId ?? -1, host: body.host ?? '', port: body.port ?? -1, errorCode: body.errorCode ?? 0, errorMessage: body.errorMessage ?? null };
    if (c === undefined) throw new ClientError(`${conn.address} answered FindCoordinator for ${what} ${JSON.stringify(groupId)} with no coordinator`);
    if (c.errorCode === 0) return client.nodeAt(c.nodeId, c.host, c.port);
    if (!isCoordinatorBusy(c.errorCode) || Date.now() >= deadline) {
      throw new KafkaApiError('find the coordinator of', `${what} ${JSON.stringify(groupId)}`, c.errorCode, c.errorMessage ?? null);
    }
    await sleep(200);
  }
}

export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  /** Empty when the broker's ListGroups version does not report states (< v4). */
  readonly state: string;
  readonly coordinatorId: number;
}

/** Every group on every broker, sorted by id. */
export async function listGroups(client: KafkaClient): Promise<GroupListing[]> {
  const brokers = await client.allBrokers();
  const lists = await Promise.all(
    brokers.map(async ({ nodeId, conn }) => {
      const body = await conn.request(ApiKey.ListGroups, { statesFilter: [] });
      checkError('list groups on', `broker ${nodeId}`, body.errorCode);
      return body.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState ?? '', coordinatorId: nodeId }));
    }),
  );
  return lists.flat().sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** Decoded when the group's protocol type is 'consumer'; empty otherwise. */
  readonly assignment: readonly TopicPartitions[];
  /** KIP-848 consumer groups only: the member's epoch and its target assignment. */
  readonly memberEpoch?: number;
  readonly targetAssignment?: readonly TopicPartitions[];
}

export interface GroupDescription {
  readonly groupId: string;
  readonly errorCode: number;
  readonly state: string;
  readonly protocolType: string;
  /** The chosen assignor (e.g. 'range') once the group is stable. */
  readonly protocol: string;
  readonly members: readonly GroupMemberDescription[];
  /**
   * 'consumer' for a KIP-848 consumer group (described by ConsumerGroupDescribe), 'share' for a
   * KIP-932 share group (ShareGroupDescribe), else 'classic'.
   */
  readonly groupType?: 'classic' | 'consumer' | 'share';
  /** KIP-848 consumer groups and share groups only. */
  readonly groupEpoch?: number;
  readonly assignmentEpoch?: number;
}

/** A KIP-848 consumer group's description, or null when the id is no consumer group here. */
async function describeConsumerGroup(conn: BrokerConnection, groupId: string): Promise<GroupDescription | null> {
  if (!conn.supports(ApiKey.ConsumerGroupDescribe)) return null;
  const body = await conn.request(ApiKey.ConsumerGroupDescribe, { groupIds: [groupId], includeAuthorizedOperations: false });
  const g = body.groups[0];
  if (g === undefined || g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return null;
  const partitions = (a: { topicPartitions: ReadonlyArray<{ topicName: string; partitions: readonly number[] }> }): TopicPartitions[] =>
    a.topicPartitions.map((tp) => ({ topic: tp.topicName, partitions: [...tp.partitions].sort((x, y) => x - y) })).sort((x, y) => (x.topic < y.topic ? -1 : 1));
  return {
    groupId: g.groupId,
    errorCode: g.errorCode,
    state: g.groupState,
    protocolType: 'consumer',
    protocol: g.assignorName,
    groupType: 'consumer',
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.instanceId ?? null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: partitions(m.assignment),
      memberEpoch: m.memberEpoch,
      targetAssignment: partitions(m.targetAssignment),
    })),
  };
}

/** A KIP-932 share group's description, or null when the id is no share group here. */
async function describeShareGroup(conn: BrokerConnection, groupId: string): Promise<GroupDescription | null> {
  if (!conn.supports(ApiKey.ShareGroupDescribe)) return null;
  const body = await conn.request(ApiKey.ShareGroupDescribe, { groupIds: [groupId], includeAuthorizedOperations: false });
  const g = body.groups[0];
  if (g === undefined || g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return null;
  return {
    groupId: g.groupId,
    errorCode: g.errorCode,
    state: g.groupState,
    protocolType: 'share',
    protocol: g.assignorName,
    groupType: 'share',
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: m.assignment.topicPartitions
        .map((tp) => ({ topic: tp.topicName, partitions: [...tp.partitions].sort((x, y) => x - y) }))
        .sort((x, y) => (x.topic < y.topic ? -1 : 1)),
      memberEpoch: m.memberEpoch,
    })),
  };
}

/** A share group's share-partition start offsets (DescribeShareGroupOffsets), -1 where it has none. */
export async function shareGroupStartOffsets(client: KafkaClient, groupId: string): Promise<Array<{ topic: string; partition: number; startOffset: number }>> {
  const conn = await findCoordinator(client, groupId);
  const body = await conn.request(ApiKey.DescribeShareGroupOffsets, { groups: [{ groupId, topics: null }] });
  const g = body.groups[0];
  if (g === undefined) throw new ClientError(`${conn.address} answered DescribeShareGroupOffsets for ${JSON.stringify(groupId)} with no group`);
  checkError('describe the share-group offsets of', `group ${JSON.stringify(groupId)}`, g.errorCode);
  return g.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topicName, partition: p.partitionIndex, startOffset: p.startOffset })));
}

export async function describeGroup(client: KafkaClient, groupId: string): Promise<GroupDescription> {
  const conn = await findCoordinator(client, groupId);
  const consumer = await describeConsumerGroup(conn, groupId);
  if (consumer !== null) return consumer;
  const share = await describeShareGroup(conn, groupId);
  if (share !== null) return share;
  const body = await conn.request(ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
  const g = body.groups[0];
  if (g === undefined) throw new ClientError(`${conn.address} answered DescribeGroups for ${JSON.stringify(groupId)} with no group`);
  return {
    groupId: g.groupId,
    errorCode: g.errorCode,
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: g.protocolType === 'consumer' && m.memberAssignment.length > 0 ? safeAssignment(m.memberAssignment) : [],
    })),
  };
}

// A member's assignment is written by its leader's client; one we cannot read is shown as
// nothing rather than failing the whole description.
function safeAssignment(bytes: Uint8Array): readonly TopicPartitions[] {
  try {
    return decodeAssignment(bytes).assignedPartitions;
  } catch {
    return [];
  }
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1 when nothing is committed. */
  readonly offset: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

/**
 * Committed offsets of a group: for `partitions` (null: every partition the group has offsets
 * for). Throws KafkaApiError on a group-level error.
 */
export async function fetchCommittedOffsets(
  client: KafkaClient,
  groupId: string,
  partitions: ReadonlyArray<{ topic: string; partition: number }> | null,
  conn?: BrokerConnection,
): Promise<CommittedOffset[]> {
  const coordinator = conn ?? (await findCoordinator(client, groupId));
  const version = coordinator.version(ApiKey.OffsetFetch);
  let topics: Array<{ name: string; partitionIndexes: number[] }> | null = null;
  if (partitions !== null) {
    topics = [...groupByTopic(partitions)].map(([name, list]) => ({ name, partitionIndexes: list.map((p) => p.partition) }));
  } else if (version < 2) {
    throw new ClientError(`${coordinator.address} cannot list all of a group's offsets (OffsetFetch v${version})`, 'name the topics explicitly');
  }
  const request: Encodable<OffsetFetchRequest> =
    version >= 8 ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false } : { groupId, topics, requireStable: false };
  const body = await coordinator.request(ApiKey.OffsetFetch, request);
  // v8+ answers per group, earlier versions at the top level (a field its version lacks decodes
  // as its default: errorCode 0 before v2).
  const groupError = (version >= 8 ? body.groups?.[0]?.errorCode : body.errorCode) ?? 0;
  checkError('fetch committed offsets of', `group ${JSON.stringify(groupId)}`, groupError);
  const resultTopics = (version >= 8 ? body.groups?.[0]?.topics : body.topics) ?? [];
  const out: CommittedOffset[] = [];
  for (const t of resultTopics) {
    for (const p of t.partitions) {
      out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata, errorCode: p.errorCode });
    }
  }
  return out;
}

export interface CommitRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Commits offsets. Without `member` it is a simple commit (generation -1, no member id), which
 * coordinators accept only for a group with no active members. Throws on the first error.
 */
export async function commitOffsets(
  client: KafkaClient,
  groupId: string,
  offsets: readonly CommitRequest[],
  member: { generationId: number; memberId: string; groupInstanceId: string | null } | null = null,
  conn?: BrokerConnection,
): Promise<void> {
  if (offsets.length === 0) return;
  const coordinator = conn ?? (await findCoordinator(client, groupId));
  const byTopic = groupByTopic(offsets);
  const body = await coordinator.request(ApiKey.OffsetCommit, {
    groupId,
    generationIdOrMemberEpoch: member?.generationId ?? -1,
    memberId: member?.memberId ?? '',
    groupInstanceId: member?.groupInstanceId ?? null,
    retentionTimeMs: -1,
    topics: [...byTopic].map(([name, list]) => ({
      name,
      partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: '' })),
    })),
  });
  for (const t of body.topics) {
    for (const p of t.partitions) checkError(`commit offset of group ${JSON.stringify(groupId)} for`, `${t.name}-${p.partitionIndex}`, p.errorCode);
  }
}

export interface GroupResult {
  readonly groupId: string;
  readonly errorCode: number;
}

export async function deleteGroups(client: KafkaClient, groupIds: readonly string[]): Promise<GroupResult[]> {
  const out: GroupResult[] = [];
  for (const groupId of groupIds) {
    const conn = await findCoordinator(client, groupId);
    const body = await conn.request(ApiKey.DeleteGroups, { groupsNames: [groupId] });
    for (const r of body.results) out.push({ groupId: r.groupId, errorCode: r.errorCode });
  }
  return out;
}

/** Index committed offsets by topic-partition. */
export function committedByPartition(list: readonly CommittedOffset[]): Map<string, CommittedOffset> {
  return new Map(list.map((c) => [tpKey(c.topic, c.partition), c]));
}
