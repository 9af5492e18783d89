// Feature flags (KIP-584): what ApiVersions v3+ reports as supported and finalized, and what
// UpdateFeatures may change. One row per feature in SUPPORTED_FEATURES; adding a feature (or
// widening its range when the behaviour behind a new level lands) is one line there.
//
// What Sluice reports, and why (Kafka 4.4 reports metadata.version, kraft.version,
// transaction.version, group.version, eligible.leader.replicas.version, share.version and
// streams.version):
// - metadata.version 7 (3.3-IV3, the lowest level Kafka 4 knows) and only that: Sluice has no
//   KRaft metadata log, and none of what later levels turn on (ELR, directory assignment, ...).
// - group.version 0..1, finalized at 1: the consumer group protocol (KIP-848) is served
//   (ConsumerGroupHeartbeat/ConsumerGroupDescribe), as a Kafka 4 cluster finalizes it.
// - transaction.version at 0..0: clients read it to decide whether to use transactions v2
//   (KIP-890 part 2); level 0 is the truth until that lands.
// - share.version 0..1, finalized at 1: share groups (KIP-932) are served (ShareGroupHeartbeat,
//   ShareGroupDescribe, ShareFetch, ShareAcknowledge), on by default as in Kafka 4.2.
// - kraft.version, eligible.leader.replicas.version, streams.version: absent, Sluice serves
//   nothing they describe.
//
// Finalized levels: the default level of each feature unless UpdateFeatures changed it; changes
// persist in `features.json` in the first log dir (written atomically before the answer), with
// an epoch that grows with every change (Kafka's is the metadata log offset). A level of 0 is
// "not finalized" and not listed, as in Kafka. Cluster mode: the levels are the cluster's, in
// etcd (cluster/stores/etcd-feature-store.ts, a subclass that follows etcd's watch; the epoch is
// the key's mod revision), so an update through any broker changes them everywhere.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from './topics.ts';

export interface FeatureSpec {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The finalized level of a fresh broker. */
  readonly defaultLevel: number;
}

export const SUPPORTED_FEATURES: readonly FeatureSpec[] = [
  { name: 'metadata.version', minVersion: 7, maxVersion: 7, defaultLevel: 7 },
  { name: 'transaction.version', minVersion: 0, maxVersion: 0, defaultLevel: 0 },
  { name: 'group.version', minVersion: 0, maxVersion: 1, defaultLevel: 1 },
  { name: 'share.version', minVersion: 0, maxVersion: 1, defaultLevel: 1 },
];

/** UpdateFeatures' upgrade types (v1+; v0's allowDowngrade maps to SAFE_DOWNGRADE). */
export const UpgradeType = Object.freeze({ UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 });

export interface FeatureUpdate {
  readonly feature: string;
  readonly maxVersionLevel: number;
  readonly upgradeType: number;
}

/** Why an update is refused: Kafka's FeatureControlManager messages (INVALID_UPDATE_VERSION). */
export class InvalidFeatureUpdate extends Error {}

const FILE = 'features.json';
const FORMAT_VERSION = 1;

function rangeText(spec: FeatureSpec): string {
  return spec.minVersion === spec.maxVersion ? String(spec.minVersion) : `${spec.minVersion}-${spec.maxVersion}`;
}

export class FeatureLevels {
  private readonly levels = new Map<string, number>();
  private currentEpoch = 0;
  private readonly dir: string | null;
  private readonly file: string | null;
  private readonly nodeId: number;
  private readonly supported: readonly FeatureSpec[];

  /** `dir` null: no file (a subclass keeps the levels elsewhere). */
  constructor(dir: string | null, nodeId: number, supported: readonly FeatureSpec[] = SUPPORTED_FEATURES) {
    this.dir = dir;
    this.nodeId = nodeId;
    this.supported = supported;
    this.file = dir === null ? null : join(dir, FILE);
    this.install({}, 0);
    if (this.file !== null && existsSync(this.file)) {
      const stored = JSON.parse(readFileSync(this.file, 'utf8')) as { version: number; epoch: number; levels: Record<string, number> };
      if (stored.version !== FORMAT_VERSION) throw new Error(`${this.file}: unknown format version ${stored.version}`);
      this.install(stored.levels, stored.epoch);
    }
  }

  /**
   * Makes `stored` (by feature name) the finalized levels at `epoch`: the default level of a
   * feature it lacks, and of one outside today's range (a feature narrowed by a downgrade of
   * Sluice) rather than advertising what this build cannot do.
   */
  protected install(stored: Readonly<Record<string, number>>, epoch: number): void {
    for (const spec of this.supported) this.levels.set(spec.name, this.levelIn(stored, spec.name));
    this.currentEpoch = epoch;
  }

  /** The level `stored` gives feature `name` as install() reads it (0 for a feature not supported). */
  protected levelIn(stored: Readonly<Record<string, number>>, name: string): number {
    const spec = this.supported.find((s) => s.name === name);
    if (spec === undefined) return 0;
    const level = stored[name];
    return level !== undefined && level >= spec.minVersion && level <= spec.maxVersion ? level : spec.defaultLevel;
  }

  get epoch(): number {
    return this.currentEpoch;
  }

  /** ApiVersions' supportedFeatures; before v4 a client cannot read a range starting at 0. */
  supportedFeatures(apiVersionsVersion: number): Array<{ name: string; minVersion: number; maxVersion: number }> {
    return this.supported
      .filter((s) => apiVersionsVersion >= 4 || s.minVersion > 0)
      .map(({ name, minVersion, maxVersion }) => ({ name, minVersion, maxVersion }));
  }

  /** ApiVersions' finalizedFeatures: every feature above level 0. */
  finalizedFeatures(): Array<{ name: string; maxVersionLevel: number; minVersionLevel: number }> {
    return [...this.levels].filter(([, level]) => level > 0).map(([name, level]) => ({ name, maxVersionLevel: level, minVersionLevel: level }));
  }

  level(name: string): number {
    return this.levels.get(name) ?? 0;
  }

  /**
   * Validates every update (Kafka's order of checks), then, unless `validateOnly`, applies them
   * all and persists. All or nothing: the first refusal throws InvalidFeatureUpdate (the etcd
   * subclass: rejects with it, having checked against the cluster's levels it read).
   */
  update(updates: readonly FeatureUpdate[], validateOnly: boolean): void | Promise<void> {
    for (const u of updates) this.check(u);
    if (validateOnly) return;
    const next = this.applied(updates, (name) => this.level(name));
    if (next === null) return;
    return this.commit(updates);
  }

  /** Every level after `updates` over `current` (by name), or null when nothing changes. */
  protected applied(updates: readonly FeatureUpdate[], current: (name: string) => number): Record<string, number> | null {
    const changed = updates.filter((u) => current(u.feature) !== u.maxVersionLevel);
    if (changed.length === 0) return null;
    const next: Record<string, number> = {};
    for (const spec of this.supported) next[spec.name] = current(spec.name);
    for (const u of changed) next[u.feature] = u.maxVersionLevel;
    return next;
  }

  /** Stores the checked `updates` and makes them the levels (the file, written atomically first). */
  protected commit(updates: readonly FeatureUpdate[]): void | Promise<void> {
    const next = this.applied(updates, (name) => this.level(name))!;
    const epoch = this.currentEpoch + 1;
    if (this.dir !== null && this.file !== null)
      writeFileAtomically(this.dir, this.file, JSON.stringify({ version: FORMAT_VERSION, epoch, levels: next }) + '\n');
    this.install(next, epoch);
  }

  /** Kafka's checks of one update against the current levels (`current`: by name; default: this broker's). */
  protected check(u: FeatureUpdate, current: (name: string) => number = (name) => this.level(name)): void {
    const refuse = (reason: string) => new InvalidFeatureUpdate(`Invalid update version ${u.maxVersionLevel} for feature ${u.feature}. ${reason}`);
    if (u.upgradeType !== UpgradeType.UPGRADE && u.upgradeType !== UpgradeType.SAFE_DOWNGRADE && u.upgradeType !== UpgradeType.UNSAFE_DOWNGRADE) {
      throw refuse('The controller does not support the given upgrade type.');
    }
    const now = current(u.feature);
    if (u.maxVersionLevel < 0) throw refuse('A feature version cannot be less than 0.');
    const spec = this.supported.find((s) => s.name === u.feature);
    if (spec === undefined) throw refuse(`Local controller ${this.nodeId} does not support this feature.`);
    if (u.maxVersionLevel < spec.minVersion || u.maxVersionLevel > spec.maxVersion)
      throw refuse(`Local controller ${this.nodeId} only supports versions ${rangeText(spec)}`);
    if (u.maxVersionLevel < now && u.upgradeType === UpgradeType.UPGRADE) {
      throw refuse("Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.");
    }
    if (u.maxVersionLevel > now && u.upgradeType !== UpgradeType.UPGRADE) throw refuse("Can't downgrade to a newer version.");
  }
}
