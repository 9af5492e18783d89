// One etcd prefix mirrored in memory: read once, then followed by a watch, with every change
// handed to the owner (a store: ACLs, SCRAM credentials, client quotas) as (key, before, after).
// Writes are read-modify-write transactions: the keys are read from etcd, the owner computes
// their new values, and the transaction requires every key read to be unchanged (its mod
// revision; 0 for an absent key). When another broker wrote one of them in between, the
// transaction fails and the whole step runs again on the fresh values — so two brokers changing
// the same key at once both land, one after the other, and neither change is lost.
//
// A write resolves once this broker's mirror has applied it (the watch reached its revision), so
// a request answered here is visible to the next request here.

import type { Logger } from '../../logger.ts';
import { type Compare, type KeyValue, type KvStore, KvStoreError, type Op, type Watch, type WatchEvent } from '../etcd/kv-store.ts';

/** One key's change: null before = created, null after = deleted. */
export interface MirrorChange {
  readonly key: string;
  readonly before: string | null;
  readonly after: string | null;
}

/** Attempts of one read-modify-write before giving up (each conflict means someone else's write landed). */
const MAX_ATTEMPTS = 20;
/** etcd refuses a transaction with more than 128 operations (`--max-txn-ops`); a write touches at most this many keys. */
export const MAX_KEYS_PER_WRITE = 100;
/** How long a write waits for the watch to bring it back before answering anyway (it is committed). */
const APPLY_WAIT_MS = 10_000;

export class PrefixMirror {
  readonly prefix: string;
  private readonly store: KvStore;
  private readonly logger: Logger;
  private readonly onChanges: (changes: readonly MirrorChange[]) => void;
  private readonly entries = new Map<string, KeyValue>();
  /** The etcd revision the mirror is consistent at. */
  revision = 0;
  private watch: Watch | null = null;
  private readonly waiters: Array<{ revision: number; resolve: () => void }> = [];
  private closed = false;

  constructor(store: KvStore, prefix: string, logger: Logger, onChanges: (changes: readonly MirrorChange[]) => void) {
    this.store = store;
    this.prefix = prefix;
    this.logger = logger;
    this.onChanges = onChanges;
  }

  /** Reads the prefix (telling the owner what differs from what it had), then follows it. */
  async start(): Promise<void> {
    const { kvs, revision } = await this.store.range(this.prefix);
    if (this.closed) return;
    const changes: MirrorChange[] = [];
    const seen = new Set<string>();
    for (const kv of kvs) {
      seen.add(kv.key);
      const before = this.entries.get(kv.key)?.value ?? null;
      this.entries.set(kv.key, kv);
      if (before !== kv.value) changes.push({ key: kv.key, before, after: kv.value });
    }
    for (const [key, kv] of this.entries) {
      if (seen.has(key)) continue;
      this.entries.delete(key);
      changes.push({ key, before: kv.value, after: null });
    }
    this.advance(revision, changes);
    this.watch = this.store.watch(this.prefix, revision + 1, {
      onEvents: (events, at) => this.applyEvents(events, at),
      onError: (err) => {
        if (this.closed) return;
        this.logger.warn({ err, prefix: this.prefix }, 'etcd watch lost its place; reading the prefix again');
        this.watch = null;
        void this.start().catch((e: unknown) => this.logger.error({ err: e, prefix: this.prefix }, 'reading the prefix again failed'));
      },
    });
  }

  close(): void {
    this.closed = true;
    this.watch?.close();
    this.watch = null;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Every key and value under the prefix, in key order as etcd listed them (new keys last). */
  values(): IterableIterator<KeyValue> {
    return this.entries.values();
  }

  /**
   * Read-modify-write of `keys` (at most MAX_KEYS_PER_WRITE): `compute` gets their current
   * values (null: absent) and returns the new ones (null: delete; a key left out stays as it is).
   * Retried on conflict; resolves once the mirror has applied the write. `compute` may throw
   * (the write is then abandoned) and must be a pure function of what it is given.
   */
  async update(keys: readonly string[], compute: (current: ReadonlyMap<string, string | null>) => ReadonlyMap<string, string | null>): Promise<void> {
    if (keys.length > MAX_KEYS_PER_WRITE) throw new Error(`BUG: one etcd write of ${keys.length} keys (at most ${MAX_KEYS_PER_WRITE})`);
    for (let attempt = 1; ; attempt++) {
      const read = await Promise.all(keys.map((key) => this.store.get(key)));
      const current = new Map(keys.map((key, i) => [key, read[i]?.value ?? null]));
      const next = compute(current);
      const ops: Op[] = [];
      for (const [key, value] of next) {
        if (value === (current.get(key) ?? null)) continue;
        ops.push(value === null ? { delete: { key } } : { put: { key, value } });
      }
      if (ops.length === 0) {
        // Nothing to change: still let this broker catch up with what was read.
        await this.waitForRevision(Math.max(0, ...read.map((kv) => kv?.modRevision ?? 0)));
        return;
      }
      const compares: Compare[] = keys.map((key, i) => ({ key, target: 'modRevision', result: 'equal', value: read[i]?.modRevision ?? 0 }));
      const result = await this.store.txn(compares, ops);
      if (result.succeeded) {
        await this.waitForRevision(result.revision);
        return;
      }
      if (attempt >= MAX_ATTEMPTS)
        throw new KvStoreError(`etcd: ${keys.length} key(s) under ${this.prefix} kept changing under ${MAX_ATTEMPTS} attempts to write them`);
      // Someone else's write landed first: read again, after a short random pause so that two
      // writers in step do not collide again.
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }

  /** Resolves once the mirror has seen `revision` (or after APPLY_WAIT_MS: the write is committed either way). */
  waitForRevision(revision: number): Promise<void> {
    if (this.revision >= revision || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn({ prefix: this.prefix, revision, at: this.revision }, 'an etcd write was not seen by the watch in time');
        resolve();
      }, APPLY_WAIT_MS);
      timer.unref();
      this.waiters.push({
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private applyEvents(events: readonly WatchEvent[], revision: number): void {
    if (this.closed) return;
    const changes: MirrorChange[] = [];
    for (const { type, kv } of events) {
      const before = this.entries.get(kv.key)?.value ?? null;
      if (type === 'delete') this.entries.delete(kv.key);
      else this.entries.set(kv.key, kv);
      const after = type === 'delete' ? null : kv.value;
      if (before !== after) changes.push({ key: kv.key, before, after });
    }
    this.advance(Math.max(revision, events[events.length - 1].kv.modRevision), changes);
  }

  private advance(revision: number, changes: readonly MirrorChange[]): void {
    this.revision = Math.max(this.revision, revision);
    if (changes.length > 0) {
      try {
        this.onChanges(changes);
      } catch (err) {
        this.logger.error({ err, prefix: this.prefix }, 'applying changes from etcd failed');
      }
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w.revision <= this.revision) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}
