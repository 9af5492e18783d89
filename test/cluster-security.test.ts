// Cluster mode's shared security and quota metadata, end to end: etcd and 3 brokers, each with a
// PLAINTEXT listener (inter-broker traffic and the admin tools, as `User:ANONYMOUS`, a super user)
// and a SASL_PLAINTEXT listener (SCRAM-SHA-512), and the ACL authorizer. Kafka's own tools change
// the metadata through one broker; kcat, as the SCRAM user, is authenticated and authorized or
// refused at the others — each answering from its own mirror of etcd, nothing forwarded.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { KAFKA_TOOL, kafkaToolsLibs, runKafkaTool } from './support/kafka-tools.ts';
import { kcat, requireKcat } from './support/kcat.ts';

const TOPIC = 'secured';
const RECORDS = ['one', 'two', 'three'];

let libs: string;
let cluster: TestCluster;
/** Broker `index`, 0-based as the tests count them (its node id is index + 1). */
const broker = (index: number) => cluster.broker(index + 1);
const sasl: string[] = [];

beforeAll(async () => {
  requireKcat();
  libs = kafkaToolsLibs();
  cluster = await TestCluster.start({
    prefix: '/security',
    overrides: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:ANONYMOUS',
      'broker.session.timeout.ms': 3000,
    },
  });
  for (const b of cluster.all()) {
    const port = /SASL_PLAINTEXT:\/\/[^:]+:(\d+)/.exec(b.output())?.[1];
    if (port === undefined) throw new Error(`no SASL listener in:\n${b.output()}`);
    sasl.push(`127.0.0.1:${port}`);
  }
  const created = await kcat(['-b', broker(0).bootstrap, '-P', '-t', TOPIC], `${RECORDS.join('\n')}\n`, 30_000);
  expect(created.code, created.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

/** One of Kafka's tools through broker `index` (0-based) over PLAINTEXT; fails with its output unless it exits 0. */
async function tool(index: number, mainClass: string, args: string[]): Promise<string> {
  const r = await runKafkaTool(libs, mainClass, ['--bootstrap-server', broker(index).bootstrap, ...args], { timeoutMs: 60_000 });
  expect(r.code, `${mainClass} ${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const asErin = (index: number, password = 'erin-secret') => [
  '-b',
  sasl[index],
  '-X',
  'security.protocol=SASL_PLAINTEXT',
  '-X',
  'sasl.mechanisms=SCRAM-SHA-512',
  '-X',
  'sasl.username=erin',
  '-X',
  `sasl.password=${password}`,
];

/** What broker `index` says about the topic to erin: its metadata (kcat -L from that broker alone). */
async function topicAsErin(index: number, password?: string): Promise<string> {
  const r = await kcat([...asErin(index, password), '-L', '-t', TOPIC, '-m', '5'], undefined, 20_000);
  return `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
}

/** Polls `probe` until `done` holds (the other brokers' watches deliver within milliseconds; kcat takes longer); its last answer. */
async function untilAnswer(probe: () => Promise<string>, done: (answer: string) => boolean): Promise<string> {
  return eventually(
    async () => {
      const answer = await probe();
      expect(done(answer), answer).toBe(true);
      return answer;
    },
    { timeoutMs: 10_000, intervalMs: 200 },
  );
}

const authorized = (answer: string) => answer.includes(`topic "${TOPIC}" with 1 partitions`);
const refused = (answer: string) => answer.includes('Topic authorization failed');

test('a SCRAM user and an ACL created through broker 1: authenticated and authorized at brokers 2 and 3', async () => {
  const created = await tool(0, KAFKA_TOOL.configs, [
    '--alter',
    '--entity-type',
    'users',
    '--entity-name',
    'erin',
    '--add-config',
    'SCRAM-SHA-512=[iterations=4096,password=erin-secret]',
  ]);
  expect(created).toContain('Completed updating config for user erin.');
  // Authenticated at broker 2 (the user exists there), but no ACL yet: the topic is refused.
  expect(await untilAnswer(() => topicAsErin(1), refused)).toMatch(/Topic authorization failed/);
  expect(await topicAsErin(2, 'not-her-password')).toMatch(/Authentication failed/);

  await tool(0, KAFKA_TOOL.acls, ['--add', '--allow-principal', 'User:erin', '--operation', 'Read', '--topic', TOPIC]);
  for (const index of [1, 2]) expect(await untilAnswer(() => topicAsErin(index), authorized)).toContain(`topic "${TOPIC}" with 1 partitions`);
  // Reading is authorized wherever the partition's leader is.
  const read = await kcat([...asErin(2), '-C', '-t', TOPIC, '-e', '-q', '-f', '%s\n'], undefined, 30_000);
  expect(read.code, read.stderr).toBe(0);
  expect(read.stdout.split('\n').filter((l) => l !== '')).toEqual(RECORDS);
  // Listed through another broker: the ACL is the cluster's.
  const listed = await tool(2, KAFKA_TOOL.acls, ['--list', '--topic', TOPIC]);
  expect(listed).toContain('(principal=User:erin, host=*, operation=READ, permissionType=ALLOW)');
}, 60_000);

test('the ACL deleted through broker 2 is refused on broker 1', async () => {
  await tool(1, KAFKA_TOOL.acls, ['--remove', '--force', '--allow-principal', 'User:erin', '--operation', 'Read', '--topic', TOPIC]);
  expect(await untilAnswer(() => topicAsErin(0), refused)).toMatch(/Topic authorization failed/);
}, 60_000);

test('a quota set through broker 3 is described by broker 1', async () => {
  await tool(2, KAFKA_TOOL.configs, ['--alter', '--entity-type', 'users', '--entity-name', 'erin', '--add-config', 'producer_byte_rate=1048576']);
  const described = await untilAnswer(
    () => tool(0, KAFKA_TOOL.configs, ['--describe', '--entity-type', 'users', '--entity-name', 'erin']),
    (answer) => answer.includes('producer_byte_rate=1048576.0'),
  );
  expect(described).toContain("Quota configs for user-principal 'erin' are producer_byte_rate=1048576.0");
}, 60_000);
