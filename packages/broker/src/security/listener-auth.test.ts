import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { BrokerConfig } from '../config.ts';
import { listenerAuth } from './listener-auth.ts';
import { MemoryScramCredentialStore } from './sasl/scram-credential-store.ts';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";';
const scram = new MemoryScramCredentialStore();

function resolve(settings: Array<[string, string]>, listener = 'SASL_PLAINTEXT') {
  const config = new BrokerConfig([['listeners', 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0'], ...settings]);
  const l = config.listeners.find((x) => x.name === listener);
  if (l === undefined) throw new Error('no listener');
  return listenerAuth(config, l, scram);
}

describe('listenerAuth', () => {
  test('PLAINTEXT needs nothing', () => {
    expect(resolve([], 'PLAINTEXT').sasl).toBeNull();
  });

  test("Kafka's default mechanism (GSSAPI) is refused at start, naming the listener", () => {
    expect(() => resolve([])).toThrow(/listener SASL_PLAINTEXT: SASL mechanism GSSAPI is not supported/);
  });

  test('PLAIN without a JAAS config, OAUTHBEARER without a JWKS URL are refused', () => {
    expect(() => resolve([['sasl.enabled.mechanisms', 'PLAIN']])).toThrow(/PLAIN is enabled but no PLAIN credentials/);
    expect(() => resolve([['sasl.enabled.mechanisms', 'OAUTHBEARER']])).toThrow(/sasl.oauthbearer.jwks.endpoint.url is not set/);
    expect(() =>
      resolve([
        ['sasl.enabled.mechanisms', 'OAUTHBEARER'],
        ['sasl.oauthbearer.jwks.endpoint.url', 'https://idp.example/jwks'],
      ]),
    ).toThrow(/must be a file: URL/);
  });

  test('per-listener settings: mechanisms, frame limit, timeout, re-authentication per mechanism', () => {
    const auth = resolve([
      ['sasl.enabled.mechanisms', 'GSSAPI'],
      ['listener.name.sasl_plaintext.sasl.enabled.mechanisms', 'PLAIN,SCRAM-SHA-512'],
      ['listener.name.sasl_plaintext.plain.sasl.jaas.config', JAAS],
      ['listener.name.sasl_plaintext.sasl.server.max.receive.size', '4096'],
      ['listener.name.sasl_plaintext.plain.connections.max.reauth.ms', '60000'],
      ['sluice.authentication.timeout.ms', '5000'],
    ]);
    expect(auth.sasl?.mechanisms).toEqual(['PLAIN', 'SCRAM-SHA-512']);
    expect(auth.sasl?.maxReceiveBytes).toBe(4096);
    expect(auth.sasl?.authenticationTimeoutMs).toBe(5000);
    const a = auth.sasl!.newAuthenticator();
    expect(a.onRequest(17, 1, { mechanism: 'PLAIN' })).toMatchObject({ kind: 'respond', close: false });
    const done = a.onRequest(36, 2, { authBytes: Buffer.from('\u0000alice\u0000alice-secret') });
    expect(done).toMatchObject({ kind: 'respond', body: { errorCode: 0, sessionLifetimeMs: 60000 } });
    expect(a.principal).toBe('User:alice');
    // SCRAM sessions on this listener do not expire (no per-mechanism or listener value).
    const b = auth.sasl!.newAuthenticator();
    expect(b.onRequest(17, 1, { mechanism: 'SCRAM-SHA-256' })).toMatchObject({ kind: 'respond', close: true, body: { errorCode: 33 } });
  });

  test('OAUTHBEARER reads the JWKS file of a file: URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-jwks-'));
    try {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
      const file = join(dir, 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [jwk] }));
      const auth = resolve([
        ['sasl.enabled.mechanisms', 'OAUTHBEARER'],
        ['sasl.oauthbearer.jwks.endpoint.url', pathToFileURL(file).href],
      ]);
      expect(auth.sasl?.mechanisms).toEqual(['OAUTHBEARER']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("OAUTHBEARER's keys per listener and mechanism win, as Kafka's validator reads them", () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-jwks-'));
    try {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const file = join(dir, 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
      // The broker-wide URL names a file that does not exist: only the per-mechanism one is read.
      const auth = resolve([
        ['sasl.enabled.mechanisms', 'OAUTHBEARER'],
        ['sasl.oauthbearer.jwks.endpoint.url', pathToFileURL(join(dir, 'missing.json')).href],
        ['listener.name.sasl_plaintext.oauthbearer.sasl.oauthbearer.jwks.endpoint.url', pathToFileURL(file).href],
        ['listener.name.sasl_plaintext.oauthbearer.sasl.oauthbearer.expected.audience', 'kafka'],
      ]);
      expect(auth.sasl?.mechanisms).toEqual(['OAUTHBEARER']);
      expect(() =>
        resolve([
          ['sasl.enabled.mechanisms', 'OAUTHBEARER'],
          ['sasl.oauthbearer.jwks.endpoint.url', pathToFileURL(join(dir, 'missing.json')).href],
        ]),
      ).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
