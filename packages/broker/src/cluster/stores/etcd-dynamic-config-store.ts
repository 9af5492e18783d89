// Cluster mode's dynamic broker configs (../../dynamic-broker-configs.ts): each scope's values —
// one broker's (`<prefix>/broker-configs/<node.id>`) or the cluster-wide defaults
// (`<prefix>/broker-configs/<default>`) — under one etcd key, mirrored by every broker into the
// memory store its DynamicBrokerConfigs reads, so a throttle set through any broker applies on the
// broker it names (and a default on all) as soon as the watch brings it. An alteration is one
// compare-and-swap on its scope's key, retried on conflict (two brokers changing different keys of
// one scope at once both land).

import { type DynamicScope, type DynamicValues, MemoryDynamicBrokerConfigStore, scopeKey, valuesFromRecord } from '../../dynamic-broker-configs.ts';
import type { Logger } from '../../logger.ts';
import type { KvStore } from '../etcd/kv-store.ts';
import type { ClusterKeys } from '../keys.ts';
import { type MirrorChange, PrefixMirror } from './prefix-mirror.ts';
import { type DynamicBrokerConfigRecord, StoreKeys } from './store-keys.ts';

/** A scope's values from an etcd value (empty: none); throws naming the key when unreadable. */
export function dynamicValuesOfRecord(key: string, value: string | null): DynamicValues {
  if (value === null) return new Map();
  const record = JSON.parse(value) as DynamicBrokerConfigRecord;
  return valuesFromRecord(record.configs, `etcd key ${key}`);
}

export class EtcdDynamicBrokerConfigStore extends MemoryDynamicBrokerConfigStore {
  private readonly keys: StoreKeys;
  private readonly logger: Logger;
  private readonly mirror: PrefixMirror;

  private constructor(store: KvStore, keys: ClusterKeys, logger: Logger) {
    super();
    this.keys = new StoreKeys(keys);
    this.logger = logger;
    this.mirror = new PrefixMirror(store, this.keys.brokerConfigs, logger, (changes) => this.applyChanges(changes));
  }

  /** The store with etcd's values read, following changes. */
  static async open(store: KvStore, keys: ClusterKeys, logger: Logger): Promise<EtcdDynamicBrokerConfigStore> {
    const s = new EtcdDynamicBrokerConfigStore(store, keys, logger);
    await s.mirror.start();
    return s;
  }

  close(): void {
    this.mirror.close();
  }

  override async alter(scope: DynamicScope, compute: (current: DynamicValues) => DynamicValues): Promise<void> {
    const key = this.keys.brokerConfig(scopeKey(scope));
    await this.mirror.update([key], (current) => {
      const values = compute(dynamicValuesOfRecord(key, current.get(key) ?? null));
      const record: DynamicBrokerConfigRecord = { configs: Object.fromEntries([...values].sort(([a], [b]) => a.localeCompare(b))) };
      return new Map([[key, values.size === 0 ? null : JSON.stringify(record)]]);
    });
  }

  private applyChanges(changes: readonly MirrorChange[]): void {
    const next = new Map(this.scopes);
    for (const { key, after } of changes) {
      const scope = decodeURIComponent(key.slice(this.keys.brokerConfigs.length));
      next.delete(scope);
      try {
        const values = dynamicValuesOfRecord(key, after);
        if (values.size > 0) next.set(scope, values);
      } catch (err) {
        this.logger.error({ key, err }, 'ignoring an unreadable dynamic broker config record in etcd');
      }
    }
    this.install(next);
  }
}
