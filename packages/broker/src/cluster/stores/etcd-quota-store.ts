// Cluster mode's client quota store: each entity's quotas under one etcd key (store-keys.ts),
// shared by every broker. Each broker mirrors the prefix into the memory store its quota managers
// read (the managers are told of every change), so a quota set through any broker throttles on
// every broker — each enforcing it on the traffic it sees, as Kafka's brokers do. An
// AlterClientQuotas is one compare-and-swap over the entities it names, retried on conflict, so
// two brokers changing different keys of one entity at once both land.

import type { Logger } from '../../logger.ts';
import { entityKey } from '../../quotas/client-quota-entity.ts';
import {
  type ClientQuotaChange,
  type ClientQuotaEntry,
  MemoryClientQuotaStore,
  type QuotaRecord,
  quotaEntryFromRecord,
  quotaEntryToRecord,
} from '../../quotas/client-quota-store.ts';
import type { KvStore } from '../etcd/kv-store.ts';
import type { ClusterKeys } from '../keys.ts';
import { MAX_KEYS_PER_WRITE, type MirrorChange, PrefixMirror } from './prefix-mirror.ts';
import { StoreKeys } from './store-keys.ts';

/** An entity's quotas from an etcd value (null: none); throws naming the key when unreadable. */
export function quotaEntryOfRecord(key: string, value: string | null): ClientQuotaEntry | null {
  if (value === null) return null;
  const record = JSON.parse(value) as QuotaRecord;
  if (typeof record.entity !== 'object' || record.entity === null || typeof record.quotas !== 'object' || record.quotas === null)
    throw new Error(`etcd key ${key} does not hold a client quota record`);
  return quotaEntryFromRecord(record, `etcd key ${key}`);
}

export class EtcdClientQuotaStore extends MemoryClientQuotaStore {
  private readonly keys: StoreKeys;
  private readonly logger: Logger;
  private readonly mirror: PrefixMirror;
  /** The entity (by entityKey) each etcd key holds, to forget on delete. */
  private readonly entityOfKey = new Map<string, string>();

  private constructor(store: KvStore, keys: ClusterKeys, logger: Logger) {
    super();
    this.keys = new StoreKeys(keys);
    this.logger = logger;
    this.mirror = new PrefixMirror(store, this.keys.clientQuotas, logger, (changes) => this.applyChanges(changes));
  }

  /** The store with etcd's quotas read, following changes. */
  static async open(store: KvStore, keys: ClusterKeys, logger: Logger): Promise<EtcdClientQuotaStore> {
    const s = new EtcdClientQuotaStore(store, keys, logger);
    await s.mirror.start();
    return s;
  }

  close(): void {
    this.mirror.close();
  }

  override async apply(changes: readonly ClientQuotaChange[]): Promise<void> {
    const byKey = new Map<string, ClientQuotaChange[]>();
    for (const c of changes) {
      const key = this.keys.clientQuota(c.entity);
      let list = byKey.get(key);
      if (list === undefined) byKey.set(key, (list = []));
      list.push(c);
    }
    const keys = [...byKey.keys()];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_WRITE) {
      await this.mirror.update(keys.slice(i, i + MAX_KEYS_PER_WRITE), (current) => {
        const next = new Map<string, string | null>();
        for (const [key, value] of current) {
          const mine = byKey.get(key)!;
          const entity = mine[0].entity;
          const values = new Map(quotaEntryOfRecord(key, value)?.values ?? []);
          for (const c of mine) {
            if (c.value === undefined) values.delete(c.key);
            else values.set(c.key, c.value);
          }
          next.set(key, values.size === 0 ? null : JSON.stringify(quotaEntryToRecord({ entity, values })));
        }
        return next;
      });
    }
  }

  private applyChanges(changes: readonly MirrorChange[]): void {
    const next = new Map(this.entries);
    for (const { key, after } of changes) {
      const previous = this.entityOfKey.get(key);
      if (previous !== undefined) next.delete(previous);
      this.entityOfKey.delete(key);
      try {
        const entry = quotaEntryOfRecord(key, after);
        if (entry === null || entry.values.size === 0) continue;
        next.set(entityKey(entry.entity), entry);
        this.entityOfKey.set(key, entityKey(entry.entity));
      } catch (err) {
        this.logger.error({ key, err }, 'ignoring an unreadable client quota record in etcd');
      }
    }
    this.install(next);
  }
}
