// Where client quotas live: per entity, the quota values set with AlterClientQuotas (or
// `sluice quotas`). `FileClientQuotaStore` keeps them in `sluice-client-quotas.json` in the first
// log dir, replaced atomically (temp file, fsync, rename, fsync dir) before an alteration is
// answered, so quotas survive restarts and a crash leaves the old or the new file, never a torn
// one. In cluster mode the quotas are the cluster's, in etcd (cluster/stores/etcd-quota-store.ts,
// a subclass of the memory store here that follows etcd's watch), and every broker enforces them.
//
// Contract: single-threaded (the event loop); `apply` is all-or-nothing and durable before it
// returns (the etcd store: before its promise settles, once committed and applied here); a
// failed write throws and leaves file and memory as they were. Listeners run after every change
// of the store's state, whoever made it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../topics.ts';
import { type ClientQuotaEntity, ENTITY_TYPES, type EntityType, entityKey, isClientQuotaKey, sortedEntity } from './client-quota-entity.ts';

export interface ClientQuotaEntry {
  readonly entity: ClientQuotaEntity;
  readonly values: ReadonlyMap<string, number>;
}

/** One alteration: set (value) or remove (value undefined) a key of an entity. */
export interface ClientQuotaChange {
  readonly entity: ClientQuotaEntity;
  readonly key: string;
  readonly value: number | undefined;
}

/** A DescribeClientQuotas filter component: exact name, the default entity, or any name. */
export type EntityMatch =
  | { readonly type: EntityType; readonly match: 'exact'; readonly name: string }
  | { readonly type: EntityType; readonly match: 'default' }
  | { readonly type: EntityType; readonly match: 'any' };

export class MemoryClientQuotaStore {
  protected entries = new Map<string, ClientQuotaEntry>();
  private readonly listeners: (() => void)[] = [];

  /** Every entity with at least one value. */
  all(): ClientQuotaEntry[] {
    return [...this.entries.values()];
  }

  get(entity: ClientQuotaEntity): ReadonlyMap<string, number> | undefined {
    return this.entries.get(entityKey(entity))?.values;
  }

  /** Entries matching every component; `strict`: and no other entity types (KIP-546). */
  describe(components: readonly EntityMatch[], strict: boolean): ClientQuotaEntry[] {
    return this.all().filter((e) => {
      if (strict && e.entity.length !== components.length) return false;
      return components.every((c) => {
        const part = e.entity.find((p) => p.type === c.type);
        if (part === undefined) return false;
        if (c.match === 'exact') return part.name === c.name;
        if (c.match === 'default') return part.name === null;
        return true;
      });
    });
  }

  /** Applies every change or none; then tells the listeners (the quota managers). */
  apply(changes: readonly ClientQuotaChange[]): void | Promise<void> {
    const next = appliedQuotaChanges(this.entries, changes);
    this.persist(next);
    this.install(next);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  protected persist(_next: ReadonlyMap<string, ClientQuotaEntry>): void {}

  /** Makes `next` (by entityKey) the store's state and tells the listeners. */
  protected install(next: Map<string, ClientQuotaEntry>): void {
    this.entries = next;
    for (const l of this.listeners) l();
  }
}

/** `entries` (by entityKey) with `changes` applied; an entity left without values is removed. */
export function appliedQuotaChanges(entries: ReadonlyMap<string, ClientQuotaEntry>, changes: readonly ClientQuotaChange[]): Map<string, ClientQuotaEntry> {
  const next = new Map([...entries].map(([k, e]) => [k, { entity: e.entity, values: new Map(e.values) }]));
  for (const c of changes) {
    const key = entityKey(c.entity);
    let entry = next.get(key);
    if (entry === undefined) next.set(key, (entry = { entity: c.entity, values: new Map() }));
    if (c.value === undefined) entry.values.delete(c.key);
    else entry.values.set(c.key, c.value);
    if (entry.values.size === 0) next.delete(key);
  }
  return next;
}

export const CLIENT_QUOTAS_FILE = 'sluice-client-quotas.json';

// File format (version 1):
// { "version": 1, "entities": [ { "entity": { "user": "alice" | null, "client-id": … },
//   "quotas": { "producer_byte_rate": 1048576, … } } ] }   (null: the default entity)
interface FileV1 {
  version: 1;
  entities: { entity: Partial<Record<EntityType, string | null>>; quotas: Record<string, number> }[];
}

export class FileClientQuotaStore extends MemoryClientQuotaStore {
  readonly path: string;
  private readonly dir: string;

  /** Loads `<dir>/sluice-client-quotas.json` when present; a corrupt file throws (never silently empty). */
  constructor(dir: string) {
    super();
    this.dir = dir;
    this.path = join(dir, CLIENT_QUOTAS_FILE);
    if (existsSync(this.path)) this.entries = decodeFile(readFileSync(this.path, 'utf8'), this.path);
  }

  protected override persist(next: ReadonlyMap<string, ClientQuotaEntry>): void {
    const entities: FileV1['entities'] = [...next.values()].map(quotaEntryToRecord);
    writeFileAtomically(this.dir, this.path, JSON.stringify({ version: 1, entities } satisfies FileV1, null, 1) + '\n');
  }
}

function decodeFile(text: string, path: string): Map<string, ClientQuotaEntry> {
  const data = JSON.parse(text) as FileV1;
  if (data.version !== 1 || !Array.isArray(data.entities)) throw new Error(`${path}: unsupported client quotas file (version ${String(data.version)})`);
  const out = new Map<string, ClientQuotaEntry>();
  for (const e of data.entities) {
    const entry = quotaEntryFromRecord(e, path);
    out.set(entityKey(entry.entity), entry);
  }
  return out;
}

/** One entity's quotas as the file (and etcd) spell them; null names the default entity. */
export type QuotaRecord = FileV1['entities'][number];

export function quotaEntryToRecord(e: ClientQuotaEntry): QuotaRecord {
  return {
    entity: Object.fromEntries(e.entity.map((p) => [p.type, p.name])),
    quotas: Object.fromEntries([...e.values].sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** Reads quotaEntryToRecord's form back; throws naming `where` when it is not valid. */
export function quotaEntryFromRecord(e: QuotaRecord, where: string): ClientQuotaEntry {
  const parts = Object.entries(e.entity).map(([type, name]) => {
    if (!(ENTITY_TYPES as readonly string[]).includes(type)) throw new Error(`${where}: unknown entity type ${type}`);
    return { type: type as EntityType, name: name ?? null };
  });
  const values = new Map<string, number>();
  for (const [k, v] of Object.entries(e.quotas)) {
    if (!isClientQuotaKey(k) || typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: bad quota ${k}=${String(v)}`);
    values.set(k, v);
  }
  return { entity: sortedEntity(parts), values };
}
