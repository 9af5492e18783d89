// TransactionStateTopicLog over stand-in partition logs (real RecordBatch bytes): the topic is
// created on the first transition with the transaction.state.log.* settings and compaction, and
// a new coordinator over the same topic (a restart) finds every transactional id as it was,
// reading in transaction.state.log.load.buffer.size steps.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { silentLogger } from '../logger.ts';
import { standInBroker } from '../testing/stand-in-internal-topic.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { TransactionCoordinator } from './coordinator.ts';
import { MemoryMarkerWriter } from './memory-marker-writer.ts';
import { TRANSACTION_STATE_TOPIC, TransactionStateTopicLog } from './transaction-state-log.ts';
import { TransactionLogError } from './transaction-log.ts';

function coordinatorOver(log: TransactionStateTopicLog, markers = new MemoryMarkerWriter()): TransactionCoordinator {
  let next = 100;
  return new TransactionCoordinator({
    log,
    markers,
    clock: new ManualClock(1_700_000_000_000),
    producerIds: { generate: () => next++ },
    offsetsPartitionFor: () => ({ topic: '__consumer_offsets', partition: 0 }),
  });
}

describe('TransactionStateTopicLog', () => {
  test('created on the first transition: num.partitions, compacted, segment.bytes', async () => {
    const broker = standInBroker();
    const log = new TransactionStateTopicLog(broker.context, silentLogger);
    expect(log.partitionCount).toBe(3);
    const c = coordinatorOver(log);
    await c.load();
    expect(broker.created).toEqual([]);
    expect((await c.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })).errorCode).toBe(ErrorCode.NONE);
    expect(broker.created).toEqual([
      {
        name: TRANSACTION_STATE_TOPIC,
        partitions: 3,
        configs: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(1 << 20) },
        ],
      },
    ]);
  });

  test('a restart replays every transactional id; a prepared commit gets its markers at load', async () => {
    const broker = standInBroker();
    const first = coordinatorOver(new TransactionStateTopicLog(broker.context, silentLogger));
    await first.load();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    for (const id of ids) {
      const init = await first.initProducerId({ transactionalId: id, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      expect(
        await first.addPartitions({
          transactionalId: id,
          producerId: init.producerId,
          producerEpoch: init.producerEpoch,
          partitions: [{ topic: 't', partition: 0 }],
        }),
      ).toBe(ErrorCode.NONE);
    }
    const a = first.get('a')!;
    // EndTxn for `a` answered, but the broker stops before its markers: PrepareCommit is the last record.
    const markers = new MemoryMarkerWriter();
    markers.hold();
    const held = coordinatorOver(new TransactionStateTopicLog(broker.context, silentLogger), markers);
    await held.load();
    expect((await held.endTxn({ transactionalId: 'a', producerId: a.producerId, producerEpoch: a.producerEpoch, committed: true })).errorCode).toBe(
      ErrorCode.NONE,
    );
    held.close();
    const recoveredMarkers = new MemoryMarkerWriter();
    const restarted = coordinatorOver(new TransactionStateTopicLog(broker.context, silentLogger), recoveredMarkers);
    await restarted.load();
    expect(ids.map((id) => restarted.get(id)?.state)).toEqual(['CompleteCommit', 'Ongoing', 'Ongoing', 'Ongoing', 'Ongoing']);
    expect(recoveredMarkers.requests.map((m) => [m.transactionalId, m.result])).toEqual([['a', 'COMMIT']]);
    expect(recoveredMarkers.markers({ topic: 't', partition: 0 })).toHaveLength(1);
  });

  test('storage errors become TransactionLogError with the Kafka code', () => {
    const broker = standInBroker({ existingPartitions: 1, existingTopic: TRANSACTION_STATE_TOPIC });
    const log = new TransactionStateTopicLog(broker.context, silentLogger);
    expect(log.partitionCount).toBe(1);
    broker.logs[0].failWith = 'KAFKA_STORAGE_ERROR';
    expect(() => log.append(0, [{ key: Uint8Array.from([0, 0, 0, 1, 0x61]), value: null }], 0)).toThrow(TransactionLogError);
  });
});
