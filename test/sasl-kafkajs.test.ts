// kafkajs's own SASL client code (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) driven against Sluice's
// server-side mechanisms, through the real wire encoding of SaslAuthenticate on both sides:
// kafkajs encodes each request, our codec decodes it, the mechanism answers, our codec encodes
// the response, kafkajs decodes and checks it (for SCRAM: the server signature). No socket: the
// connection wiring is not part of this test, the mechanisms and the codec are.
import { generateKeyPairSync, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { ApiKey, decodeRequest, decodeRequestHeader, encodeResponse, FrameReader } from '@sluice/protocol';
import { JwksKeySet, JwtTokenValidator } from '../packages/broker/src/security/sasl/jwt.ts';
import { OAuthBearerSaslServer } from '../packages/broker/src/security/sasl/oauthbearer.ts';
import { PlainSaslServer, StaticPlainCredentials } from '../packages/broker/src/security/sasl/plain.ts';
import { alterUserScramCredentials } from '../packages/broker/src/security/sasl/scram-admin.ts';
import { saltPassword, SCRAM_SHA_256, SCRAM_SHA_512 } from '../packages/broker/src/security/sasl/scram-credential.ts';
import { MemoryScramCredentialStore } from '../packages/broker/src/security/sasl/scram-credential-store.ts';
import { ScramSaslServer } from '../packages/broker/src/security/sasl/scram-server.ts';
import type { SaslServer } from '../packages/broker/src/security/sasl/sasl-server.ts';

const require = createRequire(import.meta.url);
const kafkajsRequest = require('kafkajs/src/protocol/request');
const saslAuthenticateRequest = require('kafkajs/src/protocol/requests/saslAuthenticate/v1/request');
const saslAuthenticateResponse = require('kafkajs/src/protocol/requests/saslAuthenticate/v1/response');
const plainProvider = require('kafkajs/src/broker/saslAuthenticator/plain');
const scram256Provider = require('kafkajs/src/broker/saslAuthenticator/scram256');
const scram512Provider = require('kafkajs/src/broker/saslAuthenticator/scram512');
const oauthBearerProvider = require('kafkajs/src/broker/saslAuthenticator/oauthBearer');

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** kafkajs's saslAuthenticate callback, with our codec and `server` at the other end. */
function wire(server: SaslServer) {
  let correlationId = 0;
  return async ({ request, response }: { request: any; response?: any }) => {
    const authBytes = await request.encode();
    const encoded = await kafkajsRequest({ correlationId: ++correlationId, clientId: 'kafkajs-sasl', request: saslAuthenticateRequest({ authBytes }) });
    const reader = new FrameReader(1 << 20);
    reader.push(new Uint8Array(encoded.buffer));
    const frame = reader.next() as Uint8Array;
    const header = decodeRequestHeader(frame);
    expect(header.apiKey).toBe(ApiKey.SaslAuthenticate);
    const body = decodeRequest(header, frame) as { authBytes: Uint8Array };
    const step = server.evaluate(body.authBytes);
    const responseBody =
      step.kind === 'failure'
        ? { errorCode: step.errorCode, errorMessage: step.clientMessage, authBytes: new Uint8Array(0), sessionLifetimeMs: 0 }
        : { errorCode: 0, errorMessage: null, authBytes: step.token, sessionLifetimeMs: 0 };
    const [out] = encodeResponse(ApiKey.SaslAuthenticate, 1, header.correlationId, responseBody) as [Uint8Array];
    const decoded = await saslAuthenticateResponse.decode(Buffer.from(out.subarray(8)));
    await saslAuthenticateResponse.parse(decoded); // throws on an error code, as kafkajs does
    if (!response) return undefined;
    return response.parse(await response.decode(decoded.authBytes));
  };
}

function authenticate(provider: any, sasl: Record<string, unknown>, server: SaslServer): Promise<void> {
  return provider(sasl)({ host: 'sluice', port: 9092, logger: silent, saslAuthenticate: wire(server) }).authenticate();
}

describe('kafkajs SASL/PLAIN client', () => {
  const creds = new StaticPlainCredentials({ alice: 'alice-secret' });
  test('right password', async () => {
    const server = new PlainSaslServer(creds);
    await authenticate(plainProvider, { username: 'alice', password: 'alice-secret' }, server);
  });
  test('wrong password: kafkajs sees our error message', async () => {
    await expect(authenticate(plainProvider, { username: 'alice', password: 'nope' }, new PlainSaslServer(creds))).rejects.toThrow(
      /Invalid username or password/,
    );
  });
});

describe.each([
  [SCRAM_SHA_256, scram256Provider],
  [SCRAM_SHA_512, scram512Provider],
] as const)('kafkajs %s client', (mech, provider) => {
  // Created the way kafka-configs / Admin.alterUserScramCredentials creates users.
  const store = new MemoryScramCredentialStore();
  const salt = Buffer.from('0123456789abcdef0123456789abcdef');
  alterUserScramCredentials(store, {
    deletions: [],
    upsertions: [
      { name: 'alice', mechanism: mech.type, iterations: 4096, salt, saltedPassword: saltPassword(mech, 'alice-secret', salt, 4096) },
      { name: 'o=dd,user', mechanism: mech.type, iterations: 8192, salt, saltedPassword: saltPassword(mech, 'p', salt, 8192) },
    ],
  });

  test('right password; kafkajs verifies our server signature', async () => {
    const server = new ScramSaslServer(mech, store);
    await authenticate(provider, { username: 'alice', password: 'alice-secret' }, server);
    expect(server.evaluate(new Uint8Array(1))).toMatchObject({ kind: 'failure', reason: 'illegal-state' });
  });

  test('a username that needs =2C / =3D escaping', async () => {
    await authenticate(provider, { username: 'o=dd,user', password: 'p' }, new ScramSaslServer(mech, store));
  });

  test('wrong password is refused', async () => {
    await expect(authenticate(provider, { username: 'alice', password: 'alice-secreT' }, new ScramSaslServer(mech, store))).rejects.toThrow(
      /invalid credentials/,
    );
  });

  test('unknown user is refused', async () => {
    await expect(authenticate(provider, { username: 'bob', password: 'x' }, new ScramSaslServer(mech, store))).rejects.toThrow(/failed/);
  });
});

describe('kafkajs OAUTHBEARER client', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = JwksKeySet.fromJson(JSON.stringify({ keys: [{ ...(publicKey.export({ format: 'jwk' }) as object), kid: 'k1' }] }));
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  function token(claims: Record<string, unknown>): string {
    const input = `${b64({ alg: 'ES256', kid: 'k1' })}.${b64(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }
  const validator = new JwtTokenValidator(keys, { expectedAudiences: ['kafka'] });
  /** The server, with every step it answered recorded. */
  function recorded(): { server: SaslServer; steps: Array<ReturnType<SaslServer['evaluate']>> } {
    const inner = new OAuthBearerSaslServer(validator);
    const steps: Array<ReturnType<SaslServer['evaluate']>> = [];
    return {
      steps,
      server: { mechanism: inner.mechanism, evaluate: (t) => (steps.push(inner.evaluate(t)), steps[steps.length - 1] as ReturnType<SaslServer['evaluate']>) },
    };
  }

  test('a signed token authenticates as its subject', async () => {
    const { server, steps } = recorded();
    const value = token({ sub: 'svc-orders', aud: 'kafka', iat: now, exp: now + 600 });
    await authenticate(oauthBearerProvider, { oauthBearerProvider: async () => ({ value, extensions: { traceId: 'abc' } }) }, server);
    expect(steps).toEqual([{ kind: 'success', token: new Uint8Array(0), authorizationId: 'svc-orders', credentialExpiresAtMs: (now + 600) * 1000 }]);
  });

  test('an expired token gets the error challenge, never success', async () => {
    const { server, steps } = recorded();
    const value = token({ sub: 'svc-orders', aud: 'kafka', iat: now - 7200, exp: now - 3600 });
    // kafkajs treats the challenge as the end of its exchange; the server still waits for the
    // client's %x01 and fails then: the connection is not authenticated.
    await authenticate(oauthBearerProvider, { oauthBearerProvider: async () => ({ value }) }, server);
    expect(steps.map((s) => s.kind)).toEqual(['challenge']);
    expect(server.evaluate(Uint8Array.of(1))).toMatchObject({ kind: 'failure', clientMessage: '{"status":"invalid_token"}' });
  });
});
