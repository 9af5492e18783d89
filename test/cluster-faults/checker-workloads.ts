// The checker's parts for the workloads beyond the queue (checker.ts calls them): a consumer
// group committing offsets, transactional producers with read_committed consumers, and
// list-append. Pure, like checker.ts; checker.test.ts plants each anomaly.

/** A group consumer (re)joined: its polls after this are a new session (it restarts from the committed offsets). */
export interface JoinEvent {
  readonly f: 'join';
  readonly t: number;
  readonly consumer: number;
  readonly session: number;
}
/** A group consumer's kafkajs runner crashed (diagnosis; `restart`: kafkajs restarts it itself). */
export interface GroupCrashEvent {
  readonly f: 'gcrash';
  readonly t: number;
  readonly consumer: number;
  readonly session: number;
  readonly error: string;
  readonly restart: boolean;
}
/** A group consumer's poll returned `value` at `offset` of the queue topic. */
export interface GroupPollEvent {
  readonly f: 'gpoll';
  readonly t: number;
  readonly consumer: number;
  readonly session: number;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  /** The offset the consumer's Fetch asked for (kafkajs's `batch.fetchedOffset`). */
  readonly fetched?: number;
}
/** A group consumer committed `offset` (the next one to read) for `partition`: sent at `sent`, answered at `t`. */
export interface CommitEvent {
  readonly f: 'commit';
  readonly t: number;
  readonly sent: number;
  readonly consumer: number;
  readonly partition: number;
  readonly offset: number;
  readonly ok: boolean;
}
/** The group's committed offset for `partition` as OffsetFetch answered it (asked at `sent`); `final` after the faults. */
export interface CommittedEvent {
  readonly f: 'committed';
  readonly t: number;
  readonly sent: number;
  readonly partition: number;
  readonly offset: number;
  readonly final: boolean;
  /** The broker that answered as the group's coordinator. */
  readonly from?: number;
}

/** A transaction's records (topic `txn`) and how it ended, as its producer saw it. */
export interface TxnEvent {
  readonly f: 'txn';
  readonly t: number;
  readonly id: string;
  readonly records: ReadonlyArray<{ partition: number; value: string }>;
  /** committed / aborted: the coordinator answered EndTxn; indeterminate: it failed or timed out. */
  readonly outcome: 'committed' | 'aborted' | 'indeterminate';
  /** Why it did not end as intended (a failed send or end), for the report. */
  readonly error?: string;
}
/** A read_committed consumer saw `value` at `offset` of the `txn` topic. */
export interface TxnReadEvent {
  readonly f: 'tread';
  readonly t: number;
  readonly reader: number;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  /** The broker that answered (the harness's own read_committed reader knows it). */
  readonly from?: number;
  /**
   * 'kafkajs': a kafkajs consumer's, whose client-side filtering is known to let aborted records
   * through (it starts at most one aborted transaction per record and expects the broker's list
   * sorted by first offset, which Kafka does not promise): counted apart, not an anomaly. The
   * harness's own reader filters as Kafka's Java client does (fetchCommitted).
   */
  readonly client?: 'kafkajs';
}
/** The final read of the `txn` topic: each data record with its transaction's fate from the log's markers, visible if committed and below the last stable offset. */
export interface TxnFinalEvent {
  readonly f: 'tfinal';
  readonly t: number;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  readonly state: 'committed' | 'aborted' | 'open';
  readonly visible: boolean;
}

/** An append of `value` to the list under `key` (topic `append`): acknowledged at `offset`, or failed. */
export interface AppendEvent {
  readonly f: 'append';
  readonly t: number;
  readonly key: string;
  readonly value: string;
  /** null: failed or timed out (indeterminate). */
  readonly offset: number | null;
}
/** A reader's next element of the list under `key`: its `index`-th value of that key, in log order. */
export interface AppendReadEvent {
  readonly f: 'aread';
  readonly t: number;
  readonly reader: number;
  readonly key: string;
  readonly index: number;
  readonly value: string;
}
/** The final list under `key`, in log order. */
export interface AppendFinalEvent {
  readonly f: 'afinal';
  readonly t: number;
  readonly key: string;
  readonly values: readonly string[];
}

export type WorkloadEvent =
  | JoinEvent
  | GroupCrashEvent
  | GroupPollEvent
  | CommitEvent
  | CommittedEvent
  | TxnEvent
  | TxnReadEvent
  | TxnFinalEvent
  | AppendEvent
  | AppendReadEvent
  | AppendFinalEvent;

export const WORKLOAD_ANOMALY_CLASSES = [
  /** A commit or an OffsetFetch answer lower than a commit acknowledged before it was sent. */
  'committedOffsetsBackwards',
  /** A group consumer's polls of a partition going back or repeating within one session. */
  'groupNonMonotonicPolls',
  /** A gap between a group consumer's polls within a session, a session not starting at the committed offset, or an offset below the final committed offset no member ever polled. */
  'groupSkippedOffsets',
  /** A read_committed consumer saw a record of an aborted transaction. */
  'abortedVisible',
  /** After the faults, some records of a transaction visible and others not. */
  'partialTransaction',
  /** A transaction whose commit was acknowledged, none of it visible after the faults. */
  'committedMissing',
  /** A list read that is not a prefix of the key's final list (the per-key order contradicted). */
  'appendOrderViolation',
  /** An acknowledged append absent from the final list of its key. */
  'appendLost',
] as const;
export type WorkloadAnomalyClass = (typeof WORKLOAD_ANOMALY_CLASSES)[number];

export interface WorkloadCounts {
  groupPolls: number;
  commits: number;
  transactions: Record<'committed' | 'aborted' | 'indeterminate', number>;
  /** Transactions still open (no marker) in the final read: they hold the last stable offset back. */
  openTransactionRecords: number;
  /** Aborted records a kafkajs read_committed consumer handed over (its filtering defect; not an anomaly of the broker). */
  kafkajsAbortedVisible: number;
  /** Batches a kafkajs group consumer handed over from a Fetch sent at another position than its own (its defect; see staleBatch). */
  kafkajsStaleBatches: number;
  appends: number;
  appendReads: number;
}

type Report = (cls: WorkloadAnomalyClass, what: string) => void;

function groupBy<T>(items: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = out.get(k);
    if (list === undefined) out.set(k, [x]);
    else list.push(x);
  }
  return out;
}

/**
 * A batch kafkajs handed over although it was fetched from an offset other than the consumer's
 * position: `cur` opens a batch (its first record is at the offset its Fetch asked for) whose
 * fetch offset is at or below `prev` (a rewind; a gap is never excused), and no lower than where
 * the session may legitimately (re)start, the highest commit acknowledged before it joined. The
 * fetch offset is the client's own (kafkajs's `batch.fetchedOffset`), so a rewind of it is the
 * client's doing. How kafkajs does it: one fetcher per broker, concurrently; a fetcher that meets
 * stale metadata rejoins the group (kafkajs's recoverFromFetch) while the others keep fetching
 * with the old generation's positions; once synced, its fresh offset manager fetches from the
 * committed offset, and a Fetch sent before the sync, from the old position, still answers and is
 * handed over in the new session: N (old position), then N-1 (committed) again. Kafka's Java
 * client drops a fetch response whose offset is not the partition's position. The long run's two
 * groupNonMonotonicPolls (right after disk-full episodes, where commits fail while the
 * coordinator's disk is full, so the committed offset trails the position) have this shape.
 */
function staleBatch(prev: GroupPollEvent, cur: GroupPollEvent, sessionFloor: number): boolean {
  return cur.fetched !== undefined && cur.offset === cur.fetched && cur.fetched <= prev.offset && cur.fetched >= sessionFloor;
}

/** Consumer group: commits never go back, polls within a session advance one offset at a time from the committed offset, every offset below the final commit was polled by some member. */
export function checkGroup(history: readonly WorkloadEvent[], report: Report, counts: WorkloadCounts): void {
  const commits = history.filter((e): e is CommitEvent => e.f === 'commit' && e.ok);
  const observed = history.filter((e): e is CommittedEvent => e.f === 'committed');
  const polls = history.filter((e): e is GroupPollEvent => e.f === 'gpoll');
  const joins = new Map<string, JoinEvent>();
  const commitSent = new Map<string, number>(); // "partition:offset" -> earliest send of a commit there
  for (const e of history) {
    if (e.f === 'join') joins.set(`${e.consumer}/${e.session}`, e);
    else if (e.f === 'commit') {
      const k = `${e.partition}:${e.offset}`;
      commitSent.set(k, Math.min(commitSent.get(k) ?? Number.POSITIVE_INFINITY, e.sent));
    }
  }
  // Real-time order: a commit or a read of the committed offset sent after commit A was answered must not be below A.
  for (const [partition, list] of groupBy(commits, (c) => String(c.partition))) {
    const byAnswer = [...list].sort((a, b) => a.t - b.t);
    const later = [...list.map((c) => ({ sent: c.sent, offset: c.offset, what: `commit by consumer ${c.consumer}` }))];
    for (const o of observed.filter((x) => String(x.partition) === partition))
      later.push({
        sent: o.sent,
        offset: o.offset,
        what: `${o.final ? 'final OffsetFetch' : 'OffsetFetch'}${o.from === undefined ? '' : ` from broker ${o.from}`}`,
      });
    later.sort((a, b) => a.sent - b.sent);
    let i = 0;
    let highest: CommitEvent | null = null;
    for (const l of later) {
      while (i < byAnswer.length && byAnswer[i].t < l.sent) {
        if (highest === null || byAnswer[i].offset > highest.offset) highest = byAnswer[i];
        i++;
      }
      if (highest !== null && l.offset < highest.offset)
        report(
          'committedOffsetsBackwards',
          `partition ${partition}: ${l.what} of ${l.offset} (sent t=${l.sent}) after a commit of ${highest.offset} acknowledged at t=${highest.t}`,
        );
    }
  }
  // Within a session: strictly increasing, contiguous (the queue topic has no control records),
  // except across a stale batch (staleBatch), which restarts the comparison.
  for (const [key, list] of groupBy(polls, (p) => `${p.consumer}/${p.session}/${p.partition}`)) {
    const join = joins.get(`${list[0].consumer}/${list[0].session}`);
    const before = join === undefined ? 0 : commits.filter((c) => c.partition === list[0].partition && c.t < join.t).reduce((m, c) => Math.max(m, c.offset), 0);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const cur = list[i];
      if (staleBatch(prev, cur, before)) {
        counts.kafkajsStaleBatches++;
        continue;
      }
      if (cur.offset <= prev.offset)
        report('groupNonMonotonicPolls', `consumer/session/partition ${key}: offset ${cur.offset} (t=${cur.t}) after ${prev.offset}`);
      else if (cur.offset !== prev.offset + 1)
        report('groupSkippedOffsets', `consumer/session/partition ${key}: ${prev.offset} then ${cur.offset} (t=${cur.t})`);
    }
    // A session starts at most where the group's acknowledged commits stood when it joined,
    // unless some commit (answered or not: its answer may have been lost) sent before the poll
    // names exactly that offset.
    const first = list[0];
    if (join !== undefined) {
      const sent = commitSent.get(`${first.partition}:${first.offset}`);
      if (first.offset > before && !(sent !== undefined && sent <= first.t))
        report('groupSkippedOffsets', `consumer/session/partition ${key}: started at ${first.offset}, the committed offset was ${before}`);
    }
  }
  // Every offset below the group's final committed offset was polled by some member.
  const polled = new Set(polls.map((p) => `${p.partition}:${p.offset}`));
  for (const o of observed.filter((x) => x.final)) {
    let missing = 0;
    let firstMissing = -1;
    for (let offset = 0; offset < o.offset; offset++) {
      if (!polled.has(`${o.partition}:${offset}`)) {
        if (firstMissing < 0) firstMissing = offset;
        missing++;
      }
    }
    if (missing > 0)
      report(
        'groupSkippedOffsets',
        `partition ${o.partition}: ${missing} offsets below the final commit ${o.offset} never polled by the group (first ${firstMissing})`,
      );
  }
}

/** Transactions: read_committed never shows an aborted record; after the faults each transaction is all visible or none, and an acknowledged commit is visible. */
export function checkTransactions(history: readonly WorkloadEvent[], report: Report, counts: WorkloadCounts): void {
  const txns = history.filter((e): e is TxnEvent => e.f === 'txn');
  const finals = new Map<string, TxnFinalEvent>();
  for (const e of history) if (e.f === 'tfinal') finals.set(e.value, e);
  const txnOf = new Map<string, TxnEvent>();
  for (const t of txns) {
    counts.transactions[t.outcome]++;
    for (const r of t.records) txnOf.set(r.value, t);
  }
  counts.openTransactionRecords = [...finals.values()].filter((f) => f.state === 'open').length;
  for (const e of history) {
    if (e.f !== 'tread') continue;
    const t = txnOf.get(e.value);
    const fate = finals.get(e.value);
    if (t?.outcome !== 'aborted' && fate?.state !== 'aborted') continue;
    if (e.client === 'kafkajs') counts.kafkajsAbortedVisible++;
    else
      report(
        'abortedVisible',
        `reader ${e.reader} saw ${e.value} at ${e.partition}:${e.offset} (t=${e.t}); its transaction ${t?.outcome ?? '?'}, in the log ${fate?.state ?? 'absent'}`,
      );
  }
  for (const t of txns) {
    const visible = t.records.filter((r) => finals.get(r.value)?.visible === true);
    if (visible.length > 0 && visible.length < t.records.length)
      report(
        'partialTransaction',
        `transaction ${t.id} (${t.outcome}): ${visible.length} of ${t.records.length} records visible; hidden: ${t.records
          .filter((r) => finals.get(r.value)?.visible !== true)
          .map((r) => `${r.value} (${finals.get(r.value)?.state ?? 'absent'})`)
          .join(', ')}`,
      );
    else if (t.outcome === 'committed' && visible.length === 0)
      report(
        'committedMissing',
        `transaction ${t.id} committed at t=${t.t}: ${t.records.map((r) => `${r.value} (${finals.get(r.value)?.state ?? 'absent'})`).join(', ')}`,
      );
    if (t.outcome === 'aborted' && visible.length === t.records.length && t.records.length > 0)
      report('abortedVisible', `transaction ${t.id} aborted at t=${t.t}, visible in the final read`);
  }
}

/** List-append: every reader's list of a key is a prefix of the key's final list; acknowledged appends are in it. */
export function checkAppend(history: readonly WorkloadEvent[], report: Report, counts: WorkloadCounts): void {
  const finals = new Map<string, readonly string[]>();
  const finalValues = new Set<string>();
  for (const e of history) {
    if (e.f !== 'afinal') continue;
    finals.set(e.key, e.values);
    for (const v of e.values) finalValues.add(`${e.key}\u0000${v}`);
  }
  for (const e of history) {
    if (e.f === 'append') {
      counts.appends++;
      if (e.offset !== null && !finalValues.has(`${e.key}\u0000${e.value}`))
        report('appendLost', `${e.key} += ${e.value} acknowledged at offset ${e.offset} (t=${e.t})`);
    } else if (e.f === 'aread') {
      counts.appendReads++;
      const final = finals.get(e.key) ?? [];
      if (final[e.index] !== e.value)
        report(
          'appendOrderViolation',
          `reader ${e.reader} read ${e.key}[${e.index}] = ${e.value} (t=${e.t}); the final list has ${final[e.index] ?? 'nothing'} there`,
        );
    }
  }
}

export function checkWorkloads(history: readonly WorkloadEvent[], report: Report): WorkloadCounts {
  const counts: WorkloadCounts = {
    groupPolls: history.filter((e) => e.f === 'gpoll').length,
    commits: history.filter((e) => e.f === 'commit' && e.ok).length,
    transactions: { committed: 0, aborted: 0, indeterminate: 0 },
    openTransactionRecords: 0,
    kafkajsAbortedVisible: 0,
    kafkajsStaleBatches: 0,
    appends: 0,
    appendReads: 0,
  };
  checkGroup(history, report, counts);
  checkTransactions(history, report, counts);
  checkAppend(history, report, counts);
  return counts;
}
