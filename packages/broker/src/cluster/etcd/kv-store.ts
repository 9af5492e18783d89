// The seam between the cluster layer and etcd: the part of etcd's v3 KV, lease and watch API the
// cluster uses, with keys and values as strings. `EtcdClient` (etcd-client.ts) talks to a real
// etcd server; `MemoryKvStore` (memory-store.ts) is the same semantics in memory, for unit tests
// of the layers above (membership, controller, projection).
//
// Semantics are etcd's: one global revision that every write bumps; each key has a
// create revision, a mod revision and a version (writes since creation, 0 = absent); a key put
// under a lease is deleted when the lease expires or is revoked; a watch from revision R replays
// every event since R in order, then follows live.

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Writes since the key was created (1 after the first put). */
  readonly version: number;
  /** The lease the key is attached to; '0' for none. */
  readonly lease: string;
}

/** A condition of a transaction: `target` of `key` compared with `value`. An absent key has version, createRevision and modRevision 0. */
export type Compare =
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly result: 'equal' | 'notEqual' | 'greater' | 'less';
      readonly value: number;
    }
  | { readonly key: string; readonly target: 'value'; readonly result: 'equal' | 'notEqual'; readonly value: string };

export type Op = { readonly put: { readonly key: string; readonly value: string; readonly lease?: string } } | { readonly delete: { readonly key: string } };

export interface TxnResult {
  readonly succeeded: boolean;
  /** The store's revision after the transaction (its own if it wrote). */
  readonly revision: number;
}

export interface RangeResult {
  readonly kvs: readonly KeyValue[];
  /** The store revision the range was read at: a watch from revision + 1 misses nothing. */
  readonly revision: number;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key with the deleting revision as modRevision and an empty value. */
  readonly kv: KeyValue;
}

export interface Watch {
  /** Stops the watch; no callback runs after it returns. */
  close(): void;
}

export interface WatchHandlers {
  /** Events of one revision or more, in revision order. */
  readonly onEvents: (events: readonly WatchEvent[], revision: number) => void;
  /**
   * The watch cannot go on (its start revision was compacted away, or the store is closed):
   * the caller reads the range again and watches from there.
   */
  readonly onError: (err: Error) => void;
}

export interface KvStore {
  /** One key, or null when absent. */
  get(key: string): Promise<KeyValue | null>;
  /** Every key starting with `prefix`, in key order. */
  range(prefix: string): Promise<RangeResult>;
  /** Puts unconditionally; returns the new revision. */
  put(key: string, value: string, lease?: string): Promise<number>;
  /** Deletes a key (nothing if absent); returns the store revision. */
  delete(key: string): Promise<number>;
  /** Applies `success` if every compare holds, else `failure`, atomically. */
  txn(compares: readonly Compare[], success: readonly Op[], failure?: readonly Op[]): Promise<TxnResult>;
  /** A new lease of `ttlSeconds`; returns its id (etcd's int64 as a decimal string). */
  grantLease(ttlSeconds: number): Promise<string>;
  /** Renews a lease; returns its TTL in seconds, 0 when the lease no longer exists. */
  keepAlive(lease: string): Promise<number>;
  /** Revokes a lease (its keys are deleted); nothing if it is gone already. */
  revokeLease(lease: string): Promise<void>;
  /** Watches every key starting with `prefix` from `fromRevision` (inclusive). */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch;
  close(): void;
}

/** A store failure naming what failed (the endpoint for etcd), for start-up errors and logs. */
export class KvStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KvStoreError';
  }
}
