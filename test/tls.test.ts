// SSL listeners end to end (issue 13): kcat (librdkafka) and kafkajs over TLS against a real
// broker process, mTLS with a client certificate and the principal it maps to, certificate
// stores as PEM file and as OpenSSL 3 PKCS12, and bad input — a plaintext client on the TLS
// port, a TLS client on the plaintext port, a handshake that stalls — each closing only that
// connection, with a log line and a metric. Certificates are made at test time.

import { connect, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { listenerPort, makeTestPki, STORE_PASSWORD, type TestPki } from './support/tls-certs.ts';
import { readFileSync } from 'node:fs';

let pki: TestPki;
let broker: BrokerProcess;
let mtls: BrokerProcess;
let sslBootstrap: string;
let mtlsBootstrap: string;

beforeAll(async () => {
  requireKcat();
  pki = makeTestPki();
  [broker, mtls] = await Promise.all([
    startBroker({
      overrides: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.serverPemFile,
        'sluice.ssl.handshake.timeout.ms': 1000,
        'num.partitions': 2,
      },
    }),
    startBroker({
      overrides: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': pki.serverP12,
        'ssl.keystore.password': STORE_PASSWORD,
        'ssl.key.password': STORE_PASSWORD,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.caPem,
        'ssl.client.auth': 'required',
        'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/,DEFAULT',
        'sluice.log.level': 'info',
      },
    }),
  ]);
  sslBootstrap = `localhost:${listenerPort(broker.output(), 'SSL')}`;
  mtlsBootstrap = `localhost:${listenerPort(mtls.output(), 'SSL')}`;
}, 60_000);

afterAll(async () => {
  await Promise.all([broker?.stop(), mtls?.stop()]);
  if (broker) removeDir(broker.dataDir);
  if (mtls) removeDir(mtls.dataDir);
  pki?.remove();
});

const sslArgs = () => ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caPem}`];

async function metric(b: BrokerProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(b.metricsUrl!)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** Connects, writes `bytes`, resolves with what came back once the broker closed the connection. */
function exchange(port: number, bytes: Uint8Array | null): Promise<{ data: Buffer; closedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    const socket: Socket = connect(port, '127.0.0.1', () => {
      if (bytes !== null) socket.write(bytes);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined); // a reset is a close too
    socket.on('close', () => resolve({ data: Buffer.concat(chunks), closedMs: performance.now() - started }));
    setTimeout(() => reject(new Error('the broker did not close the connection')), 15_000);
  });
}

describe('SSL listener', () => {
  test('the startup line reports kernel TLS, and the metric agrees', async () => {
    // The mTLS broker logs at info, so its "sluice broker started" line is in its output (the
    // logger writes asynchronously: it may land after the ready line).
    const startedLine = () =>
      mtls
        .output()
        .split('\n')
        .find((l) => l.includes('"msg":"sluice broker started"'));
    for (let i = 0; i < 100 && startedLine() === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    const started = startedLine()!;
    expect(started).toMatch(/"ktls":"(available|unavailable \(.+\))"/);
    const available = /"ktls":"available"/.test(started) ? 1 : 0;
    expect(await metric(mtls, 'sluice_ktls_available', {})).toBe(available);
    expect(await metric(broker, 'sluice_ktls_available', {})).toBe(available);
  });

  test('kcat produces and consumes over TLS', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `k${i % 13}:value-${i}-${'y'.repeat(i % 300)}`);
    const produced = await kcat(['-b', sslBootstrap, ...sslArgs(), '-P', '-t', 'tls-kcat', '-K:'], lines.join('\n') + '\n');
    expect(produced.stderr).not.toMatch(/error/i);
    expect(produced.code).toBe(0);
    const consumed = await kcat(['-b', sslBootstrap, ...sslArgs(), '-C', '-t', 'tls-kcat', '-K:', '-e', '-o', 'beginning', '-q']);
    expect(consumed.code).toBe(0);
    const got = consumed.stdout.trim().split('\n');
    expect(got.sort()).toEqual([...lines].sort());
    expect(await metric(broker, 'sluice_tls_handshakes_total', { listener: 'SSL' })).toBeGreaterThanOrEqual(2);
    // Without kTLS, fetch bytes went through rustls in the writer thread; with it, the kernel.
    if ((await metric(broker, 'sluice_ktls_available', {})) === 0) {
      expect(await metric(broker, 'sluice_writer_tls_plaintext_bytes_total', {})).toBeGreaterThan(lines.join('\n').length);
    } else {
      expect(await metric(broker, 'sluice_tls_handshakes_total', { listener: 'SSL', record_layer: 'ktls' })).toBeGreaterThanOrEqual(2);
    }
  });

  test('kafkajs with ssl: { ca } produces and fetches', async () => {
    const kafka = new Kafka({ clientId: 'tls-kafkajs', brokers: [sslBootstrap], ssl: { ca: [readFileSync(pki.caPem, 'utf8')] }, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: `v${i}-${'z'.repeat(1000)}` }));
    await producer.send({ topic: 'tls-kafkajs', messages });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'tls-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'tls-kafkajs', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length} messages`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          if (seen.length === messages.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(seen.sort()).toEqual(messages.map((m) => m.value).sort());
  }, 90_000);

  test('a plaintext Kafka client on the TLS port is closed, with a log line and a metric', async () => {
    const before = await metric(broker, 'sluice_tls_connection_failures_total', { listener: 'SSL', reason: 'tls_error' });
    // ApiVersions v3 as a plaintext client sends it.
    const request = Buffer.from([0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0]);
    const { data } = await exchange(listenerPort(broker.output(), 'SSL'), request);
    // Nothing Kafka comes back: at most a TLS alert record (content type 21).
    if (data.length > 0) expect(data[0]).toBe(0x15);
    expect(await metric(broker, 'sluice_tls_connection_failures_total', { listener: 'SSL', reason: 'tls_error' })).toBe(before + 1);
    expect(broker.output()).toMatch(/TLS connection failed; closing/);
  });

  test('a TLS client on the plaintext port is closed, with a log line and a metric', async () => {
    // The first bytes of a ClientHello record.
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03]);
    await exchange(broker.port, hello);
    expect(await metric(broker, 'sluice_tls_connection_failures_total', { listener: 'PLAINTEXT', reason: 'tls_on_plaintext' })).toBe(1);
    expect(broker.output()).toMatch(/TLS client on a plaintext listener/);
  });

  test('a handshake that stalls is closed after the timeout', async () => {
    const { closedMs } = await exchange(listenerPort(broker.output(), 'SSL'), null);
    expect(closedMs).toBeGreaterThanOrEqual(900);
    expect(closedMs).toBeLessThan(10_000);
    expect(await metric(broker, 'sluice_tls_connection_failures_total', { listener: 'SSL', reason: 'handshake_timeout' })).toBe(1);
    // Other clients are unaffected.
    const listed = await kcat(['-b', sslBootstrap, ...sslArgs(), '-L']);
    expect(listed.code).toBe(0);
  });
});

describe('TLS entry point fuzz', () => {
  test('random bytes and mangled ClientHellos: each connection is closed, the broker keeps serving', async () => {
    // xorshift32, fixed seed: the same inputs every run.
    let state = 0x2545f491;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const inputs: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const body = Buffer.alloc(1 + (next() % 1500));
      for (let j = 0; j < body.length; j++) body[j] = next() & 0xff;
      if (i % 2 === 1) {
        // A handshake record header with a length that may or may not match what follows.
        const header = Buffer.from([0x16, 0x03, next() % 5, 0, 0, 0x01]);
        header.writeUInt16BE(next() % 2 === 0 ? body.length + 1 : next() % 0x4800, 3);
        inputs.push(Buffer.concat([header, body]));
      } else {
        inputs.push(body);
      }
    }
    const reasons = async () =>
      (await metric(broker, 'sluice_tls_connection_failures_total', { listener: 'SSL', reason: 'tls_error' })) +
      (await metric(broker, 'sluice_tls_connection_failures_total', { listener: 'SSL', reason: 'handshake_timeout' }));
    const before = await reasons();
    const port = listenerPort(broker.output(), 'SSL');
    await Promise.all(inputs.map((input) => exchange(port, input)));
    expect(await reasons()).toBe(before + inputs.length);
    const listed = await kcat(['-b', sslBootstrap, ...sslArgs(), '-L']);
    expect(listed.code).toBe(0);
  }, 60_000);
});

describe('mTLS (ssl.client.auth=required, PKCS12 key store)', () => {
  const clientArgs = () => [...sslArgs(), '-X', `ssl.certificate.location=${pki.clientCert}`, '-X', `ssl.key.location=${pki.clientKey}`];

  test('kcat with a client certificate works and its principal is mapped and reported', async () => {
    const produced = await kcat(['-b', mtlsBootstrap, ...clientArgs(), '-P', '-t', 'mtls'], 'one\ntwo\n');
    expect(produced.code).toBe(0);
    const consumed = await kcat(['-b', mtlsBootstrap, ...clientArgs(), '-C', '-t', 'mtls', '-e', '-o', 'beginning', '-q']);
    expect(consumed.stdout.trim().split('\n')).toEqual(['one', 'two']);
    const output = mtls.output();
    expect(output).toContain('"msg":"TLS client authenticated"');
    expect(output).toContain(`"subject":"${pki.clientSubject}"`);
    expect(output).toContain('"principal":"User:alice"');
  });

  test('kafkajs with a client certificate (ssl: { ca, cert, key })', async () => {
    const kafka = new Kafka({
      clientId: 'mtls-kafkajs',
      brokers: [mtlsBootstrap],
      ssl: { ca: [readFileSync(pki.caPem, 'utf8')], cert: readFileSync(pki.clientCert, 'utf8'), key: readFileSync(pki.clientKey, 'utf8') },
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('mtls');
    await admin.disconnect();
  });

  test('without a client certificate the handshake is refused', async () => {
    const refused = await kcat(['-b', mtlsBootstrap, ...sslArgs(), '-L', '-m', '5'], undefined, 30_000);
    expect(refused.code).not.toBe(0);
    expect(await metric(mtls, 'sluice_tls_connection_failures_total', { listener: 'SSL', reason: 'tls_error' })).toBeGreaterThanOrEqual(1);
  });
});

describe('TLS settings a broker cannot use', () => {
  test.each([
    [{ 'ssl.cipher.suites': 'TLS_RSA_WITH_AES_128_CBC_SHA' }, /ssl\.cipher\.suites.*unknown or unsupported cipher suite "TLS_RSA_WITH_AES_128_CBC_SHA"/],
    [{ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.password': 'wrong' }, /ssl\.keystore\.password.*cannot open the PKCS12 store/],
    [{ 'ssl.client.auth': 'required' }, /ssl\.client\.auth.*needs a trust store/],
  ])('%j stops the start with the setting named', async (overrides, message) => {
    const base = { listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.serverPemFile };
    const settings: Record<string, string> = { ...base, ...overrides };
    if (settings['ssl.keystore.type'] === 'PKCS12') settings['ssl.keystore.location'] = pki.serverP12;
    await expect(startBroker({ overrides: settings })).rejects.toThrow(message);
  });
});
