// Test certificates made at test time with openssl (never committed): a CA, a server
// certificate for localhost / 127.0.0.1, a client certificate for mTLS, and the server key in
// the forms a broker can load (PEM file with key and chain, PKCS12 with OpenSSL 3's defaults).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STORE_PASSWORD = 'test-store-pass';

export interface TestPki {
  readonly dir: string;
  readonly caPem: string;
  /** Server key + certificate + CA in one PEM file (ssl.keystore.type=PEM, ssl.keystore.location). */
  readonly serverPemFile: string;
  /** Server key and chain as PKCS12 written by OpenSSL 3's defaults (PBES2, AES-256-CBC). */
  readonly serverP12: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** The client certificate's subject as RFC 2253 (what Kafka's principal mapping sees). */
  readonly clientSubject: string;
  remove(): void;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Sluice Test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/O=Acme/OU=streaming/CN=alice');
  ssl(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'client.pem',
    '-days',
    '2',
    '-extfile',
    'client.ext',
  );
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  writeFileSync(join(dir, 'server-all.pem'), read('server.key') + read('server.pem') + read('ca.pem'));
  ssl(
    'pkcs12',
    '-export',
    '-in',
    'server.pem',
    '-inkey',
    'server.key',
    '-certfile',
    'ca.pem',
    '-name',
    'broker',
    '-out',
    'server.p12',
    '-passout',
    `pass:${STORE_PASSWORD}`,
  );
  return {
    dir,
    caPem: join(dir, 'ca.pem'),
    serverPemFile: join(dir, 'server-all.pem'),
    serverP12: join(dir, 'server.p12'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    clientSubject: 'CN=alice,OU=streaming,O=Acme',
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The port of the broker's listener `name` from its ready line. */
export function listenerPort(output: string, name: string): number {
  // Not preceded by a name character: SSL must not match inside SASL_SSL.
  const m = new RegExp(`(?<![A-Za-z0-9_])${name}://[^:,\\s]+:(\\d+)`).exec(output);
  if (m === null) throw new Error(`no ${name} listener in:\n${output}`);
  return Number(m[1]);
}
