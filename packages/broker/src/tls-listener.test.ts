// Per-listener TLS settings: `listener.name.<listener>.ssl.*` wins for that listener and the
// broker-wide `ssl.*` fills the rest, as Kafka resolves them; errors name the key as it was set.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrokerConfig, ConfigError } from './config.ts';
import { createLogger } from './logger.ts';
import { TlsListenerConfig, tlsSettingsFrom } from './tls-listener.ts';

const LISTENERS = 'PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094,INTERNAL://127.0.0.1:9095';
const PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,INTERNAL:SSL';
const logger = createLogger('silent', { pretty: false });

let dir: string;
let pemFile: string;

beforeAll(() => {
  // A self-signed EC certificate and key in one PEM file, made now (never committed).
  dir = mkdtempSync(join(tmpdir(), 'sluice-tls-listener-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  pemFile = join(dir, 'all.pem');
  writeFileSync(pemFile, readFileSync(join(dir, 'key.pem'), 'utf8') + readFileSync(join(dir, 'cert.pem'), 'utf8'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (entries: Record<string, string>) =>
  new BrokerConfig(Object.entries({ listeners: LISTENERS, 'listener.security.protocol.map': PROTOCOL_MAP, ...entries }));

describe('tlsSettingsFrom', () => {
  test('listener.name.<l>.ssl.* wins for that listener; the broker-wide ssl.* applies to the others', () => {
    const c = config({
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': '/etc/kafka/broker.pem',
      'ssl.client.auth': 'requested',
      'ssl.enabled.protocols': 'TLSv1.2,TLSv1.3',
      'listener.name.internal.ssl.keystore.type': 'PKCS12',
      'listener.name.internal.ssl.keystore.location': '/etc/kafka/internal.p12',
      'listener.name.internal.ssl.keystore.password': 'ks-pass',
      'listener.name.internal.ssl.key.password': 'key-pass',
      'listener.name.internal.ssl.truststore.type': 'PEM',
      'listener.name.internal.ssl.truststore.location': '/etc/kafka/ca.pem',
      'listener.name.internal.ssl.client.auth': 'required',
      'listener.name.internal.ssl.enabled.protocols': 'TLSv1.3',
      'listener.name.internal.ssl.cipher.suites': 'TLS_AES_256_GCM_SHA384',
      'listener.name.sasl_ssl.ssl.keystore.certificate.chain': '-----BEGIN CERTIFICATE-----',
      'listener.name.sasl_ssl.ssl.keystore.key': '-----BEGIN PRIVATE KEY-----',
      'listener.name.sasl_ssl.ssl.truststore.certificates': '-----BEGIN CERTIFICATE-----',
    });
    expect(tlsSettingsFrom(c, 'SSL')).toEqual({
      keystoreType: 'PEM',
      keystoreLocation: '/etc/kafka/broker.pem',
      truststoreType: 'JKS',
      clientAuth: 'requested',
      enabledProtocols: ['TLSv1.2', 'TLSv1.3'],
    });
    expect(tlsSettingsFrom(c, 'INTERNAL')).toEqual({
      keystoreType: 'PKCS12',
      keystoreLocation: '/etc/kafka/internal.p12',
      keystorePassword: 'ks-pass',
      keyPassword: 'key-pass',
      truststoreType: 'PEM',
      truststoreLocation: '/etc/kafka/ca.pem',
      clientAuth: 'required',
      enabledProtocols: ['TLSv1.3'],
      cipherSuites: ['TLS_AES_256_GCM_SHA384'],
    });
    expect(tlsSettingsFrom(c, 'SASL_SSL')).toMatchObject({
      keystoreType: 'PEM',
      keystoreLocation: '/etc/kafka/broker.pem',
      keystoreCertificateChain: '-----BEGIN CERTIFICATE-----',
      keystoreKey: '-----BEGIN PRIVATE KEY-----',
      truststoreCertificates: '-----BEGIN CERTIFICATE-----',
    });
  });

  test('a per-listener key for a listener that does not exist is refused', () => {
    expect(() => config({ 'listener.name.external.ssl.keystore.location': '/x.pem' })).toThrow(/there is no listener EXTERNAL/);
  });
});

describe('TlsListenerConfig', () => {
  test('a listener with only per-listener key store settings loads; the one without any fails naming ssl.keystore.location', () => {
    const c = config({ 'listener.name.internal.ssl.keystore.type': 'PEM', 'listener.name.internal.ssl.keystore.location': pemFile });
    const internal = new TlsListenerConfig(c, 'INTERNAL', logger);
    internal.close();
    expect(() => new TlsListenerConfig(c, 'SSL', logger)).toThrow(ConfigError);
    expect(() => new TlsListenerConfig(c, 'SSL', logger)).toThrow(/invalid config ssl\.keystore\.location: /);
  });

  test("an unusable per-listener setting is reported under that listener's key", () => {
    const c = config({
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pemFile,
      'listener.name.internal.ssl.cipher.suites': 'TLS_RSA_WITH_AES_128_CBC_SHA',
      'listener.name.sasl_ssl.ssl.keystore.location': join(dir, 'missing.pem'),
    });
    new TlsListenerConfig(c, 'SSL', logger).close();
    expect(() => new TlsListenerConfig(c, 'INTERNAL', logger)).toThrow(
      /invalid config listener\.name\.internal\.ssl\.cipher\.suites: unknown or unsupported cipher suite/,
    );
    expect(() => new TlsListenerConfig(c, 'SASL_SSL', logger)).toThrow(/invalid config listener\.name\.sasl_ssl\.ssl\.keystore\.location: cannot read/);
  });

  test('ssl.principal.mapping.rules per listener', () => {
    const c = config({
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pemFile,
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/L,DEFAULT',
      'listener.name.internal.ssl.principal.mapping.rules': 'RULE:^.*OU=([^,]+).*$/$1/,DEFAULT',
    });
    const ssl = new TlsListenerConfig(c, 'SSL', logger);
    const internal = new TlsListenerConfig(c, 'INTERNAL', logger);
    try {
      expect(ssl.principalOf('CN=Alice,OU=streaming,O=Acme')).toBe('User:alice');
      expect(internal.principalOf('CN=Alice,OU=streaming,O=Acme')).toBe('User:streaming');
      expect(internal.principalOf(undefined)).toBe('User:ANONYMOUS');
    } finally {
      ssl.close();
      internal.close();
    }
  });
});
