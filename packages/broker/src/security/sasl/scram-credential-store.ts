// Where SCRAM credentials live: salted (salt, iterations, StoredKey, ServerKey per user and
// mechanism), never passwords. Two implementations behind one interface:
// - MemoryScramCredentialStore: tests, and brokers that want no persistence;
// - FileScramCredentialStore: `sluice-scram-credentials.json` in a directory the broker owns,
//   replaced atomically (temp file, fsync, rename, fsync dir) on every change, so credentials
//   survive restarts and a crash leaves the old or the new file, never a torn one.
// Cluster mode keeps them in etcd instead (cluster/stores/etcd-scram-store.ts).
//
// Contract: single-threaded (the broker's event loop); `apply` is all-or-nothing, and for the
// file store durable before it returns. A failed write (EIO, ENOSPC) throws and leaves both the
// file and the in-memory state as they were.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from '../../topics.ts';
import type { ScramCredential } from './scram-credential.ts';
import { scramMechanismByName } from './scram-credential.ts';
import type { ScramCredentialLookup } from './scram-server.ts';

export type ScramCredentialChange =
  | { readonly kind: 'upsert'; readonly user: string; readonly mechanism: string; readonly credential: ScramCredential }
  | { readonly kind: 'delete'; readonly user: string; readonly mechanism: string };

export interface ScramCredentialStore extends ScramCredentialLookup {
  /** Every user with at least one credential, sorted. */
  users(): string[];
  /** The user's credentials by mechanism name (empty when the user has none). */
  credentialsOf(user: string): ReadonlyMap<string, ScramCredential>;
  /**
   * Applies every change or none. Deleting an absent credential is a no-op here (callers
   * validate). Synchronous for the local stores; the etcd store (cluster mode) returns a promise
   * settled once the change is committed and applied on this broker.
   */
  apply(changes: readonly ScramCredentialChange[]): void | Promise<void>;
}

type Table = Map<string, Map<string, ScramCredential>>;

function applied(table: Table, changes: readonly ScramCredentialChange[]): Table {
  const next: Table = new Map([...table].map(([u, m]) => [u, new Map(m)]));
  for (const c of changes) {
    if (scramMechanismByName(c.mechanism) === undefined) throw new Error(`unknown SCRAM mechanism ${c.mechanism}`);
    if (c.kind === 'upsert') {
      let m = next.get(c.user);
      if (m === undefined) next.set(c.user, (m = new Map()));
      m.set(c.mechanism, c.credential);
    } else {
      const m = next.get(c.user);
      m?.delete(c.mechanism);
      if (m !== undefined && m.size === 0) next.delete(c.user);
    }
  }
  return next;
}

export class MemoryScramCredentialStore implements ScramCredentialStore {
  protected table: Table = new Map();

  scramCredential(username: string, mechanism: string): ScramCredential | undefined {
    return this.table.get(username)?.get(mechanism);
  }

  users(): string[] {
    return [...this.table.keys()].sort();
  }

  credentialsOf(user: string): ReadonlyMap<string, ScramCredential> {
    return this.table.get(user) ?? new Map();
  }

  apply(changes: readonly ScramCredentialChange[]): void {
    this.table = applied(this.table, changes);
  }
}

export const SCRAM_CREDENTIALS_FILE = 'sluice-scram-credentials.json';

// The file format (version 1), set once written by a release:
// { "version": 1, "users": { "<user>": { "<mechanism name>": { "salt": "<base64>",
//   "storedKey": "<base64>", "serverKey": "<base64>", "iterations": <int> } } } }
interface FileV1 {
  version: 1;
  users: Record<string, Record<string, ScramCredentialRecord>>;
}

/** One credential as the file (and etcd) spell it: the byte strings base64. */
export interface ScramCredentialRecord {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

export function scramCredentialToRecord(c: ScramCredential): ScramCredentialRecord {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return { salt: b64(c.salt), storedKey: b64(c.storedKey), serverKey: b64(c.serverKey), iterations: c.iterations };
}

/** scramCredentialToRecord's form read back (the caller checks mechanism and iterations). */
export function scramCredentialFromRecord(c: ScramCredentialRecord): ScramCredential {
  return {
    salt: Buffer.from(c.salt, 'base64'),
    storedKey: Buffer.from(c.storedKey, 'base64'),
    serverKey: Buffer.from(c.serverKey, 'base64'),
    iterations: c.iterations,
  };
}

function decodeFile(text: string, path: string): Table {
  const data = JSON.parse(text) as FileV1;
  if (data.version !== 1 || typeof data.users !== 'object' || data.users === null)
    throw new Error(`${path}: unsupported SCRAM credentials file (version ${String(data.version)})`);
  const table: Table = new Map();
  for (const [user, mechs] of Object.entries(data.users)) {
    const m = new Map<string, ScramCredential>();
    for (const [mech, c] of Object.entries(mechs)) {
      if (scramMechanismByName(mech) === undefined) throw new Error(`${path}: user ${JSON.stringify(user)} has unknown mechanism ${mech}`);
      if (!Number.isInteger(c.iterations) || c.iterations <= 0) throw new Error(`${path}: user ${JSON.stringify(user)} ${mech}: bad iterations`);
      m.set(mech, scramCredentialFromRecord(c));
    }
    if (m.size > 0) table.set(user, m);
  }
  return table;
}

function encodeFile(table: Table): string {
  const users: FileV1['users'] = {};
  for (const user of [...table.keys()].sort()) {
    const mechs: FileV1['users'][string] = {};
    for (const [mech, c] of [...(table.get(user) as Map<string, ScramCredential>)].sort(([a], [b]) => a.localeCompare(b))) {
      mechs[mech] = scramCredentialToRecord(c);
    }
    users[user] = mechs;
  }
  return JSON.stringify({ version: 1, users } satisfies FileV1, null, 1) + '\n';
}

/**
 * Temp file, fsync, rename, fsync dir — topics.ts's writeFileAtomically, except that the file is
 * created 0600: StoredKey and ServerKey let their holder impersonate the broker to clients and
 * mount an offline dictionary attack on the passwords.
 */
function writeSecretFileAtomically(dir: string, file: string, text: string): void {
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true }); // a leftover temp file would keep its old mode
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dir);
}

export class FileScramCredentialStore extends MemoryScramCredentialStore {
  readonly path: string;
  private readonly dir: string;

  /** Loads `<dir>/sluice-scram-credentials.json` when present; a corrupt file throws (never silently empty). */
  constructor(dir: string) {
    super();
    this.dir = dir;
    this.path = join(dir, SCRAM_CREDENTIALS_FILE);
    if (existsSync(this.path)) this.table = decodeFile(readFileSync(this.path, 'utf8'), this.path);
  }

  override apply(changes: readonly ScramCredentialChange[]): void {
    const next = applied(this.table, changes);
    writeSecretFileAtomically(this.dir, this.path, encodeFile(next));
    this.table = next;
  }
}
