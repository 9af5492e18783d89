// Topic and partition creation is all-or-nothing: when opening one of the new logs fails (a full
// disk, EMFILE, EIO), the ones already opened are deleted again, the topic is not registered,
// and the request gets an error code instead of a closed connection. A request for more
// partitions than the broker has file descriptors for is refused before anything is opened.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PartitionLog } from '@sluice/native';
import { ErrorCode } from '@sluice/protocol';
import { BrokerContext } from './broker-context.ts';
import { BrokerConfig } from './config.ts';
import { FILES_PER_NEW_PARTITION, newPartitionsProblem, openFileHeadroom, RESERVED_FILES } from './fd-budget.ts';
import { silentLogger } from './logger.ts';
import { TopicRegistry } from './topics.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-creation-test-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function registry(): TopicRegistry {
  const topics = new TopicRegistry(new BrokerConfig([['log.dirs', dir]]), silentLogger);
  topics.load();
  return topics;
}

/** PartitionLog.open fails (as the native log does, with a coded error) after `ok` opens. */
function failOpensAfter(ok: number): void {
  const real = PartitionLog.open.bind(PartitionLog);
  let opened = 0;
  vi.spyOn(PartitionLog, 'open').mockImplementation((...args: Parameters<typeof PartitionLog.open>) => {
    if (opened++ >= ok) throw Object.assign(new Error('storage error during open index: Too many open files (os error 24)'), { code: 'KAFKA_STORAGE_ERROR' });
    return real(...args);
  });
}

const partitionDirs = () => readdirSync(dir).filter((f) => /-\d+$/.test(f));

describe('all-or-nothing creation', () => {
  it('a topic whose sixth log fails to open leaves nothing behind and can be created again', () => {
    const topics = registry();
    failOpensAfter(5);
    expect(() => topics.create('t', 10, new Map())).toThrow('Too many open files');
    expect(topics.get('t')).toBeUndefined();
    expect(partitionDirs()).toEqual([]);
    vi.restoreAllMocks();
    expect(topics.create('t', 3, new Map()).partitions).toHaveLength(3);
    topics.close();
    const reopened = registry();
    expect(reopened.get('t')?.partitions).toHaveLength(3);
    reopened.close();
  });

  it('added partitions are all-or-nothing too', () => {
    const topics = registry();
    const topic = topics.create('t', 2, new Map());
    failOpensAfter(3);
    expect(() => topics.addPartitions(topic, 8)).toThrow();
    expect(topic.partitions).toHaveLength(2);
    expect(partitionDirs().sort()).toEqual(['t-0', 't-1']);
    topics.close();
  });

  it('CreateTopics answers the storage error for that topic instead of failing the request', () => {
    const topics = registry();
    const context = new BrokerContext(new BrokerConfig([['log.dirs', dir]]), 'test-cluster', topics, silentLogger);
    failOpensAfter(1);
    const outcome = context.topicCreator.create('t', 4, 1, [], false);
    expect(outcome.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(outcome.topic).toBeUndefined();
    expect(topics.get('t')).toBeUndefined();
    topics.close();
  });
});

describe('file descriptor budget', () => {
  it('refuses more new partitions than there are files for, with the numbers', () => {
    expect(newPartitionsProblem(10, RESERVED_FILES + 10 * FILES_PER_NEW_PARTITION)).toBeNull();
    const problem = newPartitionsProblem(10, RESERVED_FILES + 10 * FILES_PER_NEW_PARTITION - 1);
    expect(problem).toContain('10 new partitions need about 40 more open files');
    expect(newPartitionsProblem(1_000_000, null)).toBeNull(); // unknown headroom: not refused here
  });

  it('reads this process headroom from /proc', () => {
    const headroom = openFileHeadroom();
    expect(headroom).not.toBeNull();
    expect(headroom!).toBeGreaterThan(0);
    const context = new BrokerContext(new BrokerConfig([['log.dirs', dir]]), 'test-cluster', registry(), silentLogger);
    const tooMany = Math.ceil(headroom! / FILES_PER_NEW_PARTITION) + 1;
    const outcome = context.topicCreator.create('huge', Math.min(tooMany, 100_000), 1, [], false);
    if (tooMany <= 100_000) {
      expect(outcome.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
      expect(outcome.errorMessage).toContain('open-files limit');
      expect(partitionDirs()).toEqual([]);
    }
  });
});
