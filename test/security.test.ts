// SASL and ACLs end to end, against a real broker process with two listeners: PLAINTEXT for
// administration (its User:ANONYMOUS is a super user, as in the setup) and
// SASL_PLAINTEXT with PLAIN (Kafka's JAAS `user_` entries), SCRAM-SHA-256 and SCRAM-SHA-512 (users
// made with `sluice users`), and Kafka's StandardAuthorizer class name. kafkajs logs in with each
// mechanism, kcat (librdkafka) with SCRAM-SHA-512; a user without ACLs is refused with
// TOPIC_AUTHORIZATION_FAILED until `sluice acls` grants it; wrong passwords, a request before
// authentication, a 100 MB SASL frame and a stalled handshake each close only their connection.

import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { ApiKey, encodeRequest } from '@sluice/protocol';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { RawClient } from './support/raw-client.ts';
import { type ClientCommand, ensureGoClient, runClient } from './clients/support.ts';

const SLUICE_BIN = join(resolve(import.meta.dirname, '..'), 'packages', 'cli', 'bin', 'sluice.js');
const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

let broker: BrokerProcess;
let saslPort: number;
let franz: ClientCommand;

beforeAll(async () => {
  requireKcat();
  franz = ensureGoClient();
  broker = await startBroker({
    overrides: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:ANONYMOUS;User:admin',
      'sluice.authentication.timeout.ms': 1500,
      // KIP-368 for PLAIN sessions only (the re-authentication test); the others never expire.
      'listener.name.sasl_plaintext.plain.connections.max.reauth.ms': 1500,
      'auto.create.topics.enable': false,
    },
  });
  const m = /SASL_PLAINTEXT:\/\/[^:]+:(\d+)/.exec(broker.output());
  if (m === null) throw new Error(`no SASL listener in:\n${broker.output()}`);
  saslPort = Number(m[1]);
  await sluice(['topics', 'create', '--topic', 'secured', '--partitions', '1']);
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

function sluice(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const proc = spawn(process.execPath, [SLUICE_BIN, ...args, '--bootstrap-server', broker.bootstrap], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function kafka(sasl: KafkaConfig['sasl']): Kafka {
  return new Kafka({
    clientId: 'security-test',
    brokers: [`127.0.0.1:${saslPort}`],
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
  });
}

async function produceAs(sasl: KafkaConfig['sasl'], value: string): Promise<void> {
  const producer = kafka(sasl).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: 'secured', messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
}

const plain = (username: string, password: string) => ({ mechanism: 'plain' as const, username, password });
const scram256 = (username: string, password: string) => ({ mechanism: 'scram-sha-256' as const, username, password });
const scram512 = (username: string, password: string) => ({ mechanism: 'scram-sha-512' as const, username, password });

describe('SASL_PLAINTEXT with ACLs', () => {
  test('SCRAM users are made and listed with `sluice users` over the admin listener', async () => {
    expect((await sluice(['users', 'set', '--user', 'bob', '--mechanism', 'SCRAM-SHA-256', '--password', 'bob-secret'])).code).toBe(0);
    expect((await sluice(['users', 'set', '--user', 'carol', '--mechanism', 'SCRAM-SHA-512', '--iterations', '8192', '--password', 'carol-secret'])).code).toBe(
      0,
    );
    expect((await sluice(['users', 'set', '--user', 'dave', '--mechanism', 'SCRAM-SHA-512', '--password', 'dave-secret'])).code).toBe(0);
    const listed = await sluice(['users', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/bob\s+SCRAM-SHA-256\s+4096/);
    expect(listed.stdout).toMatch(/carol\s+SCRAM-SHA-512\s+8192/);
  });

  test('kafkajs PLAIN: without ACLs TOPIC_AUTHORIZATION_FAILED; with `sluice acls --add` it produces', async () => {
    await expect(produceAs(plain('alice', 'alice-secret'), 'denied')).rejects.toThrow(/Topic authorization failed/);
    const added = await sluice([
      'acls',
      '--add',
      '--allow-principal',
      'User:alice',
      '--allow-principal',
      'User:bob',
      '--allow-principal',
      'User:carol',
      '--producer',
      '--topic',
      'secured',
    ]);
    expect(added.code).toBe(0);
    await produceAs(plain('alice', 'alice-secret'), 'from alice');
    const listed = await sluice(['acls', '--list', '--topic', 'secured']);
    expect(listed.stdout).toMatch(/TOPIC\s+secured\s+LITERAL\s+User:alice\s+\*\s+WRITE\s+ALLOW/);
  });

  test('kafkajs SCRAM-SHA-256 and SCRAM-SHA-512 log in and produce', async () => {
    await produceAs(scram256('bob', 'bob-secret'), 'from bob');
    await produceAs(scram512('carol', 'carol-secret'), 'from carol');
  });

  test('wrong passwords and unknown users are refused', async () => {
    await expect(produceAs(plain('alice', 'nope'), 'x')).rejects.toThrow(/SASL|authentication/i);
    await expect(produceAs(scram512('carol', 'nope'), 'x')).rejects.toThrow(/SASL|authentication/i);
    await expect(produceAs(scram256('nobody', 'x'), 'x')).rejects.toThrow(/SASL|authentication/i);
    // A mechanism the listener does not enable: UNSUPPORTED_SASL_MECHANISM, then closed.
    await expect(produceAs({ mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 'x.y.z' }) }, 'x')).rejects.toThrow(/mechanism/i);
  });

  test('kcat (librdkafka) SCRAM-SHA-512: refused without READ, reads once the ACL is added', async () => {
    const sasl = (user: string, password: string) => [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=SCRAM-SHA-512',
      '-X',
      `sasl.username=${user}`,
      '-X',
      `sasl.password=${password}`,
    ];
    const consume = (user: string, password: string) =>
      kcat(['-b', `127.0.0.1:${saslPort}`, ...sasl(user, password), '-C', '-t', 'secured', '-e', '-q', '-f', '%s\n'], undefined, 30_000);
    const denied = await consume('dave', 'dave-secret');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/authoriz/i);
    expect((await sluice(['acls', '--add', '--allow-principal', 'User:dave', '--operation', 'Read', '--topic', 'secured'])).code).toBe(0);
    const read = await consume('dave', 'dave-secret');
    expect(read.code).toBe(0);
    expect(read.stdout.split('\n').filter((l) => l !== '')).toEqual(['from alice', 'from bob', 'from carol']);
    const wrong = await consume('dave', 'wrong');
    expect(wrong.code).not.toBe(0);
  });
});

describe('franz-go SCRAM', () => {
  test('SCRAM-SHA-256 produces, SCRAM-SHA-512 consumes in a group once granted; without any WRITE the idempotent producer gets CLUSTER_AUTHORIZATION_FAILED; a wrong password fails', async () => {
    const common = ['-brokers', `127.0.0.1:${saslPort}`, '-topic', 'secured', '-timeout', '20s'];
    const as = (mechanism: string, user: string, password: string) => ['-sasl-mechanism', mechanism, '-sasl-user', user, '-sasl-password', password];
    const produced = await runClient(
      franz,
      ['produce', ...common, '-count', '2', '-value-suffix', '-franz', ...as('SCRAM-SHA-256', 'bob', 'bob-secret')],
      60_000,
    );
    expect(produced.code, produced.stderr).toBe(0);
    const denied = await runClient(franz, ['produce', ...common, '-count', '1', ...as('SCRAM-SHA-512', 'dave', 'dave-secret')], 60_000);
    expect(denied.code).not.toBe(0);
    // kgo's producer is idempotent: InitProducerId needs IDEMPOTENT_WRITE on the cluster or WRITE on
    // some topic, and dave has neither (Kafka's rule), so it stops there.
    expect(denied.stderr).toMatch(/CLUSTER_AUTHORIZATION_FAILED/);
    expect((await sluice(['acls', '--add', '--allow-principal', 'User:carol', '--consumer', '--topic', 'secured', '--group', 'franz'])).code).toBe(0);
    const consumed = await runClient(franz, ['consume', ...common, '-group', 'franz', '-count', '5', ...as('SCRAM-SHA-512', 'carol', 'carol-secret')], 60_000);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.events.filter((e) => e.event === 'record').map((e) => e.value)).toEqual([
      'from alice',
      'from bob',
      'from carol',
      'value-0-franz',
      'value-1-franz',
    ]);
    const wrong = await runClient(franz, ['produce', ...common, '-count', '1', ...as('SCRAM-SHA-512', 'carol', 'wrong')], 60_000);
    expect(wrong.code).not.toBe(0);
  });
});

describe('bad input closes only that connection', () => {
  const closed = (socket: ReturnType<typeof connect>) => new Promise<number>((res) => socket.once('close', () => res(performance.now())));

  test('a request before authentication, a 100 MB SASL frame, a stalled handshake, wrong passwords in a loop; an authenticated client is unaffected', async () => {
    const survivor = kafka(scram512('carol', 'carol-secret')).producer({ allowAutoTopicCreation: false });
    await survivor.connect();
    try {
      // Metadata before SaslHandshake: closed without an answer.
      const early = await RawClient.connect(saslPort);
      await expect(
        early.request(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }),
      ).rejects.toThrow(/closed/);

      // A frame header announcing 100 MB: closed once the size is read (sasl.server.max.receive.size).
      const big = connect({ port: saslPort, host: '127.0.0.1' });
      big.on('error', () => undefined);
      const bigClosed = closed(big);
      await new Promise<void>((r) => big.once('connect', () => r()));
      const header = Buffer.alloc(4);
      header.writeInt32BE(100 * 1024 * 1024);
      big.write(header);
      big.write(Buffer.alloc(64 * 1024));
      await bigClosed;

      // Connected and silent: closed by the authentication timeout (1.5 s here).
      const stall = connect({ port: saslPort, host: '127.0.0.1' });
      stall.on('error', () => undefined);
      const opened = performance.now();
      const stallClosed = await closed(stall);
      expect(stallClosed - opened).toBeGreaterThan(1000);

      // Wrong passwords in a loop.
      for (let i = 0; i < 10; i++) await expect(produceAs(plain('alice', `wrong-${i}`), 'x')).rejects.toThrow();

      // The v0 flow: SaslHandshake v0, then an unframed PLAIN token.
      const v0 = connect({ port: saslPort, host: '127.0.0.1' });
      await new Promise<void>((r) => v0.once('connect', () => r()));
      const replies: Buffer[] = [];
      v0.on('data', (d: Buffer) => replies.push(d));
      v0.write(encodeRequest(ApiKey.SaslHandshake, 0, 1, 'v0', { mechanism: 'PLAIN' }));
      await new Promise((r) => setTimeout(r, 200));
      const token = Buffer.from('\u0000alice\u0000alice-secret');
      const frame = Buffer.alloc(4 + token.length);
      frame.writeInt32BE(token.length);
      token.copy(frame, 4);
      v0.write(frame);
      await new Promise((r) => setTimeout(r, 200));
      const all = Buffer.concat(replies);
      // Handshake response, then the empty success token (int32 0).
      expect(all.subarray(all.length - 4).readInt32BE(0)).toBe(0);
      v0.destroy();

      await survivor.send({ topic: 'secured', messages: [{ value: 'still here' }] });
    } finally {
      await survivor.disconnect();
    }
    const metrics = await (await fetch(broker.metricsUrl!)).text();
    expect(metrics).toMatch(/sluice_authentication_failure_total\{listener="SASL_PLAINTEXT",mechanism="PLAIN",reason="invalid-proof"\} ([1-9]\d*)/);
    expect(metrics).toMatch(/sluice_authentication_failure_total\{listener="SASL_PLAINTEXT",mechanism="none",reason="timeout"\} [1-9]/);
    expect(metrics).toMatch(/sluice_authentication_failure_total\{listener="SASL_PLAINTEXT",mechanism="none",reason="frame-too-large"\} [1-9]/);
    expect(metrics).toMatch(/sluice_authentication_success_total\{listener="SASL_PLAINTEXT",mechanism="SCRAM-SHA-512"\} [1-9]/);
    expect(metrics).toMatch(/sluice_authorization_denied_total\{resource_type="TOPIC"\} [1-9]/);
  });
});

describe('re-authentication (KIP-368)', () => {
  const metadata = (c: RawClient) => c.request(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  async function login(c: RawClient): Promise<number> {
    expect((await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    const r = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('\u0000alice\u0000alice-secret') });
    expect(r.errorCode).toBe(0);
    return r.sessionLifetimeMs;
  }

  test('SessionLifetimeMs is sent; a session past it is closed at its next request; re-authenticating in time extends it', async () => {
    const expiring = await RawClient.connect(saslPort);
    expect(await login(expiring)).toBe(1500);
    await metadata(expiring);
    const renewing = await RawClient.connect(saslPort);
    await login(renewing);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await login(renewing)).toBe(1500);
    await new Promise((r) => setTimeout(r, 800));
    await expect(metadata(expiring)).rejects.toThrow(/closed/);
    expect((await metadata(renewing)).brokers).toHaveLength(1);
    renewing.close();
  });
});
