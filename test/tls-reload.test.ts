// Certificate reload without restart (issue 13): the broker watches ssl.keystore.location; when
// the file is replaced by one signed by another CA, new connections get the new certificate
// (clients trusting only the new CA connect, those trusting only the old one no longer do); a
// file that does not load keeps the previous certificate.

import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { listenerPort, makeTestPki, type TestPki } from './support/tls-certs.ts';

let first: TestPki;
let second: TestPki;
let broker: BrokerProcess;
let keystore: string;
let bootstrap: string;

beforeAll(async () => {
  requireKcat();
  first = makeTestPki();
  second = makeTestPki();
  keystore = join(first.dir, 'live-keystore.pem');
  copyFileSync(first.serverPemFile, keystore);
  broker = await startBroker({
    overrides: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': keystore,
      'sluice.log.level': 'info',
    },
  });
  bootstrap = `localhost:${listenerPort(broker.output(), 'SSL')}`;
}, 60_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
  first?.remove();
  second?.remove();
});

const list = (ca: string) => kcat(['-b', bootstrap, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${ca}`, '-L', '-m', '5'], undefined, 30_000);

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${broker.output()}`);
}

test('a replaced key store file is picked up by new connections; a broken one is refused', async () => {
  expect((await list(first.caPem)).code).toBe(0);
  expect((await list(second.caPem)).code).not.toBe(0);

  copyFileSync(second.serverPemFile, keystore);
  await until(() => broker.output().includes('TLS certificates reloaded'), 'the reload line');
  expect((await list(second.caPem)).code).toBe(0);
  expect((await list(first.caPem)).code).not.toBe(0);

  writeFileSync(keystore, '-----BEGIN CERTIFICATE-----\nnot a certificate\n');
  await until(() => broker.output().includes('TLS certificates changed but do not load'), 'the refusal line');
  expect((await list(second.caPem)).code).toBe(0);
}, 120_000);
