// Where ACL bindings live, behind one interface:
// - MemoryAclStore: tests, and brokers that want no persistence;
// - FileAclStore: `sluice-acls.json` in a directory the broker owns, replaced atomically (temp
//   file, fsync, rename, fsync dir: topics.ts's writeFileAtomically) on every change, so ACLs
//   survive restarts and a crash leaves the old or the new set, never a torn file.
// - cluster mode: the bindings in etcd (cluster/stores/etcd-acl-store.ts), shared by every broker.
// The authorizer keeps its own index over the bindings: it reads them once, then follows the
// store's change listener (a change made here, or through another broker in cluster mode).
//
// Contract: single-threaded (the broker's event loop); `apply` is all-or-nothing and, for the file
// store, durable before it returns (synchronous for these two; the etcd store's returns a promise
// settled once the change is committed and applied here). A failed write throws and changes
// nothing. Listeners are told of each change once it is the store's state.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../../topics.ts';
import type { AclBinding } from './acl-types.ts';
import {
  bindingKey,
  describeBinding,
  invalidBindingReason,
  operationCode,
  operationName,
  patternTypeCode,
  patternTypeName,
  permissionTypeCode,
  permissionTypeName,
  resourceTypeCode,
  resourceTypeName,
} from './acl-types.ts';

/** What changed in a store: bindings that were not there before, bindings that went. */
export type AclChangeListener = (added: readonly AclBinding[], removed: readonly AclBinding[]) => void;

export interface AclStore {
  /** Every binding, each once, in the order they were added. */
  bindings(): readonly AclBinding[];
  /** Removes `remove` and adds `add` (bindings already present are kept once), all or nothing. */
  apply(add: readonly AclBinding[], remove: readonly AclBinding[]): void | Promise<void>;
  /** Called after every change of the store's bindings, whoever made it. */
  onChange(listener: AclChangeListener): void;
}

function applied(current: ReadonlyMap<string, AclBinding>, add: readonly AclBinding[], remove: readonly AclBinding[]): Map<string, AclBinding> {
  const next = new Map(current);
  for (const b of remove) next.delete(bindingKey(b));
  for (const b of add) {
    const why = invalidBindingReason(b);
    if (why !== null) throw new Error(`invalid ACL binding ${describeBinding(b)}: ${why}`);
    const key = bindingKey(b);
    if (!next.has(key)) next.set(key, b);
  }
  return next;
}

export class MemoryAclStore implements AclStore {
  protected byKey: Map<string, AclBinding> = new Map();
  private readonly listeners: AclChangeListener[] = [];

  bindings(): readonly AclBinding[] {
    return [...this.byKey.values()];
  }

  apply(add: readonly AclBinding[], remove: readonly AclBinding[]): void {
    this.install(applied(this.byKey, add, remove));
  }

  onChange(listener: AclChangeListener): void {
    this.listeners.push(listener);
  }

  /** Makes `next` the store's bindings and tells the listeners what differs. */
  protected install(next: Map<string, AclBinding>): void {
    const removed = [...this.byKey].filter(([k]) => !next.has(k)).map(([, b]) => b);
    const added = [...next].filter(([k]) => !this.byKey.has(k)).map(([, b]) => b);
    this.byKey = next;
    if (added.length > 0 || removed.length > 0) for (const l of this.listeners) l(added, removed);
  }
}

export const ACLS_FILE = 'sluice-acls.json';

// The file format (version 1), set once written by a release. Enum values are Kafka's names
// (readable, and what kafka-acls prints), not codes:
// { "version": 1, "acls": [ { "resourceType": "TOPIC", "patternType": "LITERAL", "name": "orders",
//   "principal": "User:alice", "host": "*", "operation": "READ", "permissionType": "ALLOW" } ] }
export interface FileAcl {
  resourceType: string;
  patternType: string;
  name: string;
  principal: string;
  host: string;
  operation: string;
  permissionType: string;
}

/** A binding as the file (and etcd) spells it: Kafka's enum names. */
export function aclToRecord(b: AclBinding): FileAcl {
  return {
    resourceType: resourceTypeName(b.pattern.resourceType),
    patternType: patternTypeName(b.pattern.patternType),
    name: b.pattern.name,
    principal: b.entry.principal,
    host: b.entry.host,
    operation: operationName(b.entry.operation),
    permissionType: permissionTypeName(b.entry.permissionType),
  };
}

/** A binding read back from aclToRecord's form; throws naming `path` and `i` when invalid. */
export function aclFromRecord(a: FileAcl, path: string, i: number): AclBinding {
  const b: AclBinding = {
    pattern: { resourceType: resourceTypeCode(String(a.resourceType)), name: a.name, patternType: patternTypeCode(String(a.patternType)) },
    entry: {
      principal: a.principal,
      host: a.host,
      operation: operationCode(String(a.operation)),
      permissionType: permissionTypeCode(String(a.permissionType)),
    },
  };
  const why =
    typeof a.name !== 'string' || typeof a.principal !== 'string' || typeof a.host !== 'string'
      ? 'name, principal and host must be strings'
      : invalidBindingReason(b);
  if (why !== null) throw new Error(`${path}: ACL #${i} ${JSON.stringify(a)}: ${why}`);
  return b;
}

export class FileAclStore extends MemoryAclStore {
  readonly path: string;
  private readonly dir: string;

  /** Loads `<dir>/sluice-acls.json` when present; a corrupt file throws (never silently empty). */
  constructor(dir: string) {
    super();
    this.dir = dir;
    this.path = join(dir, ACLS_FILE);
    if (!existsSync(this.path)) return;
    const data = JSON.parse(readFileSync(this.path, 'utf8')) as { version?: unknown; acls?: unknown };
    if (data.version !== 1 || !Array.isArray(data.acls)) throw new Error(`${this.path}: unsupported ACL file (version ${String(data.version)})`);
    this.byKey = applied(
      new Map(),
      (data.acls as FileAcl[]).map((a, i) => aclFromRecord(a, this.path, i)),
      [],
    );
  }

  override apply(add: readonly AclBinding[], remove: readonly AclBinding[]): void {
    const next = applied(this.byKey, add, remove);
    if (next.size === this.byKey.size && [...next.keys()].every((k) => this.byKey.has(k))) return; // nothing changes: no write
    const acls = [...next.values()].map(aclToRecord);
    writeFileAtomically(this.dir, this.path, JSON.stringify({ version: 1, acls }, null, 1) + '\n');
    this.install(next);
  }
}
