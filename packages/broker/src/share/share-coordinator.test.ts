// The share coordinator over a state log that refuses writes: fetching goes on (nothing crashes,
// an unwritten acquisition loses only a delivery count), acknowledgements answer the storage
// error instead of success.

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { silentLogger } from '../logger.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { DEFAULT_SHARE_GROUP_CONFIG } from './config.ts';
import { ShareCoordinator } from './share-coordinator.ts';
import { type ShareStateLog, ShareStateLogError } from './share-state-log.ts';

class RefusingLog implements ShareStateLog {
  refuse = false;
  append(): { durable: Promise<void> } {
    if (this.refuse) throw new ShareStateLogError(ErrorCode.KAFKA_STORAGE_ERROR, 'disk gone');
    return { durable: Promise.resolve() };
  }
  replay(): void {}
}

let t: TestBroker;
beforeEach(() => {
  t = startTestBroker();
});
afterEach(() => t.close());

test('a refused state write fails the acknowledgement with its error code and crashes nothing', async () => {
  const topic = t.broker.topicCreator.create('q', 1, 1, [], false).topic!;
  const log = new RefusingLog();
  const share = new ShareCoordinator({
    config: { ...DEFAULT_SHARE_GROUP_CONFIG, autoOffsetReset: 'earliest' },
    stateLog: log,
    topicRegistry: t.topics,
    topics: { byName: () => undefined, all: () => [] },
    logger: silentLogger,
  });
  topic.partitions[0].append(buildRecordBatch({ records: [{ key: null, value: 'v', timestamp: 1 }] }), Date.now());
  const ref = { topicId: topic.id, partition: 0 };
  share.session({ groupId: 'g', memberId: 'm', epoch: 0, partitions: [{ ...ref, batches: [] }], forgotten: [], isFetch: true, connectionId: 1 });
  log.refuse = true;
  expect(share.acquire('g', 'm', [ref], 10, 1 << 20)[0].acquired).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 1 }]);
  const outcome = share.session({
    groupId: 'g',
    memberId: 'm',
    epoch: 1,
    partitions: [{ ...ref, batches: [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }] }],
    forgotten: [],
    isFetch: false,
    connectionId: 1,
  });
  if (!('acks' in outcome)) throw new Error('session refused');
  expect(await outcome.acks).toEqual([{ ...ref, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: 'disk gone' }]);
  // Let any unhandled rejection surface before the test ends.
  await new Promise((r) => setTimeout(r, 20));
  share.close();
});

test('an expired acquisition lock releases the records to the next member and wakes parked fetches', () => {
  const topic = t.broker.topicCreator.create('q', 1, 1, [], false).topic!;
  const clock = new ManualClock();
  const woken: number[] = [];
  const share = new ShareCoordinator({
    config: { ...DEFAULT_SHARE_GROUP_CONFIG, autoOffsetReset: 'earliest', recordLockDurationMs: 15_000 },
    stateLog: new RefusingLog(),
    topicRegistry: t.topics,
    topics: { byName: () => undefined, all: () => [] },
    logger: silentLogger,
    clock,
    onRecordsReleased: (partition) => woken.push(partition.index),
  });
  topic.partitions[0].append(buildRecordBatch({ records: [{ key: null, value: 'v', timestamp: 1 }] }), Date.now());
  const ref = { topicId: topic.id, partition: 0 };
  for (const memberId of ['a', 'b']) {
    share.session({ groupId: 'g', memberId, epoch: 0, partitions: [{ ...ref, batches: [] }], forgotten: [], isFetch: true, connectionId: 1 });
  }
  expect(share.acquire('g', 'a', [ref], 10, 1 << 20)[0].acquired).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 1 }]);
  expect(share.acquire('g', 'b', [ref], 10, 1 << 20)).toEqual([]);
  clock.advance(14_999);
  expect(woken).toEqual([]);
  clock.advance(1);
  expect(woken).toEqual([0]);
  expect(share.acquire('g', 'b', [ref], 10, 1 << 20)[0].acquired).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
  share.close();
});
