// The checker (in the spirit of Jepsen's `queue` workload checks): reads a history of what the
// clients did and saw, and reports every anomaly by class. Pure: no I/O, so it is tested on
// histories with planted anomalies (checker.test.ts).
//
// The queue's checks are here; the consumer group's, the transactions' and list-append's are in
// checker-workloads.ts (same history, same report).
//
// Values are `p<producer>-<seq>`: each producer sends one record at a time (its sequence number
// increases by one per send) and never sends a value again, so a value found at two offsets is a
// duplicate, and within a partition one producer's values must appear in sequence order.

import { checkWorkloads, WORKLOAD_ANOMALY_CLASSES, type WorkloadCounts, type WorkloadEvent } from './checker-workloads.ts';

/** A producer started sending `value` to `partition`. */
export interface SendEvent {
  readonly f: 'send';
  readonly t: number;
  readonly producer: number;
  readonly partition: number;
  readonly value: string;
}
/** acks=all acknowledged `value` at `offset`. */
export interface AckEvent {
  readonly f: 'ack';
  readonly t: number;
  readonly producer: number;
  readonly partition: number;
  readonly value: string;
  readonly offset: number;
}
/** The send failed or timed out: the record may or may not be in the log (indeterminate). */
export interface FailEvent {
  readonly f: 'fail';
  readonly t: number;
  readonly producer: number;
  readonly partition: number;
  readonly value: string;
  readonly error: string;
}
/** A consumer's poll during the run returned `value` at `offset`. */
export interface ReadEvent {
  readonly f: 'read';
  readonly t: number;
  readonly reader: number;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}
/** The final read after every fault healed: the partition's whole log, from its leader. */
export interface FinalEvent {
  readonly f: 'final';
  readonly t: number;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

export type HistoryEvent = SendEvent | AckEvent | FailEvent | ReadEvent | FinalEvent | WorkloadEvent;

export const ANOMALY_CLASSES = [
  /** Acknowledged, absent from the final read. */
  'lostAcknowledged',
  /** A value at more than one offset (an idempotent producer may produce none). */
  'duplicates',
  /** One producer's values out of sequence order within a partition. */
  'reordered',
  /** The same offset seen with two different values (acknowledgement, polls, final read). */
  'inconsistentOffsets',
  /** Acknowledged at one offset, found at another. */
  'movedAcknowledged',
  /** A consumer's successive polls of a partition going backwards or repeating an offset. */
  'nonMonotonicPolls',
  /** Offsets missing between a consumer's successive records, or in the final read. */
  'skippedOffsets',
  /** A value no producer ever sent. */
  'unknownValues',
  ...WORKLOAD_ANOMALY_CLASSES,
] as const;
export type AnomalyClass = (typeof ANOMALY_CLASSES)[number];

export interface CheckReport {
  readonly acknowledged: number;
  /** Sends that failed or timed out (may or may not be in the log: not anomalies). */
  readonly indeterminate: number;
  /** Indeterminate sends found in the final read. */
  readonly indeterminateFound: number;
  readonly finalRecords: number;
  readonly polledRecords: number;
  /** What the group, transactional and list-append workloads did. */
  readonly workloads: WorkloadCounts;
  readonly counts: Record<AnomalyClass, number>;
  readonly anomalies: number;
  /** Up to 20 examples per class, for the report. */
  readonly examples: Record<AnomalyClass, string[]>;
}

function parseValue(value: string): { producer: number; seq: number } | null {
  const m = /^p(\d+)-(\d+)$/.exec(value);
  return m === null ? null : { producer: Number(m[1]), seq: Number(m[2]) };
}

export function check(history: readonly HistoryEvent[]): CheckReport {
  const counts = Object.fromEntries(ANOMALY_CLASSES.map((c) => [c, 0])) as Record<AnomalyClass, number>;
  const examples = Object.fromEntries(ANOMALY_CLASSES.map((c) => [c, [] as string[]])) as Record<AnomalyClass, string[]>;
  const report = (cls: AnomalyClass, what: string) => {
    counts[cls]++;
    if (examples[cls].length < 20) examples[cls].push(what);
  };

  const sent = new Set<string>();
  const acks: AckEvent[] = [];
  const failed = new Set<string>();
  const finalByPartition = new Map<number, FinalEvent[]>();
  const readsByReaderPartition = new Map<string, ReadEvent[]>();
  let polledRecords = 0;
  for (const e of history) {
    if (e.f === 'send') sent.add(e.value);
    else if (e.f === 'ack') acks.push(e);
    else if (e.f === 'fail') failed.add(e.value);
    else if (e.f === 'final') {
      const list = finalByPartition.get(e.partition) ?? [];
      list.push(e);
      finalByPartition.set(e.partition, list);
    } else if (e.f === 'read') {
      polledRecords++;
      const key = `${e.reader}/${e.partition}`;
      const list = readsByReaderPartition.get(key) ?? [];
      list.push(e);
      readsByReaderPartition.set(key, list);
    }
  }

  // What each offset held, from every observation.
  const seenAt = new Map<string, Map<string, string>>(); // "partition:offset" -> value -> first source
  const observe = (partition: number, offset: number, value: string, source: string) => {
    const key = `${partition}:${offset}`;
    const values = seenAt.get(key) ?? new Map<string, string>();
    if (!values.has(value)) values.set(value, source);
    seenAt.set(key, values);
  };
  for (const a of acks) observe(a.partition, a.offset, a.value, `ack t=${a.t}`);
  for (const list of readsByReaderPartition.values()) for (const r of list) observe(r.partition, r.offset, r.value, `reader ${r.reader} t=${r.t}`);
  for (const list of finalByPartition.values()) for (const f of list) observe(f.partition, f.offset, f.value, 'final read');
  for (const e of history) if (e.f === 'gpoll') observe(e.partition, e.offset, e.value, `group consumer ${e.consumer} t=${e.t}`);
  for (const [key, values] of seenAt) {
    if (values.size > 1) report('inconsistentOffsets', `offset ${key}: ${[...values].map(([v, src]) => `${v} (${src})`).join(' vs ')}`);
  }

  // The final read: where each value is, gaps, duplicates, order per producer.
  const finalAt = new Map<string, Array<{ partition: number; offset: number }>>();
  let finalRecords = 0;
  for (const [partition, list] of finalByPartition) {
    list.sort((a, b) => a.offset - b.offset);
    let expected = list.length > 0 ? list[0].offset : 0;
    const lastSeq = new Map<number, { seq: number; offset: number }>();
    for (const f of list) {
      finalRecords++;
      if (f.offset !== expected) report('skippedOffsets', `final read of partition ${partition}: offsets ${expected}..${f.offset - 1} missing`);
      expected = f.offset + 1;
      const at = finalAt.get(f.value) ?? [];
      at.push({ partition, offset: f.offset });
      finalAt.set(f.value, at);
      const parsed = parseValue(f.value);
      if (parsed === null || !sent.has(f.value)) {
        report('unknownValues', `partition ${partition} offset ${f.offset}: ${JSON.stringify(f.value)}`);
        continue;
      }
      const prev = lastSeq.get(parsed.producer);
      if (prev !== undefined && parsed.seq <= prev.seq) {
        report('reordered', `partition ${partition}: ${f.value} at ${f.offset} after p${parsed.producer}-${prev.seq} at ${prev.offset}`);
      }
      lastSeq.set(parsed.producer, { seq: parsed.seq, offset: f.offset });
    }
  }
  for (const [value, at] of finalAt) {
    if (at.length > 1) report('duplicates', `${value} at ${at.map((x) => `${x.partition}:${x.offset}`).join(', ')}`);
  }

  for (const a of acks) {
    const at = finalAt.get(a.value);
    if (at === undefined) report('lostAcknowledged', `${a.value} acknowledged at ${a.partition}:${a.offset} (t=${a.t} ms)`);
    else if (!at.some((x) => x.partition === a.partition && x.offset === a.offset)) {
      report('movedAcknowledged', `${a.value} acknowledged at ${a.partition}:${a.offset}, found at ${at.map((x) => `${x.partition}:${x.offset}`).join(', ')}`);
    }
  }

  // Each consumer's polls of a partition: strictly increasing, contiguous offsets.
  for (const [key, list] of readsByReaderPartition) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const cur = list[i];
      if (cur.offset <= prev.offset)
        report('nonMonotonicPolls', `reader/partition ${key}: offset ${cur.offset} (t=${cur.t}) after ${prev.offset} (t=${prev.t})`);
      else if (cur.offset !== prev.offset + 1) report('skippedOffsets', `reader/partition ${key}: ${prev.offset} then ${cur.offset} (t=${cur.t})`);
    }
    for (const r of list) if (!sent.has(r.value)) report('unknownValues', `reader/partition ${key} offset ${r.offset}: ${JSON.stringify(r.value)}`);
  }

  const workloads = checkWorkloads(history as readonly WorkloadEvent[], report);

  let indeterminateFound = 0;
  for (const v of failed) if (finalAt.has(v)) indeterminateFound++;
  const anomalies = Object.values(counts).reduce((a, b) => a + b, 0);
  return { acknowledged: acks.length, indeterminate: failed.size, indeterminateFound, finalRecords, polledRecords, workloads, counts, anomalies, examples };
}
