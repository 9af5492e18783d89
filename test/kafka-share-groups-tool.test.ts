// Apache Kafka's kafka-share-groups.sh and kafka-configs.sh (--entity-type groups) against Sluice:
// a share group's config set and described, its share-partition start offsets reset, listed,
// described (offsets, members, state), deleted, and the group deleted — KIP-932's admin side
// (IncrementalAlterConfigs/DescribeConfigs on GROUP resources, ListGroups, ShareGroupDescribe,
// Describe/Alter/DeleteShareGroupOffsets, DeleteGroups).

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kafkaToolsLibs, runKafkaTool } from './support/kafka-tools.ts';

const SHARE_GROUPS = 'org.apache.kafka.tools.consumer.group.ShareGroupCommand';
const CONFIGS = 'org.apache.kafka.tools.ConfigCommand';
const TOPICS = 'org.apache.kafka.tools.TopicCommand';

let libs: string;
let broker: BrokerProcess;

beforeAll(async () => {
  libs = kafkaToolsLibs();
  broker = await startBroker();
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

async function ok(mainClass: string, args: readonly string[]): Promise<string> {
  const r = await runKafkaTool(libs, mainClass, ['--bootstrap-server', broker.bootstrap, ...args]);
  expect(r.code, `${mainClass} ${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  expect(r.stdout + r.stderr).not.toContain('Error');
  return r.stdout + r.stderr;
}

/** The output's lines split in cells, the header first and the rest sorted (the tools keep the broker's order). */
const rows = (out: string) => {
  const [header, ...rest] = out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  return [header, ...rest.sort((a, b) => a.join(' ').localeCompare(b.join(' ')))];
};

describe('kafka-share-groups and kafka-configs --entity-type groups', () => {
  test('config, reset offsets, list, describe, delete offsets, delete the group', async () => {
    await ok(TOPICS, ['--create', '--topic', 'tool-share', '--partitions', '2']);
    expect(await ok(CONFIGS, ['--alter', '--entity-type', 'groups', '--entity-name', 'tg', '--add-config', 'share.auto.offset.reset=earliest'])).toContain(
      'Completed updating config for group tg.',
    );
    expect(await ok(CONFIGS, ['--describe', '--entity-type', 'groups', '--entity-name', 'tg'])).toContain(
      'share.auto.offset.reset=earliest sensitive=false synonyms={DYNAMIC_GROUP_CONFIG:share.auto.offset.reset=earliest}',
    );
    const bad = await runKafkaTool(libs, CONFIGS, [
      '--bootstrap-server',
      broker.bootstrap,
      ...['--alter', '--entity-type', 'groups', '--entity-name', 'tg', '--add-config', 'share.record.lock.duration.ms=10'],
    ]);
    expect(bad.code).not.toBe(0);

    expect(rows(await ok(SHARE_GROUPS, ['--reset-offsets', '--group', 'tg', '--topic', 'tool-share', '--to-earliest', '--execute']))).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
      ['tg', 'tool-share', '0', '0'],
      ['tg', 'tool-share', '1', '0'],
    ]);
    expect(rows(await ok(SHARE_GROUPS, ['--list']))).toContainEqual(['tg']);
    expect(rows(await ok(SHARE_GROUPS, ['--describe', '--group', 'tg']))).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'START-OFFSET', 'LAG'],
      ['tg', 'tool-share', '0', '0', '-'],
      ['tg', 'tool-share', '1', '0', '-'],
    ]);
    expect(await ok(SHARE_GROUPS, ['--describe', '--group', 'tg', '--members'])).toContain("Share group 'tg' has no active members.");
    expect(await ok(SHARE_GROUPS, ['--describe', '--group', 'tg', '--state'])).toMatch(/^tg\s+\S+\s+\(1\)\s+Empty\s+0$/m);
    expect(rows(await ok(SHARE_GROUPS, ['--delete-offsets', '--group', 'tg', '--topic', 'tool-share']))).toEqual([
      ['TOPIC', 'STATUS'],
      ['tool-share', 'Successful'],
    ]);
    expect(await ok(SHARE_GROUPS, ['--delete', '--group', 'tg'])).toContain("Deletion of requested share groups ('tg') was successful.");
    expect(rows(await ok(SHARE_GROUPS, ['--list']))).not.toContainEqual(['tg']);
  }, 240_000);
});
