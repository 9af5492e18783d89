import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { saslServerFactory } from './mechanisms.ts';
import { StaticPlainCredentials } from './plain.ts';
import { type SaslAuthenticatorOptions, SaslAuthenticator } from './sasl-authenticator.ts';
import { credentialFromPassword, SCRAM_SHA_256 } from './scram-credential.ts';
import { MemoryScramCredentialStore } from './scram-credential-store.ts';

const plain = new StaticPlainCredentials({ alice: 'alice-secret', bob: 'bob-secret' });
const scram = new MemoryScramCredentialStore();
scram.apply([
  { kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-256', credential: credentialFromPassword(SCRAM_SHA_256, 'alice-secret', 4096, Buffer.alloc(16, 1)) },
]);
const factory = saslServerFactory('SASL_SSL', ['PLAIN', 'SCRAM-SHA-256'], { plain, scram, nonce: () => 'SRV' });
const tok = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

function make(extra: Partial<SaslAuthenticatorOptions> = {}): SaslAuthenticator {
  return new SaslAuthenticator({ enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'], createServer: factory, ...extra });
}

function plainLogin(a: SaslAuthenticator, user = 'alice', password = 'alice-secret') {
  expect(a.onRequest(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' })).toEqual({
    kind: 'respond',
    body: { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] },
    close: false,
  });
  return a.onRequest(ApiKey.SaslAuthenticate, 2, { authBytes: tok(`\u0000${user}\u0000${password}`) });
}

describe('before authentication', () => {
  test('ApiVersions passes to its handler; other APIs close the connection', () => {
    const a = make();
    expect(a.onRequest(ApiKey.ApiVersions, 3, {})).toEqual({ kind: 'handle' });
    expect(a.onRequest(ApiKey.Metadata, 12, {})).toMatchObject({ kind: 'close', reason: 'Unexpected Kafka request of type 3 during SASL handshake.' });
    expect(a.takeOutcome()).toMatchObject({ kind: 'failed', reason: 'illegal-state' });
    expect(a.onRequest(ApiKey.ApiVersions, 3, {})).toMatchObject({ kind: 'close' });
  });

  test('a SaslAuthenticate before the handshake closes', () => {
    expect(make().onRequest(ApiKey.SaslAuthenticate, 1, { authBytes: tok('x') }).kind).toBe('close');
  });

  test('an unsupported mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then close', () => {
    const a = make();
    expect(a.onRequest(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' })).toEqual({
      kind: 'respond',
      body: { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] },
      close: true,
    });
    expect(a.authenticated).toBe(false);
  });

  test('after the handshake, only SaslAuthenticate', () => {
    const a = make();
    a.onRequest(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    expect(a.onRequest(ApiKey.Produce, 9, {})).toMatchObject({ kind: 'close', reason: 'Unexpected Kafka request of type 0 during SASL authentication.' });
  });
});

describe('PLAIN via SaslHandshake v1 + SaslAuthenticate', () => {
  test('success: principal User:alice; then requests pass', () => {
    const a = make();
    expect(a.onRequest(ApiKey.ApiVersions, 3, {})).toEqual({ kind: 'handle' });
    expect(plainLogin(a)).toEqual({
      kind: 'respond',
      body: { errorCode: 0, errorMessage: null, authBytes: new Uint8Array(0), sessionLifetimeMs: 0 },
      close: false,
    });
    expect(a.authenticated).toBe(true);
    expect(a.principal).toBe('User:alice');
    expect(a.mechanism).toBe('PLAIN');
    expect(a.takeOutcome()).toEqual({ kind: 'authenticated', mechanism: 'PLAIN', principal: 'User:alice', reauthentication: false });
    expect(a.takeOutcome()).toBeNull();
    expect(a.onRequest(ApiKey.Fetch, 13, {})).toEqual({ kind: 'handle' });
    expect(a.sessionExpiresAt).toBeNull();
  });

  test('wrong password: SASL_AUTHENTICATION_FAILED with the message, then close', () => {
    const a = make();
    expect(plainLogin(a, 'alice', 'nope')).toEqual({
      kind: 'respond',
      body: {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: 'Authentication failed: Invalid username or password',
        authBytes: new Uint8Array(0),
        sessionLifetimeMs: 0,
      },
      close: true,
    });
    expect(a.authenticated).toBe(false);
    expect(a.takeOutcome()).toMatchObject({ kind: 'failed', mechanism: 'PLAIN', reason: 'invalid-proof' });
    expect(a.onRequest(ApiKey.Metadata, 12, {}).kind).toBe('close');
  });
});

describe('SCRAM over the v0 unframed token flow', () => {
  test('handshake v0, then raw tokens both ways', () => {
    const a = make();
    expect(a.onRequest(ApiKey.SaslHandshake, 0, { mechanism: 'SCRAM-SHA-256' })).toMatchObject({ kind: 'respond', close: false });
    expect(a.expectsUnframedToken).toBe(true);
    const bare = 'n=alice,r=cli';
    const first = a.onUnframedToken(tok(`n,,${bare}`));
    expect(first.kind).toBe('send-token');
    const serverFirst = Buffer.from((first as { token: Uint8Array }).token).toString();
    expect(serverFirst).toBe(`r=cliSRV,s=${Buffer.alloc(16, 1).toString('base64')},i=4096`);
    // The client side, by hand (RFC 5802).
    const salted = pbkdf2Sync('alice-secret', Buffer.alloc(16, 1), 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const without = 'c=biws,r=cliSRV';
    const sig = createHmac('sha256', createHash('sha256').update(clientKey).digest()).update(`${bare},${serverFirst},${without}`).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (sig[i] as number))).toString('base64');
    const final = a.onUnframedToken(tok(`${without},p=${proof}`));
    expect(final.kind).toBe('send-token');
    expect(Buffer.from((final as { token: Uint8Array }).token).toString()).toMatch(/^v=/);
    expect(a.expectsUnframedToken).toBe(false);
    expect(a.principal).toBe('User:alice');
    expect(a.onRequest(ApiKey.Metadata, 1, {})).toEqual({ kind: 'handle' });
  });

  test('a failed unframed exchange closes without an answer', () => {
    const a = make();
    a.onRequest(ApiKey.SaslHandshake, 0, { mechanism: 'SCRAM-SHA-256' });
    expect(a.onUnframedToken(tok('n,,n=mallory,r=x'))).toMatchObject({ kind: 'close' });
    expect(a.takeOutcome()).toMatchObject({ kind: 'failed', reason: 'unknown-user' });
  });

  test('a Kafka request where a raw token is expected closes', () => {
    const a = make();
    a.onRequest(ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' });
    expect(a.onRequest(ApiKey.ApiVersions, 0, {}).kind).toBe('close');
  });
});

describe('KIP-368 session lifetime and re-authentication', () => {
  function clocked(maxReauthMs: number) {
    let t = 1_000_000;
    const a = make({ maxReauthMs, now: () => t });
    return { a, advance: (ms: number) => (t += ms) };
  }

  test('connections.max.reauth.ms: the lifetime is sent, and an expired session is closed', () => {
    const { a, advance } = clocked(60_000);
    expect(plainLogin(a)).toMatchObject({ body: { sessionLifetimeMs: 60_000 } });
    expect(a.sessionExpiresAt).toBe(1_060_000);
    advance(60_000);
    expect(a.onRequest(ApiKey.Fetch, 13, {})).toEqual({ kind: 'handle' });
    advance(1);
    expect(a.onRequest(ApiKey.Fetch, 13, {})).toMatchObject({ kind: 'close', reason: 'Session expired for User:alice; closing the connection' });
  });

  test('re-authentication with the same mechanism and principal renews the session', () => {
    const { a, advance } = clocked(60_000);
    plainLogin(a);
    a.takeOutcome();
    advance(59_000);
    expect(plainLogin(a)).toMatchObject({ kind: 'respond', body: { errorCode: 0, sessionLifetimeMs: 60_000 }, close: false });
    expect(a.takeOutcome()).toEqual({ kind: 'authenticated', mechanism: 'PLAIN', principal: 'User:alice', reauthentication: true });
    advance(59_000);
    expect(a.onRequest(ApiKey.Fetch, 13, {})).toEqual({ kind: 'handle' });
  });

  test('re-authentication may not change the principal', () => {
    const { a } = clocked(60_000);
    plainLogin(a);
    expect(plainLogin(a, 'bob', 'bob-secret')).toMatchObject({
      kind: 'respond',
      body: { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: 'Cannot change principals during re-authentication from User:alice: User:bob' },
      close: true,
    });
    expect(a.authenticated).toBe(false);
  });

  test('re-authentication may not change the mechanism', () => {
    const { a } = clocked(60_000);
    plainLogin(a);
    expect(a.onRequest(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' })).toMatchObject({
      kind: 'respond',
      body: { errorCode: ErrorCode.ILLEGAL_SASL_STATE },
      close: true,
    });
  });

  test('a failed re-authentication closes', () => {
    const { a } = clocked(60_000);
    plainLogin(a);
    expect(plainLogin(a, 'alice', 'wrong')).toMatchObject({ body: { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED }, close: true });
    expect(a.onRequest(ApiKey.Fetch, 13, {}).kind).toBe('close');
  });
});

describe('mechanism factory', () => {
  test.each([
    [['GSSAPI'], { plain, scram }, /GSSAPI is not supported/],
    [['OAUTHBEARER'], { plain, scram }, /OAUTHBEARER is enabled but no token validator/],
    [[], { plain, scram }, /is empty/],
    [['PLAIN'], { scram }, /no PLAIN credentials/],
    [['SCRAM-SHA-512'], { plain }, /no SCRAM credential store/],
  ])('refuses %j', (enabled, sources, error) => {
    expect(() => saslServerFactory('SASL_SSL', enabled, sources)).toThrow(error);
  });

  test('serves only the enabled mechanisms', () => {
    const f = saslServerFactory('SASL_PLAINTEXT', ['SCRAM-SHA-256'], { scram });
    expect(f('SCRAM-SHA-256').mechanism).toBe('SCRAM-SHA-256');
    expect(() => f('PLAIN')).toThrow(/not enabled/);
  });
});

describe('random request sequences', () => {
  test('2000 sequences of wrong or misplaced requests: never authenticated, never a throw, closed at the end', () => {
    let seed = 99;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let i = 0; i < 2000; i++) {
      const a = make();
      let closed = false;
      for (let step = 0; step < 8 && !closed; step++) {
        if (a.expectsUnframedToken && rnd(2) === 0) {
          const g = a.onUnframedToken(tok(['n,,n=alice,r=x', '\u0000alice\u0000bad', 'garbage'][rnd(3)] as string));
          closed = g.kind === 'close';
          continue;
        }
        const choice = rnd(5);
        const g =
          choice === 0
            ? a.onRequest(ApiKey.ApiVersions, rnd(4), {})
            : choice === 1
              ? a.onRequest(ApiKey.SaslHandshake, rnd(2), { mechanism: ['PLAIN', 'SCRAM-SHA-256', 'GSSAPI', ''][rnd(4)] as string })
              : choice === 2
                ? a.onRequest(ApiKey.SaslAuthenticate, rnd(3), {
                    authBytes: tok(['\u0000alice\u0000wrong', 'n,,n=alice,r=x', 'c=biws,r=xSRV,p=AAAA', ''][rnd(4)] as string),
                  })
                : a.onRequest([ApiKey.Metadata, ApiKey.Produce, ApiKey.Fetch][rnd(3)] as number, 1, {});
        if (g.kind === 'close' || (g.kind === 'respond' && g.close)) closed = true;
        expect(a.authenticated).toBe(false);
      }
      expect(a.principal).toBeNull();
    }
  });
});
