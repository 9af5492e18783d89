// ListOffsets: a partition's earliest offset, latest offset (the high watermark, for a
// read_uncommitted reader), or the first offset whose timestamp is >= a given time. Requests go
// to each partition's leader, grouped per broker.

import { ApiKey } from '@sluice/protocol';
import { ClientError } from './errors.ts';
import type { ClusterMetadata, KafkaClient } from './kafka-client.ts';

/** ListOffsets timestamp sentinels (Kafka's ListOffsetsRequest). */
export const EARLIEST_TIMESTAMP = -2;
export const LATEST_TIMESTAMP = -1;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface OffsetQuery extends TopicPartition {
  /** A time in ms, or EARLIEST_TIMESTAMP / LATEST_TIMESTAMP. */
  readonly timestamp: number;
}

export interface OffsetAnswer extends TopicPartition {
  readonly errorCode: number;
  /** -1 when a timestamp query found no record at or after the time. */
  readonly offset: number;
  readonly timestamp: number;
}

/** "topic\0partition": a Map key for a topic-partition (NUL cannot occur in topic names). */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * `items` in buckets by `keyOf(item)`: keys in first-seen order, each bucket in input order (what
 * Map.groupBy does; our TypeScript lib target, ES2023, does not declare it yet).
 */
export function groupBy<K, T>(items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list === undefined) out.set(key, [item]);
    else list.push(item);
  }
  return out;
}

/** Topic-partitions in buckets by topic, for requests that list partitions under their topic. */
export function groupByTopic<T extends TopicPartition>(items: Iterable<T>): Map<string, T[]> {
  return groupBy(items, (item) => item.topic);
}

/** Partitions grouped by their leader's node id, from `md`; throws when a partition has no leader. */
export function groupByLeader<T extends TopicPartition>(md: ClusterMetadata, items: readonly T[]): Map<number, T[]> {
  return groupBy(items, (item) => {
    const p = md.topics.get(item.topic)?.partitions.find((x) => x.partition === item.partition);
    if (p === undefined)
      throw new ClientError(
        `partition ${item.topic}-${item.partition} is not in the cluster metadata`,
        'check the topic and partition with `sluice topics describe`',
      );
    if (p.leaderId < 0) throw new ClientError(`partition ${item.topic}-${item.partition} has no leader`, 'retry when the broker is up');
    return p.leaderId;
  });
}

/** One ListOffsets answer per query, in query order. Per-partition errors stay in errorCode. */
export async function listOffsets(client: KafkaClient, queries: readonly OffsetQuery[]): Promise<OffsetAnswer[]> {
  if (queries.length === 0) return [];
  const md = await client.metadata([...new Set(queries.map((q) => q.topic))]);
  const answers = new Map<string, OffsetAnswer>();
  await Promise.all(
    [...groupByLeader(md, queries)].map(async ([leader, list]) => {
      const conn = await client.node(leader);
      const byTopic = groupByTopic(list);
      const body = await conn.request(ApiKey.ListOffsets, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...byTopic].map(([name, qs]) => ({
          name,
          partitions: qs.map((q) => ({ partitionIndex: q.partition, currentLeaderEpoch: -1, timestamp: q.timestamp })),
        })),
      });
      for (const t of body.topics) {
        for (const p of t.partitions) {
          answers.set(tpKey(t.name, p.partitionIndex), {
            topic: t.name,
            partition: p.partitionIndex,
            errorCode: p.errorCode,
            offset: p.offset,
            timestamp: p.timestamp,
          });
        }
      }
    }),
  );
  return queries.map((q) => {
    const a = answers.get(tpKey(q.topic, q.partition));
    if (a === undefined) throw new ClientError(`the broker left ${q.topic}-${q.partition} out of its ListOffsets answer`);
    return a;
  });
}
