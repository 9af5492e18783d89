import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '@sluice/protocol';
import { credentialFromPassword, type ScramCredential, SCRAM_SHA_256, SCRAM_SHA_512, type ScramDigest } from './scram-credential.ts';
import { decodeSaslName, encodeSaslName, parseClientFinal, parseClientFirst } from './scram-messages.ts';
import { type ScramCredentialLookup, ScramSaslServer, type ScramServerMechanism } from './scram-server.ts';
import type { SaslStep } from './sasl-server.ts';

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (step: SaslStep) => {
  if (step.kind === 'failure') throw new Error(`unexpected failure: ${step.detail}`);
  return Buffer.from(step.token).toString('utf8');
};

function lookup(users: Record<string, Record<string, ScramCredential>>): ScramCredentialLookup {
  return { scramCredential: (u, m) => users[u]?.[m] };
}

/** An independent client side (RFC 5802 section 3), used to drive the server in these tests. */
function clientFinal(digest: ScramDigest, password: string, clientFirstBare: string, serverFirst: string, gs2Header = 'n,,') {
  const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s as string, 'base64'), Number(attrs.i), digest.keyLength, digest.hash);
  const clientKey = createHmac(digest.hash, salted).update('Client Key').digest();
  const storedKey = createHash(digest.hash).update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(gs2Header).toString('base64')},r=${attrs.r}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = createHmac(digest.hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] as number)));
  const serverKey = createHmac(digest.hash, salted).update('Server Key').digest();
  const expectedServerFinal = `v=${createHmac(digest.hash, serverKey).update(authMessage).digest('base64')}`;
  return { message: `${withoutProof},p=${proof.toString('base64')}`, expectedServerFinal, withoutProof };
}

describe('RFC test vectors (fixed nonces)', () => {
  test('RFC 7677 section 3: SCRAM-SHA-256, user "user", password "pencil"', () => {
    const cred = credentialFromPassword(SCRAM_SHA_256, 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const server = new ScramSaslServer(SCRAM_SHA_256, lookup({ user: { 'SCRAM-SHA-256': cred } }), { nonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' });
    const first = server.evaluate(utf8('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(first.kind).toBe('challenge');
    expect(text(first)).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const final = server.evaluate(utf8('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    expect(final.kind).toBe('success');
    expect(text(final)).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    expect(final).toMatchObject({ authorizationId: 'user' });
  });

  test('RFC 5802 section 5: SCRAM-SHA-1 (the server is generic over the hash)', () => {
    const sha1: ScramServerMechanism = { name: 'SCRAM-SHA-1', hash: 'sha1', keyLength: 20, minIterations: 4096 };
    const cred = credentialFromPassword(sha1, 'pencil', 4096, Buffer.from('QSXCR+Q6sek8bf92', 'base64'));
    const server = new ScramSaslServer(sha1, lookup({ user: { 'SCRAM-SHA-1': cred } }), { nonce: () => '3rfcNHYJY1ZVvWVs7j' });
    expect(text(server.evaluate(utf8('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL')))).toBe('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    const final = server.evaluate(utf8('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
    expect(text(final)).toBe('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
  });

  test('RFC 7677 exchange with a wrong proof is refused', () => {
    const cred = credentialFromPassword(SCRAM_SHA_256, 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const server = new ScramSaslServer(SCRAM_SHA_256, lookup({ user: { 'SCRAM-SHA-256': cred } }), { nonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' });
    server.evaluate(utf8('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    const final = server.evaluate(utf8('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVM='));
    expect(final).toMatchObject({ kind: 'failure', reason: 'invalid-proof', errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED });
  });
});

describe.each([SCRAM_SHA_256, SCRAM_SHA_512])('%s exchanges', (mech) => {
  const users = {
    alice: { [mech.name]: credentialFromPassword(mech, 'alice-secret', 4096) },
    'a,b=c': { [mech.name]: credentialFromPassword(mech, 'odd', 8192) },
    weak: { [mech.name]: credentialFromPassword(mech, 'weak', 1000) },
  };
  const store = lookup(users);
  const GENERIC = `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mech.name}`;

  function exchange(user: string, password: string, opts: { gs2?: string; cnonce?: string } = {}) {
    const gs2 = opts.gs2 ?? 'n,,';
    const bare = `n=${encodeSaslName(user)},r=${opts.cnonce ?? 'clientNonce123'}`;
    const server = new ScramSaslServer(mech, store);
    const first = server.evaluate(utf8(gs2 + bare));
    if (first.kind !== 'challenge') return { server, first, final: undefined, expected: undefined };
    const c = clientFinal(mech, password, bare, text(first), gs2);
    return { server, first, final: server.evaluate(utf8(c.message)), expected: c.expectedServerFinal };
  }

  test('the right password succeeds and the server proves it knows the key', () => {
    const { first, final, expected } = exchange('alice', 'alice-secret');
    expect(text(first)).toMatch(/^r=clientNonce123[\x21-\x2b\x2d-\x7e]{8,},s=[A-Za-z0-9+/=]+,i=4096$/);
    expect(final?.kind).toBe('success');
    expect(text(final as SaslStep)).toBe(expected);
    expect(final).toMatchObject({ authorizationId: 'alice' });
  });

  test('a wrong password fails with the generic message', () => {
    const { final } = exchange('alice', 'alice-secreT');
    expect(final).toMatchObject({ kind: 'failure', reason: 'invalid-proof', clientMessage: GENERIC, errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED });
  });

  test('a saslname with =2C and =3D is the user "a,b=c"', () => {
    const { final } = exchange('a,b=c', 'odd');
    expect(final).toMatchObject({ kind: 'success', authorizationId: 'a,b=c' });
  });

  test('an unknown user fails at the first message, with the generic message', () => {
    const { first } = exchange('mallory', 'x');
    expect(first).toMatchObject({ kind: 'failure', reason: 'unknown-user', clientMessage: GENERIC });
  });

  test('a credential below the mechanism minimum iterations is refused', () => {
    const { first } = exchange('weak', 'weak');
    expect(first).toMatchObject({ kind: 'failure', clientMessage: GENERIC });
    expect((first as { detail: string }).detail).toContain('Iterations 1000 is less than the minimum 4096');
  });

  test('authzid equal to the username is accepted; the channel binding then echoes it', () => {
    const { final } = exchange('alice', 'alice-secret', { gs2: 'n,a=alice,' });
    expect(final).toMatchObject({ kind: 'success', authorizationId: 'alice' });
  });

  test('authzid of another user is refused with its own message (as Kafka)', () => {
    const { first } = exchange('alice', 'alice-secret', { gs2: 'n,a=admin,' });
    expect(first).toMatchObject({
      kind: 'failure',
      clientMessage: 'Authentication failed: Client requested an authorization id that is different from username',
    });
  });

  test('the final message must carry the full nonce', () => {
    const server = new ScramSaslServer(mech, store, { nonce: () => 'SERVER' });
    const bare = 'n=alice,r=abc';
    server.evaluate(utf8(`n,,${bare}`));
    const forged = clientFinal(mech, 'alice-secret', bare, `r=abcOTHER,s=${Buffer.from(users.alice[mech.name]!.salt).toString('base64')},i=4096`);
    expect(server.evaluate(utf8(forged.message))).toMatchObject({ kind: 'failure', detail: 'Invalid client nonce in the final client message.' });
  });

  test('the channel binding must be base64 of the gs2 header', () => {
    const server = new ScramSaslServer(mech, store, { nonce: () => 'S' });
    const bare = 'n=alice,r=abc';
    const serverFirst = text(server.evaluate(utf8(`n,,${bare}`)));
    // A correct proof over c=eSws ("y,,"): the binding itself is what is wrong.
    const c = clientFinal(mech, 'alice-secret', bare, serverFirst, 'y,,');
    expect(server.evaluate(utf8(c.message))).toMatchObject({ kind: 'failure', reason: 'channel-bindings-dont-match' });
  });

  test('tokenauth=true (delegation tokens) is refused; other extensions are ignored', () => {
    const refused = new ScramSaslServer(mech, store).evaluate(utf8('n,,n=alice,r=abc,tokenauth=true'));
    expect(refused).toMatchObject({ kind: 'failure', reason: 'extensions-not-supported' });
    const upper = new ScramSaslServer(mech, store).evaluate(utf8('n,,n=alice,r=abc,tokenauth=TRUE'));
    expect(upper).toMatchObject({ kind: 'failure', reason: 'extensions-not-supported' });
    const ignored = new ScramSaslServer(mech, store).evaluate(utf8('n,,n=alice,r=abc,tokenauth=false,foo=bar'));
    expect(ignored.kind).toBe('challenge');
  });

  test('extensions in the client final message enter AuthMessage as sent', () => {
    const server = new ScramSaslServer(mech, store, { nonce: () => 'S' });
    const bare = 'n=alice,r=abc';
    const serverFirst = text(server.evaluate(utf8(`n,,${bare}`)));
    const salted = pbkdf2Sync('alice-secret', users.alice[mech.name]!.salt, 4096, mech.keyLength, mech.hash);
    const clientKey = createHmac(mech.hash, salted).update('Client Key').digest();
    const withoutProof = 'c=biws,r=abcS,x=y';
    const sig = createHmac(mech.hash, createHash(mech.hash).update(clientKey).digest()).update(`${bare},${serverFirst},${withoutProof}`).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (sig[i] as number))).toString('base64');
    expect(server.evaluate(utf8(`${withoutProof},p=${proof}`)).kind).toBe('success');
  });

  test('after the outcome, any token is ILLEGAL_SASL_STATE', () => {
    const { server } = exchange('alice', 'alice-secret');
    expect(server.evaluate(utf8('n,,n=alice,r=x'))).toMatchObject({ kind: 'failure', errorCode: ErrorCode.ILLEGAL_SASL_STATE });
    const failed = exchange('alice', 'wrong').server;
    expect(failed.evaluate(utf8('n,,n=alice,r=x'))).toMatchObject({ kind: 'failure', errorCode: ErrorCode.ILLEGAL_SASL_STATE });
  });
});

describe('malformed client messages', () => {
  const store = lookup({ alice: { 'SCRAM-SHA-256': credentialFromPassword(SCRAM_SHA_256, 'pw', 4096) } });
  test.each([
    ['empty', '', 'invalid-encoding'],
    ['no gs2 header', 'n=alice,r=abc', 'invalid-encoding'],
    ['channel binding "p="', 'p=tls-unique,,n=alice,r=abc', 'channel-binding-not-supported'],
    ['gs2 "y"', 'y,,n=alice,r=abc', 'channel-binding-not-supported'],
    ['mandatory extension', 'n,,m=ext,n=alice,r=abc', 'extensions-not-supported'],
    ['bare "=" in saslname', 'n,,n=al=ice,r=abc', 'invalid-encoding'],
    ['unknown =XX escape', 'n,,n=al=2Dice,r=abc', 'invalid-encoding'],
    ['empty username', 'n,,n=,r=abc', 'invalid-encoding'],
    ['empty nonce', 'n,,n=alice,r=', 'invalid-encoding'],
    ['nonce with a space', 'n,,n=alice,r=a b', 'invalid-encoding'],
    ['attributes out of order', 'n,,r=abc,n=alice', 'invalid-encoding'],
    ['NUL in username', 'n,,n=al\u0000ice,r=abc', 'invalid-encoding'],
    ['trailing comma', 'n,,n=alice,r=abc,', 'invalid-encoding'],
  ])('client first: %s', (_what, message, reason) => {
    expect(new ScramSaslServer(SCRAM_SHA_256, store).evaluate(utf8(message))).toMatchObject({ kind: 'failure', reason });
  });

  test('client first: invalid UTF-8', () => {
    expect(new ScramSaslServer(SCRAM_SHA_256, store).evaluate(Uint8Array.from([0x6e, 0x2c, 0x2c, 0xc3]))).toMatchObject({
      kind: 'failure',
      reason: 'invalid-encoding',
    });
  });

  test.each([
    ['empty', ''],
    ['no proof', 'c=biws,r=abcS'],
    ['proof not base64', 'c=biws,r=abcS,p=***'],
    ['channel binding not base64', 'c=b!ws,r=abcS,p=AAAA'],
    ['attributes out of order', 'r=abcS,c=biws,p=AAAA'],
    ['a second client-first instead', 'n,,n=alice,r=abc'],
  ])('client final: %s', (_what, message) => {
    const server = new ScramSaslServer(SCRAM_SHA_256, store, { nonce: () => 'S' });
    expect(server.evaluate(utf8('n,,n=alice,r=abc')).kind).toBe('challenge');
    expect(server.evaluate(utf8(message))).toMatchObject({ kind: 'failure', reason: 'invalid-encoding' });
  });

  test('client final: a proof of the wrong length', () => {
    const server = new ScramSaslServer(SCRAM_SHA_256, store, { nonce: () => 'S' });
    server.evaluate(utf8('n,,n=alice,r=abc'));
    expect(server.evaluate(utf8('c=biws,r=abcS,p=AAAA'))).toMatchObject({ kind: 'failure', reason: 'invalid-proof' });
  });
});

describe('message grammar', () => {
  test('saslname escaping round-trips', () => {
    for (const name of ['alice', 'a,b', 'a=b', '=2C', ',,==', 'ü=,']) expect(decodeSaslName(encodeSaslName(name))).toBe(name);
    expect(encodeSaslName('a,b=c')).toBe('a=2Cb=3Dc');
  });

  test('client first keeps the bare message as sent', () => {
    const r = parseClientFirst('n,a=x=2Cy,n=u,r=N0nce,ext=1,other=2');
    expect(r).toEqual({
      ok: true,
      value: {
        gs2Header: 'n,a=x=2Cy,',
        authorizationId: 'x,y',
        username: 'u',
        clientNonce: 'N0nce',
        extensions: new Map([
          ['ext', '1'],
          ['other', '2'],
        ]),
        bare: 'n=u,r=N0nce,ext=1,other=2',
      },
    });
  });

  test('client final keeps the text without proof as sent', () => {
    const r = parseClientFinal('c=biws,r=abc,e=1,p=AAAA');
    expect(r.ok && r.value.withoutProof).toBe('c=biws,r=abc,e=1');
    expect(r.ok && Buffer.from(r.value.channelBinding).toString()).toBe('n,,');
  });
});
