import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ErrorCode } from '@sluice/protocol';
import { alterUserScramCredentials, describeUserScramCredentials, type ScramUpsertion } from './scram-admin.ts';
import { credentialFromPassword, credentialFromSaltedPassword, saltPassword, SCRAM_SHA_256, SCRAM_SHA_512 } from './scram-credential.ts';
import { FileScramCredentialStore, MemoryScramCredentialStore, SCRAM_CREDENTIALS_FILE, type ScramCredentialStore } from './scram-credential-store.ts';
import { ScramSaslServer } from './scram-server.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-scram-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What Kafka's admin client sends for `--add-config 'SCRAM-SHA-512=[iterations=N,password=…]'`. */
function upsertion(name: string, mechanism: number, password: string, iterations = 4096): ScramUpsertion {
  const mech = mechanism === 1 ? SCRAM_SHA_256 : SCRAM_SHA_512;
  const salt = Buffer.from(`salt-of-${name}`);
  const safeIterations = Math.max(1, Math.min(iterations, 20_000));
  return {
    name,
    mechanism,
    iterations,
    salt,
    saltedPassword: mechanism === 1 || mechanism === 2 ? saltPassword(mech, password, salt, safeIterations) : new Uint8Array(32),
  };
}

describe.each([
  ['memory', () => new MemoryScramCredentialStore()],
  ['file', () => new FileScramCredentialStore(dir)],
] as const)('%s store', (_kind, make) => {
  test('upsert, lookup, list, delete', () => {
    const s: ScramCredentialStore = make();
    const c = credentialFromPassword(SCRAM_SHA_256, 'pw', 4096);
    s.apply([
      { kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-256', credential: c },
      { kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-512', credential: credentialFromPassword(SCRAM_SHA_512, 'pw', 8192) },
    ]);
    expect(s.users()).toEqual(['alice', 'bob']);
    expect(s.scramCredential('bob', 'SCRAM-SHA-256')).toEqual(c);
    expect(s.scramCredential('bob', 'SCRAM-SHA-512')).toBeUndefined();
    expect([...s.credentialsOf('alice').keys()]).toEqual(['SCRAM-SHA-512']);
    s.apply([{ kind: 'delete', user: 'bob', mechanism: 'SCRAM-SHA-256' }]);
    expect(s.users()).toEqual(['alice']);
    expect(s.credentialsOf('bob').size).toBe(0);
  });

  test('a batch with an unknown mechanism changes nothing', () => {
    const s = make();
    const c = credentialFromPassword(SCRAM_SHA_256, 'pw', 4096);
    expect(() =>
      s.apply([
        { kind: 'upsert', user: 'a', mechanism: 'SCRAM-SHA-256', credential: c },
        { kind: 'upsert', user: 'b', mechanism: 'SCRAM-SHA-1', credential: c },
      ]),
    ).toThrow(/unknown SCRAM mechanism/);
    expect(s.users()).toEqual([]);
  });
});

describe('file store durability', () => {
  test('credentials survive a restart, byte for byte; the file holds no password', () => {
    const s = new FileScramCredentialStore(dir);
    const c = credentialFromPassword(SCRAM_SHA_512, 'super-secret-password', 4096);
    s.apply([{ kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-512', credential: c }]);
    const reopened = new FileScramCredentialStore(dir);
    expect(reopened.scramCredential('alice', 'SCRAM-SHA-512')).toEqual({
      ...c,
      salt: Buffer.from(c.salt),
      storedKey: Buffer.from(c.storedKey),
      serverKey: Buffer.from(c.serverKey),
    });
    const file = readFileSync(join(dir, SCRAM_CREDENTIALS_FILE), 'utf8');
    expect(file).not.toContain('super-secret-password');
    expect(JSON.parse(file)).toMatchObject({ version: 1, users: { alice: { 'SCRAM-SHA-512': { iterations: 4096 } } } });
    // A reopened store authenticates with the same password.
    const server = new ScramSaslServer(SCRAM_SHA_512, reopened, { nonce: () => 'S' });
    expect(server.evaluate(Buffer.from('n,,n=alice,r=c')).kind).toBe('challenge');
  });

  test('the file is private to the broker (0600) and no temp file is left', () => {
    const s = new FileScramCredentialStore(dir);
    writeFileSync(join(dir, `${SCRAM_CREDENTIALS_FILE}.tmp`), 'stale', { mode: 0o644 });
    s.apply([{ kind: 'upsert', user: 'a', mechanism: 'SCRAM-SHA-256', credential: credentialFromPassword(SCRAM_SHA_256, 'x', 4096) }]);
    expect(statSync(join(dir, SCRAM_CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
    expect(() => statSync(join(dir, `${SCRAM_CREDENTIALS_FILE}.tmp`))).toThrow();
  });

  test('a failed write leaves memory and file as they were', () => {
    const s = new FileScramCredentialStore(dir);
    s.apply([{ kind: 'upsert', user: 'a', mechanism: 'SCRAM-SHA-256', credential: credentialFromPassword(SCRAM_SHA_256, 'x', 4096) }]);
    const before = readFileSync(s.path, 'utf8');
    rmSync(dir, { recursive: true, force: true }); // the next write cannot create its temp file
    expect(() => s.apply([{ kind: 'delete', user: 'a', mechanism: 'SCRAM-SHA-256' }])).toThrow();
    expect(s.users()).toEqual(['a']);
    expect(before).toContain('"a"');
  });

  test.each([
    ['not JSON', '{', /JSON|Unexpected|Expected/],
    ['unknown version', '{"version":2,"users":{}}', /unsupported SCRAM credentials file/],
    [
      'unknown mechanism',
      '{"version":1,"users":{"a":{"SCRAM-SHA-1":{"salt":"","storedKey":"","serverKey":"","iterations":4096}}}}',
      /unknown mechanism SCRAM-SHA-1/,
    ],
    ['bad iterations', '{"version":1,"users":{"a":{"SCRAM-SHA-256":{"salt":"","storedKey":"","serverKey":"","iterations":-1}}}}', /bad iterations/],
  ])('a corrupt file (%s) is an error, never an empty store', (_what, content, error) => {
    writeFileSync(join(dir, SCRAM_CREDENTIALS_FILE), content);
    expect(() => new FileScramCredentialStore(dir)).toThrow(error);
  });
});

describe('AlterUserScramCredentials semantics (Kafka ScramControlManager)', () => {
  test('upsert stores only the keys derived from SaltedPassword; a client with the password logs in', async () => {
    const store = new MemoryScramCredentialStore();
    const u = upsertion('alice', 2, 'alice-secret', 4096);
    expect(await alterUserScramCredentials(store, { deletions: [], upsertions: [u] })).toEqual([{ user: 'alice', errorCode: 0, errorMessage: null }]);
    const stored = store.scramCredential('alice', 'SCRAM-SHA-512');
    expect(stored).toEqual(credentialFromSaltedPassword(SCRAM_SHA_512, u.salt, u.saltedPassword, 4096));
    expect(Object.keys(stored ?? {}).sort()).toEqual(['iterations', 'salt', 'serverKey', 'storedKey']);
    expect(stored).toEqual(credentialFromPassword(SCRAM_SHA_512, 'alice-secret', 4096, u.salt));
  });

  test('per-user errors, and the valid changes in the same request still apply', async () => {
    const store = new MemoryScramCredentialStore();
    await alterUserScramCredentials(store, { deletions: [], upsertions: [upsertion('old', 1, 'x')] });
    const results = await alterUserScramCredentials(store, {
      deletions: [
        { name: 'old', mechanism: 1 },
        { name: 'ghost', mechanism: 1 },
        { name: 'old2', mechanism: 9 },
        { name: '', mechanism: 1 },
      ],
      upsertions: [
        upsertion('new', 1, 'x'),
        upsertion('few', 1, 'x', 4095),
        upsertion('many', 2, 'x', 16385),
        upsertion('edge-lo', 1, 'x', 4096),
        upsertion('edge-hi', 2, 'x', 16384),
        upsertion('mech0', 0, 'x'),
        upsertion('dup', 1, 'x'),
        upsertion('dup', 2, 'x'),
      ],
    });
    expect(results).toEqual([
      { user: 'old', errorCode: 0, errorMessage: null },
      { user: 'new', errorCode: 0, errorMessage: null },
      { user: 'edge-lo', errorCode: 0, errorMessage: null },
      { user: 'edge-hi', errorCode: 0, errorMessage: null },
      { user: 'ghost', errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist' },
      { user: 'old2', errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' },
      { user: '', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' },
      { user: 'few', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations' },
      { user: 'many', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too many iterations' },
      { user: 'mech0', errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' },
      { user: 'dup', errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request' },
    ]);
    expect(store.users()).toEqual(['edge-hi', 'edge-lo', 'new']);
  });

  test('a user named twice: neither change applies (delete + upsert, two deletions)', async () => {
    const store = new MemoryScramCredentialStore();
    await alterUserScramCredentials(store, { deletions: [], upsertions: [upsertion('a', 1, 'x'), upsertion('b', 1, 'x')] });
    const results = await alterUserScramCredentials(store, {
      deletions: [
        { name: 'a', mechanism: 1 },
        { name: 'b', mechanism: 1 },
        { name: 'b', mechanism: 2 },
      ],
      upsertions: [upsertion('a', 2, 'y')],
    });
    expect(results.map((r) => [r.user, r.errorCode])).toEqual([
      ['b', ErrorCode.DUPLICATE_RESOURCE],
      ['a', ErrorCode.DUPLICATE_RESOURCE],
    ]);
    expect(store.users()).toEqual(['a', 'b']);
    expect(store.scramCredential('a', 'SCRAM-SHA-512')).toBeUndefined();
  });

  test('an upsert replaces the credential of the same mechanism, keeps the others', async () => {
    const store = new MemoryScramCredentialStore();
    await alterUserScramCredentials(store, { deletions: [], upsertions: [upsertion('a', 1, 'one')] });
    await alterUserScramCredentials(store, { deletions: [], upsertions: [upsertion('a', 2, 'two')] });
    await alterUserScramCredentials(store, { deletions: [], upsertions: [upsertion('a', 1, 'three', 8192)] });
    expect(describeUserScramCredentials(store, [{ name: 'a' }])).toEqual([
      {
        user: 'a',
        errorCode: 0,
        errorMessage: null,
        credentialInfos: [
          { mechanism: 1, iterations: 8192 },
          { mechanism: 2, iterations: 4096 },
        ],
      },
    ]);
  });

  test('nothing is written when nothing is accepted', async () => {
    let writes = 0;
    const store = new MemoryScramCredentialStore();
    const counting: typeof store = Object.assign(Object.create(store), { apply: () => void writes++ });
    await alterUserScramCredentials(counting, { deletions: [{ name: 'ghost', mechanism: 1 }], upsertions: [] });
    expect(writes).toBe(0);
  });
});

describe('DescribeUserScramCredentials semantics', () => {
  const store = new MemoryScramCredentialStore();
  alterUserScramCredentials(store, { deletions: [], upsertions: [upsertion('bob', 2, 'x', 5000), upsertion('alice', 1, 'x')] });

  test('null or empty: every user, sorted, mechanisms and iterations only', () => {
    const all = [
      { user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 4096 }] },
      { user: 'bob', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 2, iterations: 5000 }] },
    ];
    expect(describeUserScramCredentials(store, null)).toEqual(all);
    expect(describeUserScramCredentials(store, [])).toEqual(all);
  });

  test('named users: unknown is RESOURCE_NOT_FOUND, twice is DUPLICATE_RESOURCE', () => {
    expect(describeUserScramCredentials(store, [{ name: 'bob' }, { name: 'carol' }, { name: 'alice' }, { name: 'alice' }])).toEqual([
      { user: 'bob', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 2, iterations: 5000 }] },
      {
        user: 'carol',
        errorCode: ErrorCode.RESOURCE_NOT_FOUND,
        errorMessage: 'Attempt to describe a user credential that does not exist: carol',
        credentialInfos: [],
      },
      {
        user: 'alice',
        errorCode: ErrorCode.DUPLICATE_RESOURCE,
        errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request: alice',
        credentialInfos: [],
      },
    ]);
  });
});
