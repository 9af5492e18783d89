// Kafka's "range" assignor (the Java consumer's long-time default), run by the group leader.
// Per topic, independently: sort the members subscribed to it (by group instance id when both
// have one, static members first, otherwise by member id — Kafka's MemberInfo order), then give
// each a contiguous range; the first `partitions % members` members get one extra partition.
// E.g. 7 partitions over 3 members: [0,1,2] [3,4] [5,6]. Topics unknown to the cluster are skipped.

import type { TopicPartitions } from './consumer-protocol.ts';

export const RANGE_ASSIGNOR_NAME = 'range';

export interface AssignorMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly topics: readonly string[];
}

function compareMembers(a: AssignorMember, b: AssignorMember): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

// UTF-16 code unit order, as Java's String.compareTo (not locale order).
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Returns every member's assignment (members that get nothing map to an empty list), topics in
 * name order, partitions ascending.
 */
export function assignRange(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartitions[]> {
  const result = new Map<string, TopicPartitions[]>();
  for (const m of members) result.set(m.memberId, []);

  const subscribers = new Map<string, AssignorMember[]>();
  for (const m of members) {
    for (const topic of new Set(m.topics)) {
      let list = subscribers.get(topic);
      if (list === undefined) subscribers.set(topic, (list = []));
      list.push(m);
    }
  }

  for (const topic of [...subscribers.keys()].sort(compareStrings)) {
    const count = partitionCounts.get(topic);
    if (count === undefined || count <= 0) continue;
    const consumers = subscribers.get(topic)!.slice().sort(compareMembers);
    const perConsumer = Math.floor(count / consumers.length);
    const extra = count % consumers.length;
    consumers.forEach((consumer, i) => {
      const start = perConsumer * i + Math.min(i, extra);
      const length = perConsumer + (i < extra ? 1 : 0);
      if (length === 0) return;
      const partitions = Array.from({ length }, (_, k) => start + k);
      result.get(consumer.memberId)!.push({ topic, partitions });
    });
  }
  return result;
}
