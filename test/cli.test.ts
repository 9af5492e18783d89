// The `sluice` CLI end to end: every client command runs as a real process against a real broker
// process; kcat (librdkafka) produces data that `sluice topics` / `sluice consume` must read as
// kcat itself does; `sluice log dump` must agree with kcat on offsets and counts, on the live
// (preallocated) active segment.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

const SLUICE_BIN = resolve(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'sluice.js');

let broker: BrokerProcess;

beforeAll(async () => {
  requireKcat();
  // mmap append mode: the log dump test reads a live, preallocated (zero-tailed) active segment.
  broker = await startBroker({ overrides: { 'num.partitions': 3, 'sluice.log.append.mode': 'mmap' } });
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `sluice …` (with --bootstrap-server unless told not to), feeding `input` on stdin. */
function sluice(args: string[], options: { input?: string; bootstrap?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const full = [SLUICE_BIN, ...args];
  if (options.bootstrap !== false) full.push('--bootstrap-server', broker.bootstrap);
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, full, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} timed out; stderr: ${Buffer.concat(err).toString()}`));
    }, options.timeoutMs ?? 50_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    proc.stdin.end(options.input ?? '');
  });
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

/** Rows of a table printed by the CLI, as objects keyed by its header. */
function table(s: string): Array<Record<string, string>> {
  const [header, ...rows] = lines(s);
  const names = header.trim().split(/\s+/);
  return rows.map((r) =>
    Object.fromEntries(
      r
        .trim()
        .split(/\s+/)
        .map((v, i) => [names[i], v]),
    ),
  );
}

describe('sluice cluster', () => {
  test('shows the cluster id, the broker and the negotiated API versions', async () => {
    const r = await sluice(['cluster']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Cluster ID: \S+$/m);
    expect(r.stdout).toMatch(new RegExp(`^1\\s+127\\.0\\.0\\.1\\s+${broker.port}\\b`, 'm'));
    const produce = r.stdout.split('\n').find((l) => /^Produce\s/.test(l));
    // The broker advertises Produce from v0 (served from v3); we speak 3-11.
    expect(produce).toMatch(/^Produce\s+0\s+0-11\s+3-11\s+11$/);
    expect(r.stdout).toMatch(/^ApiVersions\s+18\s+0-5\s+0-5\s+5$/m);
  });
});

describe('sluice topics', () => {
  test('create, list, describe, alter and delete, like kafka-topics.sh', async () => {
    let r = await sluice(['topics', 'create', '--topic', 'cli-admin', '--partitions', '2', '--config', 'retention.ms=3600000']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Created topic cli-admin.\n');
    expect(r.code).toBe(0);

    r = await sluice(['topics', 'list']);
    expect(lines(r.stdout)).toContain('cli-admin');

    r = await sluice(['topics', 'describe', '--topic', 'cli-admin']);
    expect(r.code).toBe(0);
    const [summary, ...parts] = lines(r.stdout);
    expect(summary).toMatch(/^Topic: cli-admin\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention\.ms=3600000$/);
    expect(parts).toEqual([
      '\tTopic: cli-admin\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1',
      '\tTopic: cli-admin\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1',
    ]);

    r = await sluice(['topics', 'alter', '--topic', 'cli-admin', '--partitions', '4', '--config', 'segment.bytes=1048576', '--delete-config', 'retention.ms']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Altered topic cli-admin: partitions: 2 -> 4, set segment.bytes=1048576, deleted retention.ms.\n');
    r = await sluice(['topics', 'describe', '--topic', 'cli-admin']);
    expect(lines(r.stdout)[0]).toMatch(/PartitionCount: 4\tReplicationFactor: 1\tConfigs: segment\.bytes=1048576$/);
    expect(lines(r.stdout)).toHaveLength(5);

    r = await sluice(['topics', 'create', '--topic', 'cli-admin']);
    expect(r.code).toBe(1);
    // One line: what, which topic, Kafka's error name, the broker's message, what to do.
    expect(r.stderr).toMatch(/^sluice: create topic "cli-admin": TOPIC_ALREADY_EXISTS: [^\n]+; pick another name, or pass --if-not-exists\n$/);
    r = await sluice(['topics', 'create', '--topic', 'cli-admin', '--if-not-exists']);
    expect(r.code).toBe(0);

    r = await sluice(['topics', 'delete', '--topic', 'cli-admin']);
    expect(r.stdout).toBe('Deleted topic cli-admin.\n');
    expect(r.code).toBe(0);
    r = await sluice(['topics', 'list']);
    expect(lines(r.stdout)).not.toContain('cli-admin');
    r = await sluice(['topics', 'delete', '--topic', 'cli-admin']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^sluice: delete topic "cli-admin": UNKNOWN_TOPIC_OR_PARTITION/);
    expect((await sluice(['topics', 'delete', '--topic', 'cli-admin', '--if-exists'])).code).toBe(0);
  });

  test('usage mistakes exit 2 with one line saying what to do', async () => {
    let r = await sluice(['topics', 'alter', '--topic', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sluice: nothing to alter; pass --partitions, --config or --delete-config\n');
    r = await sluice(['topics', 'create', '--topic', 'x', '--partitions', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--partitions <n>' argument 'many' is invalid/);
    r = await sluice(['topics', 'create', '--topic', 'x', '--config', 'novalue']);
    expect(r.code).toBe(2);
    r = await sluice(['consume', '--topic', 'x', '--group', 'g', '--partition', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sluice: --partition cannot be used with --group/);
  });

  test('operating errors exit 1 with one line; --verbose adds the stack', async () => {
    const down = await sluice(['topics', 'list', '--bootstrap-server', '127.0.0.1:1'], { bootstrap: false });
    expect(down.code).toBe(1);
    expect(down.stderr).toBe('sluice: 127.0.0.1:1: cannot connect: connection refused; is a broker listening there? pass --bootstrap-server host:port\n');
    const verbose = await sluice(['--verbose', 'topics', 'list', '--bootstrap-server', '127.0.0.1:1'], { bootstrap: false });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^sluice: 127\.0\.0\.1:1: cannot connect.*\nConnectionError: .*\n\s+at /);
    const missing = await sluice(['consume', '--topic', 'no-such-topic', '--from-beginning', '--exit-at-end']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'sluice: look up topic "no-such-topic": UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition; check the name with `sluice topics list`\n',
    );
  });
});

describe('sluice produce and consume', () => {
  test('stdin lines with keys and headers, compressed, read back as JSON in per-partition order', async () => {
    await sluice(['topics', 'create', '--topic', 'cli-pc', '--partitions', '3']);
    const input = Array.from({ length: 300 }, (_, i) => `k${i % 7}:value ${i}`).join('\n') + '\n';
    const produced = await sluice(['produce', '--topic', 'cli-pc', '--key-separator', ':', '--header', 'source=cli', '--compression', 'zstd'], { input });
    expect(produced.stderr).toBe(''); // not a terminal: no progress, no summary
    expect(produced.stdout).toBe('');
    expect(produced.code).toBe(0);

    const consumed = await sluice(['consume', '--topic', 'cli-pc', '--from-beginning', '--exit-at-end', '--format', 'json']);
    expect(consumed.stderr).toBe('');
    expect(consumed.code).toBe(0);
    const records = lines(consumed.stdout).map((l) => JSON.parse(l));
    expect(records).toHaveLength(300);
    expect(new Set(records.map((r) => `${r.key}:${r.value}`))).toEqual(new Set(lines(input)));
    for (const r of records) expect(r.headers).toEqual([{ key: 'source', value: 'cli' }]);
    // One key, one partition; within a partition, offsets count up and lines keep their order.
    const partitionOfKey = new Map<string, number>();
    for (const r of records) {
      expect(partitionOfKey.get(r.key) ?? r.partition).toBe(r.partition);
      partitionOfKey.set(r.key, r.partition);
    }
    for (const p of [0, 1, 2]) {
      const mine = records.filter((r) => r.partition === p);
      expect(mine.map((r) => r.offset)).toEqual(mine.map((_, i) => i));
      const order = mine.map((r) => Number(r.value.split(' ')[1]));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });

  test('--partition with --offset, --max-messages, --format value / key-value', async () => {
    const input = Array.from({ length: 20 }, (_, i) => `line-${i}`).join('\n') + '\n';
    await sluice(['topics', 'create', '--topic', 'cli-offsets', '--partitions', '1']);
    expect((await sluice(['produce', '--topic', 'cli-offsets'], { input })).code).toBe(0);
    let r = await sluice(['consume', '--topic', 'cli-offsets', '--partition', '0', '--offset', '5', '--max-messages', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('line-5\nline-6\nline-7\n');
    r = await sluice(['consume', '--topic', 'cli-offsets', '--partition', '0', '--offset', '18', '--exit-at-end', '--format', 'key-value']);
    expect(r.stdout).toBe('null\tline-18\nnull\tline-19\n');
  });

  test('--timestamp starts at the first record at or after the time', async () => {
    await sluice(['topics', 'create', '--topic', 'cli-time', '--partitions', '1']);
    await sluice(['produce', '--topic', 'cli-time'], { input: 'before\n' });
    await new Promise((r) => setTimeout(r, 50));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    await sluice(['produce', '--topic', 'cli-time'], { input: 'after-1\nafter-2\n' });
    const r = await sluice(['consume', '--topic', 'cli-time', '--timestamp', String(cut), '--exit-at-end']);
    expect(r.stdout).toBe('after-1\nafter-2\n');
  });

  test('--timeout-ms ends a run that sees no records', async () => {
    await sluice(['topics', 'create', '--topic', 'cli-quiet', '--partitions', '1']);
    const started = Date.now();
    const r = await sluice(['consume', '--topic', 'cli-quiet', '--timeout-ms', '700']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });
});

describe('kcat-produced data', () => {
  test('sluice topics and consume see what kcat wrote, as kcat reads it', async () => {
    const input = Array.from({ length: 500 }, (_, i) => `key${i % 13}:payload-${i}`).join('\n') + '\n';
    const produced = await kcat(['-b', broker.bootstrap, '-P', '-t', 'cli-kcat', '-K:', '-z', 'lz4'], input);
    expect(produced.code).toBe(0);

    const listed = await sluice(['topics', 'list']);
    expect(lines(listed.stdout)).toContain('cli-kcat');
    const described = await sluice(['topics', 'describe', '--topic', 'cli-kcat']);
    expect(lines(described.stdout)[0]).toMatch(/^Topic: cli-kcat\t.*PartitionCount: 3\t/);

    const ours = await sluice(['consume', '--topic', 'cli-kcat', '--from-beginning', '--exit-at-end', '--format', 'json']);
    expect(ours.code).toBe(0);
    const theirs = await kcat(['-b', broker.bootstrap, '-C', '-t', 'cli-kcat', '-e', '-q', '-f', '%p %o %k:%s\n']);
    expect(theirs.code).toBe(0);
    const fromSluice = lines(ours.stdout)
      .map((l) => JSON.parse(l))
      .map((r) => `${r.partition} ${r.offset} ${r.key}:${r.value}`)
      .sort();
    expect(fromSluice).toEqual(lines(theirs.stdout).sort());
    expect(fromSluice).toHaveLength(500);
  });
});

describe('sluice groups', () => {
  test('a group consumer commits; describe shows offsets and lag; reset-offsets dry-runs, then executes', async () => {
    await sluice(['topics', 'create', '--topic', 'cli-group', '--partitions', '2']);
    const input = Array.from({ length: 40 }, (_, i) => `k${i}:v${i}`).join('\n') + '\n';
    await sluice(['produce', '--topic', 'cli-group', '--key-separator', ':'], { input });

    let r = await sluice(['consume', '--topic', 'cli-group', '--group', 'cli-g1', '--from-beginning', '--exit-at-end']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(40);

    r = await sluice(['groups', 'list']);
    expect(lines(r.stdout)).toContain('cli-g1');
    r = await sluice(['groups', 'list', '--state']);
    expect(table(r.stdout).find((g) => g.GROUP === 'cli-g1')).toEqual({ GROUP: 'cli-g1', 'PROTOCOL-TYPE': 'consumer', STATE: 'Empty' });

    r = await sluice(['groups', 'describe', '--group', 'cli-g1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("Consumer group 'cli-g1' has no active members.\n");
    let rows = table(r.stdout);
    expect(rows.map((x) => [x.TOPIC, x.PARTITION, x.LAG])).toEqual([
      ['cli-group', '0', '0'],
      ['cli-group', '1', '0'],
    ]);
    const ends = rows.map((x) => Number(x['LOG-END-OFFSET']));
    expect(ends[0] + ends[1]).toBe(40);
    expect(rows.map((x) => Number(x['CURRENT-OFFSET']))).toEqual(ends);

    // More records: the lag is exactly what the group has not read.
    await sluice(['produce', '--topic', 'cli-group', '--partition', '1'], { input: 'a\nb\nc\n' });
    rows = table((await sluice(['groups', 'describe', '--group', 'cli-g1'])).stdout);
    expect(rows.map((x) => x.LAG)).toEqual(['0', '3']);

    r = await sluice(['groups', 'reset-offsets', '--group', 'cli-g1', '--topic', 'cli-group', '--to-earliest']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^Dry run: nothing committed/);
    expect(table(r.stdout).map((x) => [x.PARTITION, x['NEW-OFFSET']])).toEqual([
      ['0', '0'],
      ['1', '0'],
    ]);
    rows = table((await sluice(['groups', 'describe', '--group', 'cli-g1'])).stdout);
    expect(rows.map((x) => x.LAG)).toEqual(['0', '3']); // unchanged by the dry run

    r = await sluice(['groups', 'reset-offsets', '--group', 'cli-g1', '--topic', 'cli-group:1', '--to-offset', '2', '--execute']);
    expect(r.code).toBe(0);
    expect(table(r.stdout)).toEqual([{ GROUP: 'cli-g1', TOPIC: 'cli-group', PARTITION: '1', 'NEW-OFFSET': '2' }]);
    rows = table((await sluice(['groups', 'describe', '--group', 'cli-g1'])).stdout);
    expect(rows[1]['CURRENT-OFFSET']).toBe('2');
    expect(Number(rows[1].LAG)).toBe(ends[1] + 3 - 2);

    // The group resumes from the reset offset.
    r = await sluice(['consume', '--topic', 'cli-group', '--group', 'cli-g1', '--exit-at-end']);
    expect(lines(r.stdout)).toHaveLength(ends[1] + 3 - 2);

    r = await sluice(['groups', 'delete', '--group', 'cli-g1']);
    expect(r.stdout).toBe('Deleted group cli-g1.\n');
    r = await sluice(['groups', 'describe', '--group', 'cli-g1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sluice: describe group "cli-g1": GROUP_ID_NOT_FOUND/);
  });

  test('describe --members shows a live member and its range assignment', async () => {
    await sluice(['topics', 'create', '--topic', 'cli-live', '--partitions', '3']);
    const consumer = sluice(['consume', '--topic', 'cli-live', '--group', 'cli-live-g', '--timeout-ms', '6000']);
    let rows: Array<Record<string, string>> = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const r = await sluice(['groups', 'describe', '--group', 'cli-live-g', '--members']);
      if (r.code === 0) rows = table(r.stdout);
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]['#PARTITIONS']).toBe('3');
    expect(rows[0].ASSIGNMENT).toBe('cli-live(0,1,2)');
    const state = table((await sluice(['groups', 'describe', '--group', 'cli-live-g', '--state'])).stdout);
    expect(state[0]).toMatchObject({ 'ASSIGNMENT-STRATEGY': 'range', STATE: 'Stable', '#MEMBERS': '1' });
    const reset = await sluice(['groups', 'reset-offsets', '--group', 'cli-live-g', '--all-topics', '--to-latest', '--execute']);
    expect(reset.code).toBe(1);
    expect(reset.stderr).toMatch(/can only be reset while it is inactive, but it is Stable; stop its consumers first/);
    expect((await consumer).code).toBe(0);
  });
});

describe('sluice log dump', () => {
  test('agrees with kcat on offsets and counts, on the live preallocated active segment and its indexes', async () => {
    await sluice(['topics', 'create', '--topic', 'cli-dump', '--partitions', '1']);
    // Enough data for several index entries (one per ~4 KiB of log).
    const input = Array.from({ length: 3000 }, (_, i) => `k${i}:${'x'.repeat(40)}-${i}`).join('\n') + '\n';
    expect((await kcat(['-b', broker.bootstrap, '-P', '-t', 'cli-dump', '-K:', '-X', 'linger.ms=0', '-X', 'batch.num.messages=50'], input)).code).toBe(0);
    const theirs = await kcat(['-b', broker.bootstrap, '-C', '-t', 'cli-dump', '-e', '-q', '-f', '%o %k\n']);
    const kcatOffsets = lines(theirs.stdout).map((l) => Number(l.split(' ')[0]));
    expect(kcatOffsets).toHaveLength(3000);

    const dir = join(broker.dataDir, 'cli-dump-0');
    const files = readdirSync(dir)
      .filter((f) => /^\d{20}\.(log|index|timeindex)$/.test(f))
      .sort();
    expect(files).toContain('00000000000000000000.log');
    const log = join(dir, '00000000000000000000.log');

    const dumped = await sluice(['log', 'dump', '--json', '--print-data', log], { bootstrap: false });
    expect(dumped.stderr).toBe('');
    expect(dumped.code).toBe(0);
    const items = lines(dumped.stdout).map((l) => JSON.parse(l));
    const batches = items.filter((x) => x.type === 'batch');
    const summary = items.find((x) => x.type === 'summary');
    expect(batches.every((b) => b.crcValid)).toBe(true);
    const offsets = batches.flatMap((b) => b.records.map((r: { offset: number }) => r.offset));
    expect(offsets).toEqual(kcatOffsets);
    expect(summary).toMatchObject({ records: 3000, firstOffset: 0, lastOffset: 2999 });
    expect(batches.reduce((n, b) => n + b.recordCount, 0)).toBe(3000);
    expect(batches.map((b) => b.records[0].key)).toEqual(batches.map((b) => `k${b.baseOffset}`));
    // The active segment in mmap mode is preallocated past its data: the dump ends at the zero tail.
    expect(summary.end.kind).toBe('zero-tail');
    expect(summary.end.position).toBe(summary.validBytes);

    const text = await sluice(['log', 'dump', log], { bootstrap: false });
    expect(lines(text.stdout)[0]).toBe(`Dumping ${log}`);
    expect(lines(text.stdout).filter((l) => l.startsWith('baseOffset: '))).toHaveLength(batches.length);
    expect(text.stdout).toMatch(/^Summary: \d+ batches, 3000 records, offsets 0-2999, \d+ bytes of batches; zero-filled preallocated tail/m);

    // Each offset index entry points at the batch holding its offset (the batch's last offset).
    const index = await sluice(['log', 'dump', '--json', join(dir, '00000000000000000000.index')], { bootstrap: false });
    expect(index.code).toBe(0);
    const entries = lines(index.stdout)
      .map((l) => JSON.parse(l))
      .filter((x) => x.type === 'entry');
    expect(entries.length).toBeGreaterThan(3);
    const byPosition = new Map(batches.map((b) => [b.position, b]));
    for (const e of entries) expect(byPosition.get(e.position)?.lastOffset).toBe(e.offset);
    const timeIndex = await sluice(['log', 'dump', '--json', join(dir, '00000000000000000000.timeindex')], { bootstrap: false });
    expect(timeIndex.code).toBe(0);
    const timeEntries = lines(timeIndex.stdout)
      .map((l) => JSON.parse(l))
      .filter((x) => x.type === 'entry');
    expect(timeEntries.length).toBeGreaterThan(0);
    for (const e of timeEntries) expect(e.offset).toBeLessThanOrEqual(2999);
  });
});

describe('sluice --output json and --command-config', () => {
  test('listing commands print one JSON document; --command-config sets the client id a group shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-json-'));
    try {
      const config = join(dir, 'client.properties');
      writeFileSync(config, '# as kafka-*.sh --command-config takes it\nclient.id = json-app\nrequest.timeout.ms=20000\n');
      await sluice(['topics', 'create', '--topic', 'cli-json', '--partitions', '2', '--config', 'retention.ms=1000000']);
      expect(JSON.parse((await sluice(['topics', 'list', '--output', 'json'])).stdout)).toContain('cli-json');
      const [described] = JSON.parse((await sluice(['topics', 'describe', '--topic', 'cli-json', '--output', 'json'])).stdout);
      expect(described).toMatchObject({ name: 'cli-json', internal: false, partitionCount: 2, replicationFactor: 1, configs: { 'retention.ms': '1000000' } });
      expect(described.partitions.map((p: { partition: number; isr: number[] }) => [p.partition, p.isr.length])).toEqual([
        [0, 1],
        [1, 1],
      ]);

      const consumer = sluice(['consume', '--topic', 'cli-json', '--group', 'cli-json-g', '--timeout-ms', '6000', '--command-config', config]);
      let members: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 50 && members.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const r = await sluice(['groups', 'describe', '--group', 'cli-json-g', '--members', '--output', 'json']);
        if (r.code === 0) members = JSON.parse(r.stdout);
      }
      expect(members).toHaveLength(1);
      expect(members[0]).toMatchObject({ group: 'cli-json-g', clientId: 'json-app', partitions: 2, assignment: 'cli-json(0,1)' });
      await sluice(['produce', '--topic', 'cli-json', '--partition', '0'], { input: 'a\nb\nc\n' });
      expect((await consumer).code).toBe(0);

      const offsets = JSON.parse((await sluice(['groups', 'describe', '--group', 'cli-json-g', '--output', 'json'])).stdout);
      expect(offsets).toEqual([
        { group: 'cli-json-g', topic: 'cli-json', partition: 0, currentOffset: 3, logEndOffset: 3, lag: 0, consumerId: null, host: null, clientId: null },
        { group: 'cli-json-g', topic: 'cli-json', partition: 1, currentOffset: 0, logEndOffset: 0, lag: 0, consumerId: null, host: null, clientId: null },
      ]);
      const groups = JSON.parse((await sluice(['groups', 'list', '--output', 'json'])).stdout);
      expect(groups).toContainEqual({ group: 'cli-json-g', protocolType: 'consumer', state: 'Empty' });
      const cluster = JSON.parse((await sluice(['cluster', '--output', 'json'])).stdout);
      expect(cluster.brokers).toHaveLength(1);
      expect(cluster.apis).toContainEqual(expect.objectContaining({ name: 'Produce', key: 0 }));

      // Kafka's clients warn about keys they do not know and carry on.
      writeFileSync(config, 'client.id=x\nlinger.mss=5\n');
      let r = await sluice(['topics', 'list', '--command-config', config]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("WARN The configuration 'linger.mss' was supplied but isn't a known config.\n");
      // Security the client cannot honour (here: no credentials) is refused, never silently downgraded to plaintext.
      writeFileSync(config, 'security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n');
      r = await sluice(['topics', 'list', '--command-config', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/sasl.jaas.config in --command-config must give username and password for PLAIN/);
      r = await sluice(['topics', 'list', '--output', 'yaml']);
      expect(r.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
