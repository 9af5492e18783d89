// Apache Kafka's own command-line tools (the jars from Maven Central, run as bin/kafka-*.sh runs
// them) against a live Sluice broker. Each works, or fails with the message it gives against a
// Kafka broker that lacks the feature (the client's "The node does not support <API>"). The README's
// tools table says which is which; this file is its proof.

import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { KAFKA_TOOL, kafkaToolsLibs, runKafkaTool, type ToolOptions, type ToolResult } from './support/kafka-tools.ts';

let libs: string;
let broker: BrokerProcess;
let workDir: string;

beforeAll(async () => {
  libs = kafkaToolsLibs();
  workDir = tempDataDir('sluice-kafka-tools-');
  broker = await startBroker({ overrides: { 'num.partitions': 1 } });
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
  if (workDir) removeDir(workDir);
});

/** Runs a tool with --bootstrap-server pointing at the broker. */
function tool(mainClass: string, args: readonly string[], options?: ToolOptions): Promise<ToolResult> {
  return runKafkaTool(libs, mainClass, ['--bootstrap-server', broker.bootstrap, ...args], options);
}

/** Runs a tool that must succeed; returns its stdout. */
async function ok(mainClass: string, args: readonly string[], options?: ToolOptions): Promise<string> {
  const r = await tool(mainClass, args, options);
  expect(r.code, `${mainClass} ${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

function file(name: string, text: string): string {
  const path = join(workDir, name);
  writeFileSync(path, text);
  return path;
}

/** kafka-consumer-groups --describe: partition -> [current offset, log end offset, lag]. */
async function groupOffsets(group: string): Promise<Map<string, [string, string, string]>> {
  const out = await ok(KAFKA_TOOL.consumerGroups, ['--describe', '--group', group]);
  const rows = new Map<string, [string, string, string]>();
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] === group && cols.length >= 6) rows.set(`${cols[1]}-${cols[2]}`, [cols[3], cols[4], cols[5]]);
  }
  return rows;
}

/** Produces `lines` (key:value) to a topic with the console producer. */
async function produce(topic: string, lines: string[]): Promise<void> {
  await ok(KAFKA_TOOL.consoleProducer, ['--topic', topic, '--reader-property', 'parse.key=true', '--reader-property', 'key.separator=:'], {
    input: lines.map((l) => `${l}\n`).join(''),
  });
}

/** Consumes `count` records in a group (the console consumer commits when it stops). */
async function consume(topic: string, group: string, count: number): Promise<string[]> {
  const out = await ok(KAFKA_TOOL.consoleConsumer, ['--topic', topic, '--group', group, '--from-beginning', '--max-messages', String(count)]);
  return out.split('\n').filter((l) => l !== '');
}

describe('kafka-topics', () => {
  test('create, list, describe, alter, under-replicated, delete', async () => {
    expect(await ok(KAFKA_TOOL.topics, ['--create', '--topic', 'tools-topic', '--partitions', '3', '--config', 'retention.ms=3600000'])).toContain(
      'Created topic tools-topic.',
    );
    const again = await tool(KAFKA_TOOL.topics, ['--create', '--topic', 'tools-topic', '--partitions', '3']);
    expect(again.code).toBe(1);
    expect(again.stdout + again.stderr).toContain("Topic 'tools-topic' already exists.");
    expect((await ok(KAFKA_TOOL.topics, ['--list'])).split('\n')).toContain('tools-topic');

    const described = await ok(KAFKA_TOOL.topics, ['--describe', '--topic', 'tools-topic']);
    expect(described).toMatch(/Topic: tools-topic\tTopicId: \S+\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=3600000/);
    for (const p of [0, 1, 2]) expect(described).toContain(`Topic: tools-topic\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1`);

    await ok(KAFKA_TOOL.topics, ['--alter', '--topic', 'tools-topic', '--partitions', '5']);
    expect(await ok(KAFKA_TOOL.topics, ['--describe', '--topic', 'tools-topic'])).toContain('PartitionCount: 5');
    // One broker holds every replica there is: nothing is under-replicated or unavailable.
    expect((await ok(KAFKA_TOOL.topics, ['--describe', '--under-replicated-partitions'])).trim()).toBe('');
    expect((await ok(KAFKA_TOOL.topics, ['--describe', '--unavailable-partitions'])).trim()).toBe('');

    await ok(KAFKA_TOOL.topics, ['--delete', '--topic', 'tools-topic']);
    expect((await ok(KAFKA_TOOL.topics, ['--list'])).split('\n')).not.toContain('tools-topic');
  });
});

describe('console producer and consumer', () => {
  test('keys and headers round-trip; the consumer group commits what it read', async () => {
    await ok(KAFKA_TOOL.topics, ['--create', '--topic', 'console', '--partitions', '1']);
    await ok(
      KAFKA_TOOL.consoleProducer,
      ['--topic', 'console', '--reader-property', 'parse.key=true', '--reader-property', 'parse.headers=true', '--reader-property', 'key.separator=:'],
      { input: 'h1:a,h2:b\tk1:v1\nh2:x\tk2:v2\nh3:c\tk3:v3\n' },
    );
    const out = await ok(KAFKA_TOOL.consoleConsumer, [
      '--topic',
      'console',
      '--group',
      'console-group',
      '--from-beginning',
      '--max-messages',
      '3',
      '--formatter-property',
      'print.key=true',
      '--formatter-property',
      'print.headers=true',
      '--formatter-property',
      'print.offset=true',
    ]);
    expect(out.split('\n').filter((l) => l !== '')).toEqual(['Offset:0\th1:a,h2:b\tk1\tv1', 'Offset:1\th2:x\tk2\tv2', 'Offset:2\th3:c\tk3\tv3']);
    expect((await groupOffsets('console-group')).get('console-0')).toEqual(['3', '3', '0']);
  });
});

describe('kafka-consumer-groups', () => {
  beforeAll(async () => {
    await ok(KAFKA_TOOL.topics, ['--create', '--topic', 'cg', '--partitions', '1']);
    await produce(
      'cg',
      Array.from({ length: 10 }, (_, i) => `k${i}:v${i}`),
    );
    await consume('cg', 'cg-group', 4);
  });

  test('list and describe with lag', async () => {
    expect((await ok(KAFKA_TOOL.consumerGroups, ['--list'])).split('\n')).toContain('cg-group');
    expect((await groupOffsets('cg-group')).get('cg-0')).toEqual(['4', '10', '6']);
    const state = await ok(KAFKA_TOOL.consumerGroups, ['--describe', '--group', 'cg-group', '--state']);
    expect(state).toMatch(/cg-group\s+127\.0\.0\.1:\d+\s+\(1\)\s+\S+\s+Empty\s+0/);
  });

  test.each([
    [['--to-earliest'], '0'],
    [['--to-latest'], '10'],
    [['--to-offset', '7'], '7'],
    [['--shift-by', '-2'], '5'],
    [['--to-datetime', '2000-01-01T00:00:00.000'], '0'],
    [['--by-duration', 'PT1H'], '0'],
    [['--to-current'], '0'],
  ])('--reset-offsets %s', async (mode, expected) => {
    // --shift-by and --to-current start from the committed offset: 7 from the previous case.
    const args = ['--reset-offsets', '--group', 'cg-group', '--topic', 'cg', ...mode];
    const executed = await ok(KAFKA_TOOL.consumerGroups, [...args, '--execute']);
    expect(executed).toMatch(new RegExp(`cg-group\\s+cg\\s+0\\s+${expected}\\b`));
    expect((await groupOffsets('cg-group')).get('cg-0')?.[0]).toBe(expected);
  });

  test('--reset-offsets --dry-run shows the new offset and commits nothing', async () => {
    const before = (await groupOffsets('cg-group')).get('cg-0')?.[0];
    const dryRun = await ok(KAFKA_TOOL.consumerGroups, ['--reset-offsets', '--group', 'cg-group', '--all-topics', '--to-offset', '9', '--dry-run']);
    expect(dryRun).toMatch(/cg-group\s+cg\s+0\s+9\b/);
    expect((await groupOffsets('cg-group')).get('cg-0')?.[0]).toBe(before);
  });

  test('--reset-offsets --from-file', async () => {
    const csv = file('reset.csv', 'cg,0,3\n');
    await ok(KAFKA_TOOL.consumerGroups, ['--reset-offsets', '--group', 'cg-group', '--from-file', csv, '--execute']);
    expect((await groupOffsets('cg-group')).get('cg-0')).toEqual(['3', '10', '7']);
  });

  test('an active member: --delete-offsets refuses the topic it consumes, --delete refuses the group', async () => {
    const consumer = spawn(
      'java',
      [
        '-Xmx256M',
        '-XX:TieredStopAtLevel=1',
        '-cp',
        `${libs}/*`,
        KAFKA_TOOL.consoleConsumer,
        '--bootstrap-server',
        broker.bootstrap,
        '--topic',
        'cg',
        '--group',
        'cg-active',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    try {
      let state = '';
      for (let i = 0; i < 60 && !/Stable\s+1/.test(state); i++) {
        await new Promise((r) => setTimeout(r, 500));
        state = (await tool(KAFKA_TOOL.consumerGroups, ['--describe', '--group', 'cg-active', '--state'])).stdout;
      }
      expect(state).toMatch(/range\s+Stable\s+1|\s+Stable\s+1/);
      const members = await ok(KAFKA_TOOL.consumerGroups, ['--describe', '--group', 'cg-active', '--members']);
      expect(members).toMatch(/cg-active\s+\S+\s+\/127\.0\.0\.1\s+\S+\s+1/);

      const offsets = await tool(KAFKA_TOOL.consumerGroups, ['--delete-offsets', '--group', 'cg-active', '--topic', 'cg']);
      expect(offsets.stdout).toMatch(/cg\s+0\s+Error: org\.apache\.kafka\.common\.errors\.GroupSubscribedToTopicException/);
      const del = await tool(KAFKA_TOOL.consumerGroups, ['--delete', '--group', 'cg-active']);
      expect(del.stdout + del.stderr).toContain("Group 'cg-active' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException");
    } finally {
      consumer.kill('SIGKILL');
    }
  });

  test('--delete-offsets and --delete on an empty group', async () => {
    const out = await ok(KAFKA_TOOL.consumerGroups, ['--delete-offsets', '--group', 'cg-group', '--topic', 'cg']);
    expect(out).toContain('Request succeeded for deleting offsets from group cg-group.');
    expect(out).toMatch(/cg\s+0\s+Successful/);
    expect((await groupOffsets('cg-group')).has('cg-0')).toBe(false);
    expect(await ok(KAFKA_TOOL.consumerGroups, ['--delete', '--group', 'cg-group'])).toContain(
      "Deletion of requested consumer groups ('cg-group') was successful.",
    );
    expect((await ok(KAFKA_TOOL.consumerGroups, ['--list'])).split('\n')).not.toContain('cg-group');
  });
});

describe('kafka-configs', () => {
  test('topics: add, describe, delete a config', async () => {
    await ok(KAFKA_TOOL.topics, ['--create', '--topic', 'configs', '--partitions', '1']);
    const entity = ['--entity-type', 'topics', '--entity-name', 'configs'];
    expect(await ok(KAFKA_TOOL.configs, [...entity, '--alter', '--add-config', 'retention.ms=12345678,cleanup.policy=[compact,delete]'])).toContain(
      'Completed updating config for topic configs.',
    );
    const described = await ok(KAFKA_TOOL.configs, [...entity, '--describe']);
    expect(described).toContain('retention.ms=12345678 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=12345678}');
    expect(described).toContain('cleanup.policy=compact,delete');
    await ok(KAFKA_TOOL.configs, [...entity, '--alter', '--delete-config', 'retention.ms']);
    expect(await ok(KAFKA_TOOL.configs, [...entity, '--describe'])).not.toContain('retention.ms');
    expect(await ok(KAFKA_TOOL.configs, [...entity, '--describe', '--all'])).toContain('retention.ms=604800000');
  });

  test('brokers: describe; a dynamic change is refused (Sluice broker configs are static)', async () => {
    expect(await ok(KAFKA_TOOL.configs, ['--entity-type', 'brokers', '--entity-name', '1', '--describe'])).toContain('Dynamic configs for broker 1 are:');
    const all = await ok(KAFKA_TOOL.configs, ['--entity-type', 'brokers', '--entity-name', '1', '--describe', '--all']);
    expect(all).toContain('num.partitions=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:num.partitions=1');
    const alter = await tool(KAFKA_TOOL.configs, ['--entity-type', 'brokers', '--entity-name', '1', '--alter', '--add-config', 'log.cleaner.threads=2']);
    expect(alter.code).toBe(1);
    expect(alter.stderr).toContain('InvalidRequestException: Sluice broker configs are static');
  });

  test('users and clients: quotas describe (set, enforced and removed in test/client-quotas.test.ts)', async () => {
    await ok(KAFKA_TOOL.configs, ['--entity-type', 'users', '--describe']);
    await ok(KAFKA_TOOL.configs, ['--entity-type', 'clients', '--describe']);
  });
});

describe('offsets and records', () => {
  beforeAll(async () => {
    await ok(KAFKA_TOOL.topics, ['--create', '--topic', 'offsets', '--partitions', '2']);
    await produce(
      'offsets',
      Array.from({ length: 20 }, (_, i) => `k${i}:v${i}`),
    );
  });

  async function offsets(args: string[]): Promise<Record<string, number>> {
    const out = await ok(KAFKA_TOOL.getOffsets, ['--topic', 'offsets', ...args]);
    return Object.fromEntries(
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [topic, partition, offset] = l.split(':');
          return [`${topic}-${partition}`, Number(offset)];
        }),
    );
  }

  test('kafka-get-offsets: latest, earliest, max timestamp, by timestamp', async () => {
    const latest = await offsets(['--time', '-1']);
    expect(latest['offsets-0'] + latest['offsets-1']).toBe(20);
    expect(await offsets(['--time', '-2'])).toEqual({ 'offsets-0': 0, 'offsets-1': 0 });
    const maxTimestamp = await offsets(['--time', '-3']);
    for (const p of ['offsets-0', 'offsets-1']) expect(maxTimestamp[p]).toBeLessThan(latest[p]);
    expect(await offsets(['--time', '0'])).toEqual({ 'offsets-0': 0, 'offsets-1': 0 });
    // ListOffsets v8+/v9+: every segment is local; nothing is in tiered storage (Kafka answers
    // offset -1 with remote storage off, and the tool prints no line for it).
    expect(await offsets(['--time', 'earliest-local'])).toEqual({ 'offsets-0': 0, 'offsets-1': 0 });
    expect(await offsets(['--time', 'latest-tiered'])).toEqual({});
  });

  test('kafka-delete-records moves the log start offset', async () => {
    const json = file('delete-records.json', JSON.stringify({ version: 1, partitions: [{ topic: 'offsets', partition: 0, offset: 2 }] }));
    const out = await ok(KAFKA_TOOL.deleteRecords, ['--offset-json-file', json]);
    expect(out).toContain('partition: offsets-0\tlow_watermark: 2');
    expect((await offsets(['--time', '-2']))['offsets-0']).toBe(2);
  });

  test('kafka-log-dirs: each partition with its size in the log dir', async () => {
    const out = await ok(KAFKA_TOOL.logDirs, ['--describe', '--topic-list', 'offsets']);
    const report = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!);
    expect(report.brokers).toHaveLength(1);
    const [dir] = report.brokers[0].logDirs;
    expect(dir).toMatchObject({ logDir: broker.dataDir, error: null });
    const partitions = Object.fromEntries(dir.partitions.map((p: { partition: string }) => [p.partition, p]));
    expect(Object.keys(partitions).sort()).toEqual(['offsets-0', 'offsets-1']);
    for (const p of Object.values(partitions) as Array<{ size: number; offsetLag: number; isFuture: boolean }>) {
      expect(p.size).toBeGreaterThan(0);
      expect(p).toMatchObject({ offsetLag: 0, isFuture: false });
    }
  });
});

describe('perf tests', () => {
  test('kafka-producer-perf-test, then kafka-consumer-perf-test reads everything back', async () => {
    const r = await runKafkaTool(libs, KAFKA_TOOL.producerPerf, [
      '--topic',
      'perf',
      '--num-records',
      '50000',
      '--record-size',
      '100',
      '--throughput',
      '-1',
      '--bootstrap-server',
      broker.bootstrap,
      '--command-property',
      'acks=all',
      'linger.ms=5',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^50000 records sent, /m);
    const consumed = await ok(KAFKA_TOOL.consumerPerf, ['--topic', 'perf', '--num-records', '50000', '--group', 'perf-group']);
    const [, row] = consumed.trim().split('\n');
    const cols = row.split(', ');
    expect(Number(cols[4])).toBe(50000); // data.consumed.in.nMsg
    expect(Number(cols[2])).toBeCloseTo((50000 * 100) / (1024 * 1024), 0); // data.consumed.in.MB
  });
});

describe('kafka-features, kafka-leader-election, kafka-reassign-partitions', () => {
  test("features: what ApiVersions v3+ reports; an unsupported level is refused with Kafka's message", async () => {
    const described = await ok(KAFKA_TOOL.features, ['describe']);
    expect(described).toMatch(/Feature: metadata.version\s+SupportedMinVersion: 3.3-IV3\s+SupportedMaxVersion: 3.3-IV3\s+FinalizedVersionLevel: 3.3-IV3/);
    const upgrade = await tool(KAFKA_TOOL.features, ['upgrade', '--feature', 'transaction.version=2']);
    expect(upgrade.code).toBe(1);
    expect(upgrade.stdout + upgrade.stderr).toContain(
      'Could not upgrade transaction.version to 2. Invalid update version 2 for feature transaction.version. Local controller 1 only supports versions',
    );
  });

  test('leader election: one broker always leads, so no election is needed', async () => {
    await ok(KAFKA_TOOL.topics, ['--create', '--topic', 'elect', '--partitions', '1']);
    const r = await tool(KAFKA_TOOL.leaderElection, ['--election-type', 'preferred', '--topic', 'elect', '--partition', '0']);
    expect(r.stdout).toContain('Valid replica already elected for partitions elect-0');
  });

  test('reassignment to this broker completes at once; none stays in progress', async () => {
    const plan = file('reassign.json', JSON.stringify({ version: 1, partitions: [{ topic: 'elect', partition: 0, replicas: [1] }] }));
    expect(await ok(KAFKA_TOOL.reassignPartitions, ['--reassignment-json-file', plan, '--execute'])).toContain(
      'Successfully started partition reassignment for elect-0',
    );
    expect(await ok(KAFKA_TOOL.reassignPartitions, ['--reassignment-json-file', plan, '--verify'])).toContain(
      'Reassignment of partition elect-0 is completed.',
    );
    expect(await ok(KAFKA_TOOL.reassignPartitions, ['--list'])).toContain('No partition reassignments found.');
    // --verify and --cancel also clear the replication throttles (IncrementalAlterConfigs DELETEs
    // on the broker and the topic), which succeed as they do on Kafka.
    expect(await ok(KAFKA_TOOL.reassignPartitions, ['--reassignment-json-file', plan, '--cancel'])).toContain(
      'None of the specified partition reassignments are active.',
    );
  });
});

describe('kafka-consumer-groups with KIP-848 groups (group.protocol=consumer)', () => {
  test('a consumer-protocol group: listed with its type, offsets and lag, state with the server-side assignor', async () => {
    await produce('kip848', ['a:1', 'b:2', 'c:3']);
    const read = await ok(KAFKA_TOOL.consoleConsumer, [
      '--topic',
      'kip848',
      '--group',
      'kip848-g',
      '--from-beginning',
      '--max-messages',
      '3',
      '--command-property',
      'group.protocol=consumer',
    ]);
    expect(read.split('\n').filter((l) => l !== '')).toEqual(['1', '2', '3']);
    expect(await ok(KAFKA_TOOL.consumerGroups, ['--list', '--type'])).toMatch(/^kip848-g\s+Consumer\s*$/m);
    expect((await groupOffsets('kip848-g')).get('kip848-0')).toEqual(['3', '3', '0']);
    const state = await ok(KAFKA_TOOL.consumerGroups, ['--describe', '--group', 'kip848-g', '--state']);
    expect(state).toMatch(/kip848-g\s+127\.0\.0\.1:\d+\s+\(1\)\s+uniform\s+Empty\s+0/);
  });
});

describe('kafka-transactions', () => {
  test('list, describe, describe-producers and find-hanging after a transactional producer', async () => {
    const r = await runKafkaTool(libs, KAFKA_TOOL.producerPerf, [
      '--topic',
      'txn-tools',
      '--num-records',
      '200',
      '--record-size',
      '10',
      '--throughput',
      '-1',
      '--bootstrap-server',
      broker.bootstrap,
      '--transactional-id',
      'txn-tools-id',
      '--transaction-duration-ms',
      '50',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const transactions = (args: string[]) => ok(KAFKA_TOOL.transactions, args);
    expect(await transactions(['list'])).toMatch(/^txn-tools-id\s+1\s+\d+\s+CompleteCommit\s*$/m);
    const described = await transactions(['describe', '--transactional-id', 'txn-tools-id']);
    expect(described).toMatch(/^1\s+txn-tools-id\s+(\d+)\s+0\s+CompleteCommit\s+60000\s/m);
    const producerId = /^1\s+txn-tools-id\s+(\d+)/m.exec(described)?.[1];
    // No transaction is open: the producer is known, with no start offset holding the LSO back.
    const producers = await transactions(['describe-producers', '--topic', 'txn-tools', '--partition', '0']);
    expect(producers).toMatch(new RegExp(`^${producerId}\\s+0\\s+\\d+\\s+199\\s+\\d+\\s+None\\s*$`, 'm'));
    const hanging = await transactions(['find-hanging', '--broker-id', '1']);
    expect(hanging.trim().split('\n')).toHaveLength(1); // the header: nothing hangs
  });
});

describe('kafka-acls (StandardAuthorizer)', () => {
  let secured: BrokerProcess;
  beforeAll(async () => {
    // PLAINTEXT clients are User:ANONYMOUS; as a super user they may manage ACLs.
    secured = await startBroker({
      overrides: { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS' },
    });
  });
  afterAll(async () => {
    await secured?.stop();
    if (secured) removeDir(secured.dataDir);
  });

  test("without an authorizer: refused with Kafka's SecurityDisabledException", async () => {
    const r = await tool(KAFKA_TOOL.acls, ['--list']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('SecurityDisabledException: No Authorizer is configured.');
  });

  test('--add, --list (by resource and by principal), --remove --force', async () => {
    const acls = async (args: string[]) => {
      const r = await runKafkaTool(libs, KAFKA_TOOL.acls, ['--bootstrap-server', secured.bootstrap, ...args]);
      expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const topic = 'ResourcePattern(resourceType=TOPIC, name=acl-topic, patternType=LITERAL)';
    const added = await acls(['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--operation', 'Describe', '--topic', 'acl-topic']);
    expect(added).toContain(`Adding ACLs for resource \`${topic}\``);
    await acls(['--add', '--consumer', '--allow-principal', 'User:carol', '--topic', 'acl-topic', '--group', 'acl-group']);
    const byPrincipal = await acls(['--list', '--principal', 'User:carol']);
    expect(byPrincipal).toContain('ACLs for principal `User:carol`');
    expect(byPrincipal).toContain('Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=acl-group, patternType=LITERAL)`');
    expect(byPrincipal).toContain('(principal=User:carol, host=*, operation=READ, permissionType=ALLOW)');
    await acls(['--remove', '--force', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'acl-topic']);
    const byTopic = (await acls(['--list', '--topic', 'acl-topic'])).split('\n').filter((l) => l.includes('principal='));
    expect(byTopic.map((l) => l.trim()).sort()).toEqual([
      '(principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW)',
      '(principal=User:carol, host=*, operation=DESCRIBE, permissionType=ALLOW)',
      '(principal=User:carol, host=*, operation=READ, permissionType=ALLOW)',
    ]);
  });
});

describe('kafka-dump-log on Sluice segment files', () => {
  test.each(['pwrite', 'mmap'])('%s append mode: rolled segments and the active one after a clean shutdown', async (mode) => {
    const own = await startBroker({ overrides: { 'sluice.log.append.mode': mode, 'log.segment.bytes': 65536, 'num.partitions': 1 } });
    try {
      const r = await runKafkaTool(libs, KAFKA_TOOL.producerPerf, [
        '--topic',
        'dump',
        '--num-records',
        '3000',
        '--record-size',
        '100',
        '--throughput',
        '-1',
        '--bootstrap-server',
        own.bootstrap,
        '--command-property',
        'linger.ms=5',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(await own.stop()).toBe(0);
      const dir = join(own.dataDir, 'dump-0');
      const logs = readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .sort();
      expect(logs.length).toBeGreaterThan(2); // rolled segments and the active one
      const files = logs.flatMap((f) => [f, f.replace('.log', '.index'), f.replace('.log', '.timeindex')]).map((f) => join(dir, f));
      const dump = await runKafkaTool(libs, KAFKA_TOOL.dumpLog, ['--files', files.join(','), '--deep-iteration']);
      expect(dump.code, dump.stderr).toBe(0);
      expect(dump.stdout).not.toMatch(/isvalid: false|Found|corrupt|mismatch/i);
      // Every record, every offset once, in order, across the segments.
      const offsets = [...dump.stdout.matchAll(/^\| offset: (\d+) /gm)].map((m) => Number(m[1]));
      expect(offsets).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      // Each segment's index entries point at batches that exist in it (--verify-index-only).
      const verify = await runKafkaTool(libs, KAFKA_TOOL.dumpLog, ['--files', files.join(','), '--verify-index-only', '--index-sanity-check']);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).not.toMatch(/mismatch|corrupt|Found/i);
      // An index with no entry (a segment under index.interval.bytes) is reported empty, as Kafka's.
      for (const log of logs) expect(verify.stdout).toMatch(new RegExp(`${log.replace('.log', '.index')} (passed sanity check|is empty)\\.`));
      expect(verify.stdout).toContain(`${logs[0].replace('.log', '.index')} passed sanity check.`);
    } finally {
      await own.stop();
      removeDir(own.dataDir);
    }
  });
});
