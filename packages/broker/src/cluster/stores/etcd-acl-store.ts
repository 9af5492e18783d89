// Cluster mode's ACL store: the bindings live in etcd, one key per resource pattern
// (store-keys.ts), shared by every broker. Each broker mirrors the prefix (prefix-mirror.ts) and
// tells its authorizer what each change added and removed, so an ACL created through any broker
// is enforced by all of them as soon as their watch delivers it (milliseconds on a healthy etcd).
// A change is a compare-and-swap on the touched patterns' keys, retried on conflict: two brokers
// adding ACLs to the same resource at once both land.
//
// Atomicity: a CreateAcls or DeleteAcls touching at most MAX_KEYS_PER_WRITE resource patterns is
// one etcd transaction; a larger one is written in such transactions one after the other (each
// all or nothing; a failure midway leaves the earlier ones written, and the request fails).

import type { Logger } from '../../logger.ts';
import { type AclChangeListener, type AclStore, aclFromRecord, aclToRecord } from '../../security/acl/acl-store.ts';
import type { AclBinding } from '../../security/acl/acl-types.ts';
import { bindingKey, describeBinding, invalidBindingReason } from '../../security/acl/acl-types.ts';
import type { KvStore } from '../etcd/kv-store.ts';
import type { ClusterKeys } from '../keys.ts';
import { MAX_KEYS_PER_WRITE, type MirrorChange, PrefixMirror } from './prefix-mirror.ts';
import { type AclPatternRecord, StoreKeys } from './store-keys.ts';

/** The bindings an etcd value holds (empty for none); throws naming the key when it is not a pattern record. */
export function bindingsOfRecord(key: string, value: string | null): AclBinding[] {
  if (value === null) return [];
  const record = JSON.parse(value) as AclPatternRecord;
  if (!Array.isArray(record.acls)) throw new Error(`etcd key ${key} does not hold an ACL pattern record`);
  return record.acls.map((a, i) => aclFromRecord({ resourceType: record.resourceType, patternType: record.patternType, name: record.name, ...a }, key, i));
}

/** The value of a pattern's key holding `bindings` (all of that one pattern), null when there are none. */
export function recordOfBindings(bindings: readonly AclBinding[]): string | null {
  if (bindings.length === 0) return null;
  const first = aclToRecord(bindings[0]);
  const record: AclPatternRecord = {
    resourceType: first.resourceType,
    patternType: first.patternType,
    name: first.name,
    acls: bindings.map((b) => {
      const { principal, host, operation, permissionType } = aclToRecord(b);
      return { principal, host, operation, permissionType };
    }),
  };
  return JSON.stringify(record);
}

export class EtcdAclStore implements AclStore {
  private readonly keys: StoreKeys;
  private readonly logger: Logger;
  private readonly mirror: PrefixMirror;
  /** The bindings of each pattern key, as last applied. */
  private readonly byPattern = new Map<string, AclBinding[]>();
  private readonly listeners: AclChangeListener[] = [];

  private constructor(store: KvStore, keys: ClusterKeys, logger: Logger) {
    this.keys = new StoreKeys(keys);
    this.logger = logger;
    this.mirror = new PrefixMirror(store, this.keys.acls, logger, (changes) => this.applyChanges(changes));
  }

  /** The store with etcd's ACLs read, following changes. */
  static async open(store: KvStore, keys: ClusterKeys, logger: Logger): Promise<EtcdAclStore> {
    const s = new EtcdAclStore(store, keys, logger);
    await s.mirror.start();
    return s;
  }

  close(): void {
    this.mirror.close();
  }

  bindings(): readonly AclBinding[] {
    return [...this.byPattern.values()].flat();
  }

  onChange(listener: AclChangeListener): void {
    this.listeners.push(listener);
  }

  async apply(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    for (const b of add) {
      const why = invalidBindingReason(b);
      if (why !== null) throw new Error(`invalid ACL binding ${describeBinding(b)}: ${why}`);
    }
    const byKey = new Map<string, { add: AclBinding[]; remove: Set<string> }>();
    const entry = (b: AclBinding) => {
      const key = this.keys.acl(b.pattern);
      let e = byKey.get(key);
      if (e === undefined) byKey.set(key, (e = { add: [], remove: new Set() }));
      return e;
    };
    for (const b of remove) entry(b).remove.add(bindingKey(b));
    for (const b of add) entry(b).add.push(b);
    const keys = [...byKey.keys()];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_WRITE) {
      await this.mirror.update(keys.slice(i, i + MAX_KEYS_PER_WRITE), (current) => {
        const next = new Map<string, string | null>();
        for (const [key, value] of current) {
          const change = byKey.get(key)!;
          const kept = bindingsOfRecord(key, value).filter((b) => !change.remove.has(bindingKey(b)));
          const present = new Set(kept.map(bindingKey));
          for (const b of change.add) {
            if (present.has(bindingKey(b))) continue;
            present.add(bindingKey(b));
            kept.push(b);
          }
          next.set(key, recordOfBindings(kept));
        }
        return next;
      });
    }
  }

  private applyChanges(changes: readonly MirrorChange[]): void {
    const added: AclBinding[] = [];
    const removed: AclBinding[] = [];
    for (const { key, after } of changes) {
      let next: AclBinding[];
      try {
        next = bindingsOfRecord(key, after);
      } catch (err) {
        // Only a hand-made key can be unreadable; its ACLs are not enforced, loudly.
        this.logger.error({ key, err }, 'ignoring an unreadable ACL record in etcd');
        next = [];
      }
      const before = this.byPattern.get(key) ?? [];
      const nextKeys = new Set(next.map(bindingKey));
      const beforeKeys = new Set(before.map(bindingKey));
      for (const b of before) if (!nextKeys.has(bindingKey(b))) removed.push(b);
      for (const b of next) if (!beforeKeys.has(bindingKey(b))) added.push(b);
      if (next.length === 0) this.byPattern.delete(key);
      else this.byPattern.set(key, next);
    }
    if (added.length > 0 || removed.length > 0) for (const l of this.listeners) l(added, removed);
  }
}
