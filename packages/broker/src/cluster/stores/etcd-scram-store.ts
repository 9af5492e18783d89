// Cluster mode's SCRAM credential store: each user's credentials (salt, iterations, StoredKey,
// ServerKey per mechanism — never a password) under one etcd key (store-keys.ts), shared by every
// broker. Each broker mirrors the prefix into the in-memory table its SCRAM logins read, so a
// user created or changed through any broker can log in at every broker once its watch delivers
// the change. AlterUserScramCredentials is one compare-and-swap over the users it names (retried
// on conflict), so concurrent changes of the same user through two brokers both land.
//
// etcd holds what the file held (sluice-scram-credentials.json, 0600): whoever can read the
// cluster's prefix can impersonate the broker to clients and attack the passwords offline, so
// etcd must be reachable by the brokers only (as ZooKeeper had to be for Kafka).

import type { Logger } from '../../logger.ts';
import type { ScramCredential } from '../../security/sasl/scram-credential.ts';
import { scramMechanismByName } from '../../security/sasl/scram-credential.ts';
import {
  MemoryScramCredentialStore,
  type ScramCredentialChange,
  scramCredentialFromRecord,
  scramCredentialToRecord,
} from '../../security/sasl/scram-credential-store.ts';
import type { KvStore } from '../etcd/kv-store.ts';
import type { ClusterKeys } from '../keys.ts';
import { MAX_KEYS_PER_WRITE, type MirrorChange, PrefixMirror } from './prefix-mirror.ts';
import { type ScramUserRecord, StoreKeys } from './store-keys.ts';

/** A user's credentials from an etcd value (null: none); throws naming the key when unreadable. */
export function credentialsOfRecord(key: string, value: string | null): { user: string; credentials: Map<string, ScramCredential> } | null {
  if (value === null) return null;
  const record = JSON.parse(value) as ScramUserRecord;
  if (typeof record.user !== 'string' || typeof record.credentials !== 'object' || record.credentials === null)
    throw new Error(`etcd key ${key} does not hold a SCRAM user record`);
  const credentials = new Map<string, ScramCredential>();
  for (const [mechanism, c] of Object.entries(record.credentials)) {
    if (scramMechanismByName(mechanism) === undefined) throw new Error(`etcd key ${key}: unknown mechanism ${mechanism}`);
    if (!Number.isInteger(c.iterations) || c.iterations <= 0) throw new Error(`etcd key ${key}: ${mechanism}: bad iterations`);
    credentials.set(mechanism, scramCredentialFromRecord(c));
  }
  return { user: record.user, credentials };
}

/** The value of a user's key holding `credentials`, null when there are none. */
export function recordOfCredentials(user: string, credentials: ReadonlyMap<string, ScramCredential>): string | null {
  if (credentials.size === 0) return null;
  const record: ScramUserRecord = {
    user,
    credentials: Object.fromEntries([...credentials].sort(([a], [b]) => a.localeCompare(b)).map(([m, c]) => [m, scramCredentialToRecord(c)])),
  };
  return JSON.stringify(record);
}

export class EtcdScramCredentialStore extends MemoryScramCredentialStore {
  private readonly keys: StoreKeys;
  private readonly logger: Logger;
  private readonly mirror: PrefixMirror;
  /** The user each key holds, to forget on delete. */
  private readonly userOfKey = new Map<string, string>();

  private constructor(store: KvStore, keys: ClusterKeys, logger: Logger) {
    super();
    this.keys = new StoreKeys(keys);
    this.logger = logger;
    this.mirror = new PrefixMirror(store, this.keys.scramCredentials, logger, (changes) => this.applyChanges(changes));
  }

  /** The store with etcd's credentials read, following changes. */
  static async open(store: KvStore, keys: ClusterKeys, logger: Logger): Promise<EtcdScramCredentialStore> {
    const s = new EtcdScramCredentialStore(store, keys, logger);
    await s.mirror.start();
    return s;
  }

  close(): void {
    this.mirror.close();
  }

  override async apply(changes: readonly ScramCredentialChange[]): Promise<void> {
    const byKey = new Map<string, { user: string; changes: ScramCredentialChange[] }>();
    for (const c of changes) {
      if (scramMechanismByName(c.mechanism) === undefined) throw new Error(`unknown SCRAM mechanism ${c.mechanism}`);
      const key = this.keys.scramUser(c.user);
      let e = byKey.get(key);
      if (e === undefined) byKey.set(key, (e = { user: c.user, changes: [] }));
      e.changes.push(c);
    }
    const keys = [...byKey.keys()];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_WRITE) {
      await this.mirror.update(keys.slice(i, i + MAX_KEYS_PER_WRITE), (current) => {
        const next = new Map<string, string | null>();
        for (const [key, value] of current) {
          const { user, changes: mine } = byKey.get(key)!;
          const credentials = new Map(credentialsOfRecord(key, value)?.credentials ?? []);
          for (const c of mine) {
            if (c.kind === 'upsert') credentials.set(c.mechanism, c.credential);
            else credentials.delete(c.mechanism);
          }
          next.set(key, recordOfCredentials(user, credentials));
        }
        return next;
      });
    }
  }

  private applyChanges(changes: readonly MirrorChange[]): void {
    const table = new Map(this.table);
    for (const { key, after } of changes) {
      const previous = this.userOfKey.get(key);
      if (previous !== undefined) table.delete(previous);
      this.userOfKey.delete(key);
      try {
        const parsed = credentialsOfRecord(key, after);
        if (parsed === null || parsed.credentials.size === 0) continue;
        table.set(parsed.user, parsed.credentials);
        this.userOfKey.set(key, parsed.user);
      } catch (err) {
        this.logger.error({ key, err }, 'ignoring an unreadable SCRAM credential record in etcd');
      }
    }
    this.table = table;
  }
}
