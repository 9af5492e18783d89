import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { JwksKeySet, JwtTokenValidator, validateJwt } from './jwt.ts';
import { saslServerFactory } from './mechanisms.ts';
import { OAuthBearerSaslServer, parseClientInitialResponse } from './oauthbearer.ts';
import { SaslAuthenticator } from './sasl-authenticator.ts';

// Test keys, generated per run (never committed).
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = (k: KeyObject, kid: string, extra: Record<string, string> = {}) => ({ ...(k.export({ format: 'jwk' }) as object), kid, ...extra });
const JWKS = JSON.stringify({
  keys: [
    jwk(rsa.publicKey, 'rsa-1', { alg: 'RS256', use: 'sig' }),
    jwk(ec.publicKey, 'ec-1'),
    jwk(ed.publicKey, 'ed-1'),
    { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
  ],
});
const keys = JwksKeySet.fromJson(JWKS);

const NOW = 1_750_000_000_000;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

function jwt(claims: Record<string, unknown>, opts: { alg?: string; kid?: string | null; key?: KeyObject } = {}): string {
  const alg = opts.alg ?? 'RS256';
  const header: Record<string, unknown> = { alg, typ: 'JWT' };
  if (opts.kid !== null) header.kid = opts.kid ?? 'rsa-1';
  const input = `${b64(header)}.${b64(claims)}`;
  const key = opts.key ?? rsa.privateKey;
  let sig: Buffer;
  if (alg.startsWith('ES')) sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg.startsWith('PS'))
    sig = sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  else if (alg === 'EdDSA') sig = sign(null, Buffer.from(input), key);
  else sig = sign('sha256', Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}

const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', iat: NOW / 1000 - 60, exp: NOW / 1000 + 3600, scope: 'kafka', ...extra });

describe('JWT validation (Kafka broker validator semantics)', () => {
  test.each([
    ['RS256 by kid', jwt(claims())],
    ['ES256', jwt(claims(), { alg: 'ES256', kid: 'ec-1', key: ec.privateKey })],
    ['EdDSA', jwt(claims(), { alg: 'EdDSA', kid: 'ed-1', key: ed.privateKey })],
    ['ES256 without kid: the only EC key', jwt(claims(), { alg: 'ES256', kid: null, key: ec.privateKey })],
  ])('accepts %s', (_what, token) => {
    expect(validateJwt(token, keys, {}, NOW)).toEqual({
      ok: true,
      principalName: 'alice',
      expiresAtMs: NOW + 3_600_000,
      issuedAtMs: NOW - 60_000,
      scopes: ['kafka'],
    });
  });

  test('PS256 against a key without alg', () => {
    const ks = JwksKeySet.fromJson(JSON.stringify({ keys: [jwk(rsa.publicKey, 'r')] }));
    expect(validateJwt(jwt(claims(), { alg: 'PS256', kid: 'r' }), ks, {}, NOW).ok).toBe(true);
  });

  test.each([
    ['signed by another key', () => jwt(claims(), { key: other.privateKey }), /invalid signature/],
    ['alg none', () => `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims())}.`, /algorithm "none" is not allowed/],
    ['HS256 (symmetric keys are not used)', () => `${b64({ alg: 'HS256', kid: 'hmac' })}.${b64(claims())}.AAAA`, /HS256 is not supported/],
    ['unknown kid', () => jwt(claims(), { kid: 'nope' }), /no JWKS key with kid "nope"/],
    ['PS256 on a key restricted to RS256', () => jwt(claims(), { alg: 'PS256' }), /does not fit algorithm PS256/],
    ['EC signature under the RSA kid', () => jwt(claims(), { alg: 'ES256', kid: 'rsa-1', key: ec.privateKey }), /does not fit/],
    ['PS256 without kid: no key fits (the RSA key is RS256 only)', () => jwt(claims(), { alg: 'PS256', kid: null }), /0 JWKS keys fit/],
    ['expired', () => jwt(claims({ exp: NOW / 1000 - 31 })), /expired/],
    ['no exp', () => jwt(claims({ exp: undefined })), /no expiration time/],
    ['no iat', () => jwt(claims({ iat: undefined })), /no issued at/],
    ['not yet valid', () => jwt(claims({ nbf: NOW / 1000 + 31 })), /not yet valid/],
    ['no sub', () => jwt(claims({ sub: undefined })), /sub claim is missing/],
    ['blank sub', () => jwt(claims({ sub: '  ' })), /sub claim is missing or empty/],
    ['aud without an expected audience', () => jwt(claims({ aud: 'kafka' })), /no expected audience is configured/],
    ['empty scope', () => jwt(claims({ scope: ['a', ''] })), /scope claim holds an empty/],
    ['two parts', () => 'a.b', /three parts/],
    ['header not JSON', () => `${Buffer.from('{').toString('base64url')}.${b64(claims())}.AAAA`, /header is not JSON/],
    ['tampered payload', () => jwt(claims()).replace(/\.[^.]+\./, `.${b64(claims({ sub: 'admin' }))}.`), /invalid signature/],
  ])('refuses: %s', (_what, make, error) => {
    const r = validateJwt(make(), keys, {}, NOW);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(error);
    expect(!r.ok && r.error).toMatch(/^Could not validate the access token: /);
  });

  test('clock skew: 30 s by default, configurable', () => {
    const justExpired = jwt(claims({ exp: NOW / 1000 - 29 }));
    expect(validateJwt(justExpired, keys, {}, NOW).ok).toBe(true);
    expect(validateJwt(justExpired, keys, { clockSkewSeconds: 0 }, NOW).ok).toBe(false);
  });

  test('expected audience and issuer', () => {
    const t = jwt(claims({ aud: ['other', 'kafka'], iss: 'https://idp.example' }));
    expect(validateJwt(t, keys, { expectedAudiences: ['kafka'], expectedIssuer: 'https://idp.example' }, NOW).ok).toBe(true);
    expect(validateJwt(t, keys, { expectedAudiences: ['nope'] }, NOW)).toMatchObject({ ok: false, error: expect.stringMatching(/audience/) });
    expect(validateJwt(t, keys, { expectedAudiences: ['kafka'], expectedIssuer: 'https://evil.example' }, NOW)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/issuer/),
    });
    expect(validateJwt(jwt(claims()), keys, { expectedAudiences: ['kafka'] }, NOW).ok).toBe(false);
  });

  test('custom subject claim', () => {
    const t = jwt(claims({ client_id: ' svc-orders ' }));
    expect(validateJwt(t, keys, { subClaimName: 'client_id' }, NOW)).toMatchObject({ ok: true, principalName: 'svc-orders' });
  });

  test('a JWKS with a private key or no usable key is refused', () => {
    expect(() => JwksKeySet.fromJson(JSON.stringify({ keys: [rsa.privateKey.export({ format: 'jwk' })] }))).toThrow(/private key/);
    expect(() => JwksKeySet.fromJson(JSON.stringify({ keys: [{ kty: 'oct', k: 'eA' }] }))).toThrow(/no RSA, EC or OKP/);
    expect(() => JwksKeySet.fromJson('{}')).toThrow(/no "keys" array/);
    expect(keys.size).toBe(3);
  });
});

const initial = (token: string, authzid = '') => Buffer.from(`n,${authzid === '' ? '' : `a=${authzid}`},\u0001auth=Bearer ${token}\u0001\u0001`);

describe('OAUTHBEARER exchange (RFC 7628, Kafka)', () => {
  const validator = new JwtTokenValidator(keys, {}, () => NOW);

  test('a valid token authenticates as its subject, with its expiry', () => {
    const step = new OAuthBearerSaslServer(validator).evaluate(initial(jwt(claims())));
    expect(step).toEqual({ kind: 'success', token: new Uint8Array(0), authorizationId: 'alice', credentialExpiresAtMs: NOW + 3_600_000 });
  });

  test('an invalid token: error challenge, then the client %x01, then failure with that JSON', () => {
    const server = new OAuthBearerSaslServer(validator);
    const challenge = server.evaluate(initial(jwt(claims({ exp: NOW / 1000 - 3600 }))));
    expect(challenge.kind).toBe('challenge');
    expect(Buffer.from((challenge as { token: Uint8Array }).token).toString()).toBe('{"status":"invalid_token"}');
    const end = server.evaluate(Uint8Array.of(1));
    expect(end).toMatchObject({ kind: 'failure', errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, clientMessage: '{"status":"invalid_token"}' });
    expect((end as { detail: string }).detail).toMatch(/expired/);
  });

  test('authzid must be the token subject', () => {
    expect(new OAuthBearerSaslServer(validator).evaluate(initial(jwt(claims()), 'alice')).kind).toBe('success');
    expect(new OAuthBearerSaslServer(validator).evaluate(initial(jwt(claims()), 'admin'))).toMatchObject({
      kind: 'failure',
      clientMessage: "Authentication failed: Client requested an authorization id (admin) that is different from the token's principal name (alice)",
    });
  });

  test.each([
    ['no auth', 'n,,\u0001host=x\u0001\u0001', "'auth' not specified"],
    ['not Bearer', 'n,,\u0001auth=Basic abc\u0001\u0001', 'Invalid scheme'],
    ['bad token characters', 'n,,\u0001auth=Bearer a b\u0001\u0001', "invalid 'auth' format"],
    ['missing final separator', 'n,,\u0001auth=Bearer abc\u0001', 'Invalid OAUTHBEARER client first message'],
    ['gs2 y', 'y,,\u0001auth=Bearer abc\u0001\u0001', 'Invalid OAUTHBEARER client first message'],
  ])('malformed initial response: %s', (_what, text, error) => {
    expect(parseClientInitialResponse(text)).toContain(error);
    expect(new OAuthBearerSaslServer(validator).evaluate(Buffer.from(text))).toMatchObject({ kind: 'failure', reason: 'invalid-encoding' });
  });

  test('extensions are parsed and ignored; "bearer" is case-insensitive', () => {
    expect(parseClientInitialResponse('n,a=a=2Cb,\u0001host=h\u0001auth=bearer t.o.k\u0001port=9\u0001\u0001')).toEqual({
      authorizationId: 'a,b',
      token: 't.o.k',
      extensions: new Map([
        ['host', 'h'],
        ['port', '9'],
      ]),
    });
  });

  test('session lifetime is bounded by the token expiry and connections.max.reauth.ms', () => {
    const factory = saslServerFactory('SASL_SSL', ['OAUTHBEARER'], { oauthbearer: validator });
    for (const [maxReauthMs, expected] of [
      [0, 3_600_000],
      [60_000, 60_000],
      [7_200_000, 3_600_000],
    ] as const) {
      const a = new SaslAuthenticator({ enabledMechanisms: ['OAUTHBEARER'], createServer: factory, maxReauthMs, now: () => NOW });
      a.onRequest(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
      expect(a.onRequest(ApiKey.SaslAuthenticate, 2, { authBytes: initial(jwt(claims())) })).toMatchObject({
        body: { errorCode: 0, sessionLifetimeMs: expected },
      });
      expect(a.principal).toBe('User:alice');
      expect(a.sessionExpiresAt).toBe(NOW + expected);
    }
  });
});
