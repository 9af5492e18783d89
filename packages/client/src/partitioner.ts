// Kafka's default partitioning, so a keyed record lands where the Java producer would put it:
// partition = (murmur2(keyBytes) & 0x7fffffff) % partitionCount. Records without a key use a
// sticky partition that changes whenever a batch for it is sent (Kafka's KIP-480 idea), so
// keyless records fill batches instead of spraying one record per partition.
//
// murmur2 here is Kafka's variant (Utils.murmur2): seed 0x9747b28c, m 0x5bd1e995, r 24,
// little-endian 4-byte words, the tail bytes mixed high to low.

export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const o = i * 4;
    let k = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest >= 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a key. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

/** Keyless records: one partition until told a batch was sent, then another, chosen at random. */
export class StickyPartitioner {
  private current = -1;
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  partition(partitionCount: number): number {
    if (this.current < 0 || this.current >= partitionCount) this.current = Math.floor(this.random() * partitionCount);
    return this.current;
  }

  /** A batch for `partition` was closed: move on (to a different partition when there is one). */
  batchClosed(partition: number, partitionCount: number): void {
    if (partition !== this.current) return;
    if (partitionCount <= 1) return;
    const next = Math.floor(this.random() * (partitionCount - 1));
    this.current = next >= partition ? next + 1 : next;
  }
}
