// OffsetsTopicLog over a stand-in partition log (real RecordBatch bytes, offsets assigned as the
// storage engine does), so batch building, topic creation and replay are tested without the
// native addon. The real engine is exercised by the end-to-end tests in test/groups.test.ts.

import { buildEndTxnMarkerBatch, ErrorCode, parseRecordBatches } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { silentLogger } from '../logger.ts';
import { GroupCoordinator } from './coordinator.ts';
import { GroupLogError } from './group-log.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { OFFSETS_TOPIC_SEGMENT_BYTES, OffsetsTopicLog } from './offsets-topic-log.ts';
import { TEST_CONFIG } from '../testing/group-harness.ts';
import { type ReadableStandInLog, standInBroker } from '../testing/stand-in-internal-topic.ts';

function coordinatorOn(log: OffsetsTopicLog, clock = new ManualClock()): GroupCoordinator {
  const c = new GroupCoordinator({ config: TEST_CONFIG, groupLog: log, logger: silentLogger, clock });
  c.load();
  return c;
}

const commit = (groupId: string, topic: string, partition: number, offset: number) => ({
  groupId,
  generationId: -1,
  memberId: '',
  groupInstanceId: null,
  retentionTimeMs: -1,
  apiVersion: 8,
  offsets: [{ topic, partition, offset, leaderEpoch: -1, metadata: `m${offset}` }],
});

describe('OffsetsTopicLog', () => {
  test('the topic is created on the first write: offsets.topic.num.partitions, compacted, 100 MiB segments', async () => {
    const broker = standInBroker();
    const log = new OffsetsTopicLog(broker.context, silentLogger);
    expect(log.partitionCount).toBe(5);
    const c = coordinatorOn(log);
    expect(broker.created).toEqual([]);
    expect(await c.commitOffsets(commit('g', 't', 0, 1))).toEqual([0]);
    expect(broker.created).toEqual([
      {
        name: '__consumer_offsets',
        partitions: 5,
        configs: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(OFFSETS_TOPIC_SEGMENT_BYTES) },
        ],
      },
    ]);
    // One batch in the group's partition only.
    expect(broker.logs.map((l) => l.logEndOffset)).toEqual([0, 1, 2, 3, 4].map((p) => (p === c.partitionFor('g') ? 1 : 0)));
  });

  test('an existing topic keeps its partition count', () => {
    const broker = standInBroker({ existingPartitions: 3 });
    expect(new OffsetsTopicLog(broker.context, silentLogger).partitionCount).toBe(3);
  });

  test('a restart replays every partition, across many small reads and mid-batch starts', async () => {
    const broker = standInBroker();
    const clock = new ManualClock();
    const c = coordinatorOn(new OffsetsTopicLog(broker.context, silentLogger), clock);
    for (let i = 0; i < 50; i++) {
      expect(await c.commitOffsets(commit(`group-${i % 7}`, 'topic', i % 3, i))).toEqual([0]);
    }
    // A multi-record batch, then a deletion (tombstones) of one group.
    await c.commitOffsets({
      ...commit('multi', 'a', 0, 1),
      offsets: [0, 1, 2, 3].map((p) => ({ topic: 'a', partition: p, offset: 100 + p, leaderEpoch: 2, metadata: null })),
    });
    expect(await c.deleteGroups(['group-3'])).toEqual([{ groupId: 'group-3', errorCode: 0 }]);
    c.close();

    const replayed = coordinatorOn(new OffsetsTopicLog(broker.context, silentLogger, 200), clock);
    for (let g = 0; g < 7; g++) {
      const expected =
        g === 3
          ? []
          : [0, 1, 2].map((p) => [p, Math.max(...[...Array(50).keys()].filter((i) => i % 7 === g && i % 3 === p))]).filter(([, o]) => o !== -Infinity);
      const fetched = replayed.fetchOffsets(`group-${g}`, null).topics.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.committedOffset]));
      expect(fetched.sort((a, b) => a[0] - b[0])).toEqual(expected);
    }
    expect(replayed.fetchOffsets('multi', null).topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch])).toEqual([
      [0, 100, 2],
      [1, 101, 2],
      [2, 102, 2],
      [3, 103, 2],
    ]);
    // The small read size forced several reads per partition.
    const reads = (broker.logs as ReadableStandInLog[]).reduce((n, l) => n + l.reads, 0);
    expect(reads).toBeGreaterThan(broker.logs.filter((l) => l.logEndOffset > 0).length);
  });

  test('replay skips records below the log start offset (a read returns the containing batch)', async () => {
    const broker = standInBroker();
    const c = coordinatorOn(new OffsetsTopicLog(broker.context, silentLogger));
    await c.commitOffsets({
      ...commit('g', 't', 0, 1),
      offsets: [0, 1].map((p) => ({ topic: 't', partition: p, offset: 7, leaderEpoch: -1, metadata: null })),
    });
    const log = broker.logs[c.partitionFor('g')];
    // As after DeleteRecords moved the start into the middle of the batch.
    log.logStartOffset = 1;
    const replayed = coordinatorOn(new OffsetsTopicLog(broker.context, silentLogger));
    expect(replayed.fetchOffsets('g', null).topics[0].partitions.map((p) => p.partitionIndex)).toEqual([1]);
  });

  test('without a byte read from the engine, a non-empty offsets topic refuses to load; an empty one is fine', async () => {
    const broker = standInBroker({ readable: false });
    const c = coordinatorOn(new OffsetsTopicLog(broker.context, silentLogger));
    const again = new GroupCoordinator({
      config: TEST_CONFIG,
      groupLog: new OffsetsTopicLog(broker.context, silentLogger),
      logger: silentLogger,
      clock: new ManualClock(),
    });
    again.load(); // the topic exists but is empty
    await c.commitOffsets(commit('g', 't', 0, 1));
    const third = new GroupCoordinator({
      config: TEST_CONFIG,
      groupLog: new OffsetsTopicLog(broker.context, silentLogger),
      logger: silentLogger,
      clock: new ManualClock(),
    });
    expect(() => third.load()).toThrow(/PartitionLog\.readBytes is missing/);
  });

  test('storage errors become GroupLogError with the Kafka code', () => {
    const broker = standInBroker({ existingPartitions: 1 });
    const log = new OffsetsTopicLog(broker.context, silentLogger);
    broker.logs[0].failWith = 'KAFKA_STORAGE_ERROR';
    const record = { key: Uint8Array.from([0, 2, 0, 1, 0x67]), value: null };
    expect(() => log.append(0, [record], 0)).toThrow(GroupLogError);
    try {
      log.append(0, [record], 0);
    } catch (err) {
      expect((err as GroupLogError).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    }
  });

  test('with sluice.flush.on.ack.enable a write is durable only after the flush', async () => {
    const broker = standInBroker({ flushOnAck: true, existingPartitions: 1 });
    const log = new OffsetsTopicLog(broker.context, silentLogger);
    await log.append(0, [{ key: Uint8Array.from([0, 2, 0, 1, 0x67]), value: null }], 0).durable;
    expect(broker.flushes).toBe(1);
    const noFlush = standInBroker({ existingPartitions: 1 });
    await new OffsetsTopicLog(noFlush.context, silentLogger).append(0, [{ key: Uint8Array.from([0, 2, 0, 1, 0x67]), value: null }], 0).durable;
    expect(noFlush.flushes).toBe(0);
  });

  test('TxnOffsetCommit batches are transactional (producer id/epoch, no sequence); replay keeps them pending until their marker', async () => {
    const broker = standInBroker();
    const log = new OffsetsTopicLog(broker.context, silentLogger);
    const c = coordinatorOn(log);
    const input = {
      groupId: 'g',
      producerId: 77,
      producerEpoch: 3,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 't', partition: 0, offset: 12, leaderEpoch: -1, metadata: null }],
    };
    expect(await c.commitTransactionalOffsets(input, () => 0)).toEqual([0]);
    const partition = c.partitionFor('g');
    const [batch] = parseRecordBatches(broker.logs[partition].batches[0].bytes);
    expect(batch).toMatchObject({ transactional: true, isControl: false, producerId: 77, producerEpoch: 3, baseSequence: 0 });
    // The next commit of the transaction continues the producer's sequence in that partition.
    expect(
      await c.commitTransactionalOffsets(
        {
          ...input,
          offsets: [
            { ...input.offsets[0], partition: 1 },
            { ...input.offsets[0], partition: 2 },
          ],
        },
        () => 0,
      ),
    ).toEqual([0, 0]);
    expect(parseRecordBatches(broker.logs[partition].batches[1].bytes)[0]).toMatchObject({ producerId: 77, baseSequence: 1, lastOffsetDelta: 1 });
    const fetch = (coordinator: GroupCoordinator) => coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }], true).topics[0].partitions[0];
    expect(fetch(coordinatorOn(new OffsetsTopicLog(broker.context, silentLogger))).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    // The COMMIT marker as the native log writes it, then a restart: applied.
    broker.logs[partition].append(buildEndTxnMarkerBatch({ type: 'COMMIT', coordinatorEpoch: 0, producerId: 77, producerEpoch: 3, timestamp: 0 }), 0);
    expect(fetch(coordinatorOn(new OffsetsTopicLog(broker.context, silentLogger)))).toMatchObject({ committedOffset: 12, errorCode: 0 });
    // A new epoch starts at 0 again.
    await c.commitTransactionalOffsets({ ...input, producerEpoch: 4 }, () => 0);
    expect(parseRecordBatches(broker.logs[partition].batches.at(-1)!.bytes)[0]).toMatchObject({ producerEpoch: 4, baseSequence: 0 });
  });
});
