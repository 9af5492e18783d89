// Committed offsets in memory: group -> topic -> partition -> the last committed value. It holds
// exactly what replaying the offsets log yields; the offset manager changes it only after the
// matching record was appended.
//
// Concurrency: event loop only; owned by the OffsetManager (offset-manager.ts).

import type { OffsetValue } from './records.ts';

export type CommittedOffset = OffsetValue;

export interface StoredOffset {
  readonly topic: string;
  readonly partition: number;
  readonly value: CommittedOffset;
}

export class OffsetStore {
  private readonly byGroup = new Map<string, Map<string, Map<number, CommittedOffset>>>();

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(group)?.get(topic)?.get(partition);
  }

  put(group: string, topic: string, partition: number, value: CommittedOffset): void {
    let topics = this.byGroup.get(group);
    if (topics === undefined) this.byGroup.set(group, (topics = new Map()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, value);
  }

  delete(group: string, topic: string, partition: number): void {
    const topics = this.byGroup.get(group);
    const partitions = topics?.get(topic);
    if (topics === undefined || partitions === undefined) return;
    partitions.delete(partition);
    if (partitions.size === 0) topics.delete(topic);
    if (topics.size === 0) this.byGroup.delete(group);
  }

  hasOffsets(group: string): boolean {
    return this.byGroup.has(group);
  }

  /** Every committed offset of the group, topics in first-commit order, partitions likewise. */
  offsets(group: string): StoredOffset[] {
    const topics = this.byGroup.get(group);
    if (topics === undefined) return [];
    const out: StoredOffset[] = [];
    for (const [topic, partitions] of topics) {
      for (const [partition, value] of partitions) out.push({ topic, partition, value });
    }
    return out;
  }

  /** Topics with at least one committed offset in the group. */
  topics(group: string): string[] {
    return [...(this.byGroup.get(group)?.keys() ?? [])];
  }

  /** Committed partitions of one topic, in first-commit order. */
  partitions(group: string, topic: string): Array<[number, CommittedOffset]> {
    return [...(this.byGroup.get(group)?.get(topic)?.entries() ?? [])];
  }

  deleteGroup(group: string): void {
    this.byGroup.delete(group);
  }
}
