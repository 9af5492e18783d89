// The server-side assignors of KIP-848 consumer groups (`group.consumer.assignors`, the client's
// pick through `group.remote.assignor`): they compute the group's target assignment from the
// members' subscriptions and the subscribed topics' partitions.
//
//   uniform (Kafka's default)  every partition to one subscribed member, members' partition counts
//                              as even as their subscriptions allow (within one partition when all
//                              subscribe to the same topics), sticky: a member keeps the target
//                              partitions it had as long as that stays balanced.
//   range                      per topic, the subscribed members in member-id order each get a
//                              contiguous range of partitions, the first (partitions % members)
//                              one more, so co-partitioned topics line up (Kafka's RangeAssignor).
//
// Both are deterministic for a given input (members are visited in member-id order). Kafka's
// uniform assignor reaches the same balance with different tie-breaks and its range assignor
// adds stickiness for the case where the member set grows; the assignments differ in detail,
// never in what a client relies on (each partition once, balanced, only subscribed topics).
// Rack awareness is not implemented: the rack id is kept and described, not used.

import type { Assignment, TopicImage } from './consumer-group.ts';

export interface AssignmentMember {
  readonly memberId: string;
  /** Ids of the subscribed topics that exist. */
  readonly subscribedTopicIds: ReadonlySet<string>;
  /** The member's previous target assignment (the sticky starting point). */
  readonly previous: Assignment;
}

export interface Assignor {
  readonly name: string;
  assign(members: readonly AssignmentMember[], topics: ReadonlyMap<string, TopicImage>): Map<string, Assignment>;
}

export const UNIFORM_ASSIGNOR = 'uniform';
export const RANGE_ASSIGNOR = 'range';
export const ASSIGNOR_NAMES: readonly string[] = [UNIFORM_ASSIGNOR, RANGE_ASSIGNOR];

/** Kafka also accepts its assignor class names in `group.consumer.assignors`. */
const CLASS_NAMES: Readonly<Record<string, string>> = {
  'org.apache.kafka.coordinator.group.assignor.UniformAssignor': UNIFORM_ASSIGNOR,
  'org.apache.kafka.coordinator.group.assignor.RangeAssignor': RANGE_ASSIGNOR,
  'org.apache.kafka.coordinator.group.api.assignor.UniformAssignor': UNIFORM_ASSIGNOR,
  'org.apache.kafka.coordinator.group.api.assignor.RangeAssignor': RANGE_ASSIGNOR,
};

/** The assignor a `group.consumer.assignors` entry names, or null when it names none we have. */
export function assignorName(configured: string): string | null {
  const name = CLASS_NAMES[configured] ?? configured;
  return ASSIGNOR_NAMES.includes(name) ? name : null;
}

export function createAssignor(name: string): Assignor {
  if (name === UNIFORM_ASSIGNOR) return { name, assign: assignUniform };
  if (name === RANGE_ASSIGNOR) return { name, assign: assignRange };
  throw new Error(`BUG: no assignor named ${name}`);
}

type Builder = Map<string, Map<string, Set<number>>>;

function toAssignments(members: readonly AssignmentMember[], built: Builder): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  for (const m of members) {
    const topics = built.get(m.memberId) ?? new Map<string, Set<number>>();
    const assignment = new Map<string, ReadonlySet<number>>();
    for (const [topic, partitions] of topics) if (partitions.size > 0) assignment.set(topic, partitions);
    out.set(m.memberId, assignment);
  }
  return out;
}

function byMemberId(members: readonly AssignmentMember[]): AssignmentMember[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

function assignRange(members: readonly AssignmentMember[], topics: ReadonlyMap<string, TopicImage>): Map<string, Assignment> {
  const built: Builder = new Map(members.map((m) => [m.memberId, new Map()]));
  const sorted = byMemberId(members);
  for (const [topicId, topic] of topics) {
    const subscribers = sorted.filter((m) => m.subscribedTopicIds.has(topicId));
    if (subscribers.length === 0) continue;
    const base = Math.floor(topic.partitionCount / subscribers.length);
    const extra = topic.partitionCount % subscribers.length;
    let next = 0;
    subscribers.forEach((m, i) => {
      const count = base + (i < extra ? 1 : 0);
      const partitions = new Set<number>();
      for (let k = 0; k < count; k++) partitions.add(next++);
      built.get(m.memberId)!.set(topicId, partitions);
    });
  }
  return toAssignments(members, built);
}

function assignUniform(members: readonly AssignmentMember[], topics: ReadonlyMap<string, TopicImage>): Map<string, Assignment> {
  const sorted = byMemberId(members);
  const built: Builder = new Map(sorted.map((m) => [m.memberId, new Map()]));
  const counts = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
  const owner = new Map<string, string>(); // "topicId:partition" -> memberId
  const key = (topic: string, p: number) => `${topic}:${p}`;
  const give = (memberId: string, topic: string, p: number) => {
    const topicsOf = built.get(memberId)!;
    let set = topicsOf.get(topic);
    if (set === undefined) {
      set = new Set();
      topicsOf.set(topic, set);
    }
    set.add(p);
    counts.set(memberId, counts.get(memberId)! + 1);
    owner.set(key(topic, p), memberId);
  };
  const take = (memberId: string, topic: string, p: number) => {
    built.get(memberId)!.get(topic)!.delete(p);
    counts.set(memberId, counts.get(memberId)! - 1);
    owner.delete(key(topic, p));
  };
  // Sticky start: previous partitions that still exist and are still subscribed.
  for (const m of sorted) {
    for (const [topic, partitions] of m.previous) {
      const image = topics.get(topic);
      if (image === undefined || !m.subscribedTopicIds.has(topic)) continue;
      for (const p of [...partitions].sort((a, b) => a - b)) {
        if (p < image.partitionCount && !owner.has(key(topic, p))) give(m.memberId, topic, p);
      }
    }
  }
  // Every partition goes to one subscriber; the least subscribed topics first, so members with a
  // narrow subscription are served before the wide ones fill up.
  const subscribersOf = new Map<string, AssignmentMember[]>();
  for (const topicId of topics.keys())
    subscribersOf.set(
      topicId,
      sorted.filter((m) => m.subscribedTopicIds.has(topicId)),
    );
  const topicOrder = [...topics.keys()]
    .filter((t) => subscribersOf.get(t)!.length > 0)
    .sort((a, b) => subscribersOf.get(a)!.length - subscribersOf.get(b)!.length || (a < b ? -1 : 1));
  const leastLoaded = (candidates: readonly AssignmentMember[]) =>
    candidates.reduce((best, m) => (counts.get(m.memberId)! < counts.get(best.memberId)! ? m : best));
  for (const topic of topicOrder) {
    const candidates = subscribersOf.get(topic)!;
    for (let p = 0; p < topics.get(topic)!.partitionCount; p++) {
      if (!owner.has(key(topic, p))) give(leastLoaded(candidates).memberId, topic, p);
    }
  }
  // Balance: move a partition from a member to a subscribed member with at least two fewer, until
  // no such move exists. Each move lowers the sum of squared counts, so this ends.
  for (let moved = true; moved; ) {
    moved = false;
    const heaviest = [...sorted].sort((a, b) => counts.get(b.memberId)! - counts.get(a.memberId)!);
    outer: for (const from of heaviest) {
      for (const [topic, partitions] of built.get(from.memberId)!) {
        const candidates = subscribersOf.get(topic) ?? [];
        if (candidates.length === 0) continue;
        const to = leastLoaded(candidates);
        if (counts.get(to.memberId)! + 1 >= counts.get(from.memberId)!) continue;
        // The highest partition moves: the lower ones, more likely kept from before, stay.
        const p = Math.max(...partitions);
        take(from.memberId, topic, p);
        give(to.memberId, topic, p);
        moved = true;
        break outer;
      }
    }
  }
  return toAssignments(members, built);
}
