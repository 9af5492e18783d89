// Cluster mode's finalized feature levels (../../features.ts): one etcd key,
// `<prefix>/features/finalized` = `{ levels: { <feature>: level } }`, mirrored by every broker (so
// ApiVersions shows the same levels on each). UpdateFeatures through any broker is one
// compare-and-swap on the key, its updates checked again against the levels it read (so two
// brokers updating at once cannot both pass a check the other's change would fail). The finalized
// epoch is the key's mod revision: it grows with every change and is the same on every broker.
// Absent key: every feature at its default level, epoch 0.

import { FeatureLevels, type FeatureUpdate } from '../../features.ts';
import type { Logger } from '../../logger.ts';
import type { KvStore } from '../etcd/kv-store.ts';
import type { ClusterKeys } from '../keys.ts';
import { PrefixMirror } from './prefix-mirror.ts';
import { type FeatureLevelsRecord, StoreKeys } from './store-keys.ts';

function levelsOfRecord(key: string, value: string | null): Record<string, number> {
  if (value === null) return {};
  const record = JSON.parse(value) as FeatureLevelsRecord;
  if (typeof record.levels !== 'object' || record.levels === null) throw new Error(`etcd key ${key} does not hold feature levels`);
  return record.levels;
}

export class EtcdFeatureLevels extends FeatureLevels {
  private readonly key: string;
  private readonly logger: Logger;
  private readonly mirror: PrefixMirror;

  private constructor(store: KvStore, keys: ClusterKeys, nodeId: number, logger: Logger) {
    super(null, nodeId);
    const k = new StoreKeys(keys);
    this.key = k.finalizedFeatures;
    this.logger = logger;
    this.mirror = new PrefixMirror(store, k.features, logger, () => this.reload());
  }

  /** The levels etcd has, following changes. */
  static async open(store: KvStore, keys: ClusterKeys, nodeId: number, logger: Logger): Promise<EtcdFeatureLevels> {
    const f = new EtcdFeatureLevels(store, keys, nodeId, logger);
    await f.mirror.start();
    return f;
  }

  close(): void {
    this.mirror.close();
  }

  protected override commit(updates: readonly FeatureUpdate[]): Promise<void> {
    return this.mirror.update([this.key], (current) => {
      const stored = levelsOfRecord(this.key, current.get(this.key) ?? null);
      // The cluster's levels as read, defaults where unset (as install() shows them).
      const level = (name: string) => this.levelIn(stored, name);
      for (const u of updates) this.check(u, level);
      const next = this.applied(updates, level);
      if (next === null) return new Map();
      return new Map([[this.key, JSON.stringify({ levels: next } satisfies FeatureLevelsRecord)]]);
    });
  }

  private reload(): void {
    const kv = [...this.mirror.values()].find((e) => e.key === this.key);
    try {
      this.install(levelsOfRecord(this.key, kv?.value ?? null), kv?.modRevision ?? 0);
    } catch (err) {
      this.logger.error({ key: this.key, err }, 'ignoring unreadable feature levels in etcd');
    }
  }
}
