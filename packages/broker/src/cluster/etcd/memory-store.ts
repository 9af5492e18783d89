// etcd's KV, lease and watch semantics in memory (the `KvStore` seam), for unit tests of the
// cluster layer: one global revision, per-key create/mod revision and version, leases whose keys
// go when they expire or are revoked, and watches that replay history from a revision and then
// follow live. Several brokers in one test share one store, as they would share one etcd.
//
// Lease time is not real time: a lease expires when the test says so (`expireLease`), which is
// what "the broker's process stopped renewing" means to everyone else. Watch events are
// delivered on a microtask, never inside the write that caused them, as a network would.

import type { Compare, KeyValue, KvStore, Op, RangeResult, TxnResult, Watch, WatchEvent, WatchHandlers } from './kv-store.ts';

interface WatchEntry {
  readonly prefix: string;
  readonly handlers: WatchHandlers;
  /** Revision of the next event to deliver. */
  next: number;
  closed: boolean;
}

export class MemoryKvStore implements KvStore {
  private revision = 1;
  private readonly data = new Map<string, KeyValue>();
  /** Every event ever, in revision order (nothing is compacted). */
  private readonly history: WatchEvent[] = [];
  private readonly leases = new Map<string, { ttl: number; keys: Set<string> }>();
  private readonly watchers = new Set<WatchEntry>();
  private nextLease = 1000;
  private closed = false;

  /** The store's current revision. */
  get currentRevision(): number {
    return this.revision;
  }

  /** True while `lease` exists (granted, not expired or revoked). */
  hasLease(lease: string): boolean {
    return this.leases.has(lease);
  }

  /** Expires a lease as etcd does when nobody renewed it in time: its keys are deleted. */
  expireLease(lease: string): void {
    const entry = this.leases.get(lease);
    if (entry === undefined) return;
    this.leases.delete(lease);
    if (entry.keys.size === 0) return;
    this.revision++;
    for (const key of [...entry.keys].sort()) this.deleteAt(key);
    this.publish();
  }

  async get(key: string): Promise<KeyValue | null> {
    return this.data.get(key) ?? null;
  }

  async range(prefix: string): Promise<RangeResult> {
    const kvs = [...this.data.values()].filter((kv) => kv.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { kvs, revision: this.revision };
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    this.apply([{ put: { key, value, lease } }]);
    return this.revision;
  }

  async delete(key: string): Promise<number> {
    this.apply([{ delete: { key } }]);
    return this.revision;
  }

  async txn(compares: readonly Compare[], success: readonly Op[], failure: readonly Op[] = []): Promise<TxnResult> {
    const succeeded = compares.every((c) => this.holds(c));
    this.apply(succeeded ? success : failure);
    return { succeeded, revision: this.revision };
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    const id = String(this.nextLease++);
    this.leases.set(id, { ttl: ttlSeconds, keys: new Set() });
    return id;
  }

  async keepAlive(lease: string): Promise<number> {
    return this.leases.get(lease)?.ttl ?? 0;
  }

  async revokeLease(lease: string): Promise<void> {
    this.expireLease(lease);
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    const entry: WatchEntry = { prefix, handlers, next: fromRevision, closed: false };
    this.watchers.add(entry);
    queueMicrotask(() => this.deliver(entry));
    return {
      close: () => {
        entry.closed = true;
        this.watchers.delete(entry);
      },
    };
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
  }

  private holds(c: Compare): boolean {
    const kv = this.data.get(c.key);
    if (c.target === 'value') {
      if (kv === undefined) return false; // etcd: a value compare on an absent key fails
      return c.result === 'equal' ? kv.value === c.value : kv.value !== c.value;
    }
    const actual = kv === undefined ? 0 : c.target === 'version' ? kv.version : c.target === 'createRevision' ? kv.createRevision : kv.modRevision;
    switch (c.result) {
      case 'equal':
        return actual === c.value;
      case 'notEqual':
        return actual !== c.value;
      case 'greater':
        return actual > c.value;
      case 'less':
        return actual < c.value;
    }
  }

  /** Applies ops as one revision (if any of them changes something), then tells watchers. */
  private apply(ops: readonly Op[]): void {
    if (this.closed) throw new Error('the memory store is closed');
    for (const op of ops) {
      if ('put' in op && op.put.lease !== undefined && op.put.lease !== '0' && !this.leases.has(op.put.lease)) {
        throw new Error('etcdserver: requested lease not found');
      }
    }
    const writes = ops.filter((op) => 'put' in op || this.data.has(op.delete.key));
    if (writes.length === 0) return;
    this.revision++;
    for (const op of writes) {
      if ('put' in op) {
        const { key, value } = op.put;
        const lease = op.put.lease ?? '0';
        const old = this.data.get(key);
        if (old !== undefined && old.lease !== '0') this.leases.get(old.lease)?.keys.delete(key);
        const kv: KeyValue = {
          key,
          value,
          createRevision: old?.createRevision ?? this.revision,
          modRevision: this.revision,
          version: (old?.version ?? 0) + 1,
          lease,
        };
        this.data.set(key, kv);
        if (lease !== '0') this.leases.get(lease)!.keys.add(key);
        this.history.push({ type: 'put', kv });
      } else {
        this.deleteAt(op.delete.key);
      }
    }
    this.publish();
  }

  private deleteAt(key: string): void {
    const old = this.data.get(key);
    if (old === undefined) return;
    this.data.delete(key);
    if (old.lease !== '0') this.leases.get(old.lease)?.keys.delete(key);
    this.history.push({ type: 'delete', kv: { key, value: '', createRevision: 0, modRevision: this.revision, version: 0, lease: '0' } });
  }

  private publish(): void {
    for (const w of this.watchers) queueMicrotask(() => this.deliver(w));
  }

  private deliver(w: WatchEntry): void {
    if (w.closed) return;
    const events = this.history.filter((e) => e.kv.modRevision >= w.next && e.kv.key.startsWith(w.prefix));
    w.next = this.revision + 1;
    if (events.length > 0) w.handlers.onEvents(events, this.revision);
  }
}
