import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { buildRecordBatch } from '@sluice/protocol';
import { BrokerConfig } from './config.ts';
import { silentLogger } from './logger.ts';
import { TopicRegistry } from './topics.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-topics-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const batch = () => buildRecordBatch({ records: [{ key: 'k', value: 'v', timestamp: 1 }] });

test('a re-created topic starts empty even when a crashed delete left its directory behind', () => {
  const config = new BrokerConfig([['log.dirs', dir]]);
  const first = new TopicRegistry(config, silentLogger);
  first.load();
  const topic = first.create('t', 1, new Map());
  topic.partitions[0].log.append(batch(), Date.now());
  expect(topic.partitions[0].log.logEndOffset).toBe(1);
  // A crash between persisting the registry without the topic and removing its directory:
  first.close();
  const second = new TopicRegistry(config, silentLogger);
  second.load();
  second.close();
  cpSync(join(dir, 't-0'), join(dir, 'saved'), { recursive: true });
  const deleting = new TopicRegistry(config, silentLogger);
  deleting.load();
  deleting.delete(deleting.get('t')!);
  deleting.close();
  renameSync(join(dir, 'saved'), join(dir, 't-0')); // as if the process died before removing it
  const third = new TopicRegistry(config, silentLogger);
  third.load();
  expect(third.get('t')).toBeUndefined();
  const recreated = third.create('t', 1, new Map());
  expect(recreated.partitions[0].log.logEndOffset).toBe(0);
  expect(existsSync(join(dir, 't-0'))).toBe(true);
  third.close();
});
