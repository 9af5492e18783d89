// Scenario 6 (`--only tls`): fetch and produce over TLS and over PLAINTEXT, on one broker with
// both listeners, for Sluice and (with --vs-kafka) Apache Kafka: the same certificates (made at
// run time with openssl), the same load generator (rustls, one cipher suite offered so both
// brokers run the same cipher), the same cells. Shows MB/s and broker CPU per GB for each
// transport, TLS ÷ PLAINTEXT, and Sluice ÷ Kafka.
//
// Fetch: one consumer re-reading a page-cached topic written once over PLAINTEXT (read-1MiB
// receiver). Produce: acks=1, 1 KiB records in 1 MiB batches, into a fresh topic per cell.
// Next to Sluice's TLS fetch cell, the raw rustls sender probe (`loadgen probe-tls`: one thread
// encrypting a page-cached file in 16 KiB records to a decrypting receiver, same key, cipher and
// receiver) gives the ceiling a TLS sender reaches on this machine.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKafka } from '../../kafka/kafka.ts';
import { type BrokerProcess, freePort } from '../broker.ts';
import { type Context, makeProbeFile, measureCell, removeDir, scratchDir, syncDisks, warmUp, windowArgs } from '../context.ts';
import { runLoadgen } from '../loadgen.ts';
import { alternate } from '../profile.ts';
import { type Cell, fetchMetrics, produceMetrics, transferProbeMetrics } from '../results.ts';
import { startSluice } from '../sluice.ts';
import { KiB, MiB, fmt } from '../units.ts';

export const TLS_TRANSPORTS = ['plaintext', 'tls'] as const;
export type TlsTransport = (typeof TLS_TRANSPORTS)[number];
export const TLS_OPS = ['fetch', 'produce'] as const;
export type TlsOp = (typeof TLS_OPS)[number];

/** The suite both brokers are held to: what a Java client and a Java broker pick by default. */
export const TLS_CIPHER_SUITE = 'TLS13_AES_256_GCM_SHA384';
const FETCH_TOPIC = 'bench-tls-fetch';
const PRODUCE_SHAPE = { acks: 1, recordBytes: KiB, batchBytes: MiB };

export interface BenchPki {
  caPem: string;
  /** Server key (PKCS#8) + certificate + CA in one PEM file: ssl.keystore.type=PEM for both brokers. */
  serverPem: string;
}

/** A CA and a server certificate for 127.0.0.1 / localhost, made with openssl in `dir`. */
export function makeBenchPki(dir: string): BenchPki {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Sluice Bench CA');
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
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const serverPem = join(dir, 'server-all.pem');
  writeFileSync(serverPem, read('server.key') + read('server.pem') + read('ca.pem'));
  return { caPem: join(dir, 'ca.pem'), serverPem };
}

/** Kafka's names, which Sluice reads the same way. */
function sslProps(pki: BenchPki): Record<string, string> {
  return { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.serverPem };
}

/** A broker with a PLAINTEXT and an SSL listener. */
interface DualBroker {
  broker: BrokerProcess;
  tlsBootstrap: string;
}

async function startDual(ctx: Context, target: 'sluice' | 'kafka', pki: BenchPki, dir: string): Promise<DualBroker> {
  const port = await freePort();
  if (target === 'sluice') {
    const broker = await startSluice({
      dataDir: dir,
      transferMode: 'sendfile',
      appendMode: 'pwrite',
      overrides: { listeners: `SSL://127.0.0.1:${port}`, ...sslProps(pki) },
    });
    return { broker, tlsBootstrap: `127.0.0.1:${port}` };
  }
  const k = ctx.kafka!;
  const broker = await startKafka({ libs: k.libs, version: k.version, workDir: dir, ssl: { port, props: sslProps(pki) } });
  return { broker, tlsBootstrap: `127.0.0.1:${port}` };
}

function connectArgs(d: DualBroker, transport: TlsTransport, pki: BenchPki): string[] {
  if (transport === 'plaintext') return ['--bootstrap', d.broker.bootstrap];
  return ['--bootstrap', d.tlsBootstrap, '--tls-ca', pki.caPem, '--tls-cipher-suite', TLS_CIPHER_SUITE];
}

function line(c: Cell): string {
  const m = c.metrics;
  return `${fmt(m.mbPerS)} MB/s, ${fmt(m.cpuSPerGB)} CPU s/GB${c.client?.tls ? ` (${c.client.tls.cipher_suite})` : ''}`;
}

let topicSeq = 0;

async function rustlsProbe(ctx: Context, pki: BenchPki, file: string, rep: number): Promise<void> {
  const args = ['probe-tls', '--tls-key-store', pki.serverPem, '--tls-ca', pki.caPem, '--tls-cipher-suite', TLS_CIPHER_SUITE, '--streams', '1'];
  args.push('--file', file, '--chunk-bytes', String(ctx.profile.fetch.partitionMaxBytes), '--read-bytes', String(MiB), ...windowArgs(ctx));
  const c = await measureCell(ctx, null, args, { scenario: 'tls', target: 'probe', mode: 'tls', key: { op: 'fetch' }, rep }, (o) =>
    transferProbeMetrics(o.client),
  );
  if (c !== null) ctx.log(`  raw rustls sender probe: ${fmt(c.metrics.mbPerS)} MB/s, ${fmt(c.metrics.cpuSPerGB)} sender CPU s/GB`);
}

async function cells(ctx: Context, d: DualBroker, target: 'sluice' | 'kafka', pki: BenchPki, rep: number, probeFile: string | null): Promise<void> {
  const p = ctx.profile;
  for (const transport of alternate(TLS_TRANSPORTS, rep)) {
    const conn = connectArgs(d, transport, pki);
    const fetchArgs = ['consume', ...conn, '--topic', FETCH_TOPIC, '--from', 'earliest', '--consumers', '1'];
    fetchArgs.push('--read-bytes', String(MiB), '--partition-max-bytes', String(p.fetch.partitionMaxBytes), '--fetch-max-bytes', String(p.fetch.fetchMaxBytes));
    const f = await measureCell(
      ctx,
      d.broker,
      [...fetchArgs, ...windowArgs(ctx)],
      { scenario: 'tls', target, mode: transport, key: { op: 'fetch' }, rep },
      fetchMetrics,
    );
    if (f !== null) ctx.log(`  ${target} fetch over ${transport}: ${line(f)}`);
    if (transport === 'tls' && probeFile !== null) await rustlsProbe(ctx, pki, probeFile, rep);

    topicSeq += 1;
    const topic = `bench-tls-produce-${process.pid}-${topicSeq}`;
    const produceArgs = ['produce', ...conn, '--topic', topic, '--partitions', String(p.partitions)];
    produceArgs.push(
      '--record-bytes',
      String(PRODUCE_SHAPE.recordBytes),
      '--batch-bytes',
      String(PRODUCE_SHAPE.batchBytes),
      '--acks',
      String(PRODUCE_SHAPE.acks),
    );
    produceArgs.push('--connections', String(p.produce.connections), '--in-flight', String(p.produce.inFlight));
    const c = await measureCell(
      ctx,
      d.broker,
      [...produceArgs, ...windowArgs(ctx)],
      { scenario: 'tls', target, mode: transport, key: { op: 'produce' }, rep },
      produceMetrics,
    );
    if (c !== null) ctx.log(`  ${target} produce over ${transport}: ${line(c)}`);
    try {
      await runLoadgen(['delete-topics', '--bootstrap', d.broker.bootstrap, '--topics', topic]);
    } catch (err) {
      ctx.log(`  could not delete ${topic}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
}

async function runTarget(ctx: Context, target: 'sluice' | 'kafka', pki: BenchPki, probeFile: string | null): Promise<void> {
  const p = ctx.profile;
  const dir = scratchDir(ctx, `${target}-tls-`);
  try {
    const d = await startDual(ctx, target, pki, dir);
    try {
      await warmUp(ctx, d.broker);
      ctx.log(`  writing ${p.fetch.dataBytes / MiB} MiB to ${FETCH_TOPIC} on ${d.broker.label} over PLAINTEXT`);
      const load = ['produce', '--bootstrap', d.broker.bootstrap, '--topic', FETCH_TOPIC, '--partitions', String(p.partitions)];
      load.push('--record-bytes', String(p.fetch.recordBytes), '--batch-bytes', String(p.fetch.batchBytes), '--acks', '1', '--in-flight', '8');
      await runLoadgen([...load, '--total-bytes', String(p.fetch.dataBytes)]);
      syncDisks();
      for (let rep = 0; rep < p.reps; rep++) await cells(ctx, d, target, pki, rep, probeFile);
    } finally {
      await d.broker.stop();
    }
  } finally {
    removeDir(dir);
  }
}

export async function runTls(ctx: Context): Promise<void> {
  const pkiDir = scratchDir(ctx, 'tls-pki-');
  try {
    const pki = makeBenchPki(pkiDir);
    const probeFile = join(pkiDir, 'probe-tls.dat');
    makeProbeFile(probeFile, ctx.profile.fetch.dataBytes);
    ctx.log(`tls: Sluice, PLAINTEXT and SSL listeners (${TLS_CIPHER_SUITE})`);
    await runTarget(ctx, 'sluice', pki, probeFile);
    if (ctx.kafka !== null) {
      ctx.log(`tls: Apache Kafka ${ctx.kafka.version}, PLAINTEXT and SSL listeners`);
      await runTarget(ctx, 'kafka', pki, null);
    }
  } finally {
    removeDir(pkiDir);
  }
}
