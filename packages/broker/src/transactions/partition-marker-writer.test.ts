// PartitionMarkerWriter over stand-in partitions: one marker per partition through
// Partition.appendTxnMarker, the offset sink told for `__consumer_offsets` partitions (and only
// after the marker is in), UNKNOWN_TOPIC_OR_PARTITION / KAFKA_STORAGE_ERROR / native refusals
// per partition, and fsync failures under sluice.flush.on.ack.enable turned into
// KAFKA_STORAGE_ERROR.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { silentLogger } from '../logger.ts';
import { PartitionMarkerWriter, type MarkerWriterHost } from './partition-marker-writer.ts';

interface StandIn {
  index: number;
  offline: boolean;
  markers: Array<{ producerId: number; commit: boolean }>;
  refuseWith: string | null;
  flushFails: boolean;
  appendTxnMarker(producerId: number, epoch: number, coordinatorEpoch: number, commit: boolean): void;
  flushDurable(): Promise<void>;
  markOffline(): void;
}

function partition(index: number, events: string[]): StandIn {
  return {
    index,
    offline: false,
    markers: [],
    refuseWith: null,
    flushFails: false,
    appendTxnMarker(producerId, _epoch, _coordinatorEpoch, commit) {
      if (this.refuseWith !== null) throw Object.assign(new Error('refused'), { code: this.refuseWith });
      events.push(`marker ${index}`);
      this.markers.push({ producerId, commit });
    },
    flushDurable() {
      return this.flushFails ? Promise.reject(Object.assign(new Error('fsync'), { code: 'KAFKA_STORAGE_ERROR' })) : Promise.resolve();
    },
    markOffline() {
      this.offline = true;
    },
  };
}

function writerOver(flushOnAck = false) {
  const events: string[] = [];
  const topics = new Map([
    ['t', [partition(0, events), partition(1, events)]],
    ['__consumer_offsets', [partition(0, events), partition(1, events)]],
  ]);
  const host = {
    config: { bool: (key: string) => key === 'sluice.flush.on.ack.enable' && flushOnAck },
    topics: { get: (name: string) => (topics.has(name) ? { name, partitions: topics.get(name)! } : undefined) },
    logger: silentLogger,
    offsetSink: () => ({ onTransactionCompleted: (p: number, pid: number, result: string) => events.push(`sink ${p} ${pid} ${result}`) }),
  } as unknown as MarkerWriterHost;
  return { writer: new PartitionMarkerWriter(host), topics, events };
}

const request = (partitions: Array<{ topic: string; partition: number }>) => ({
  transactionalId: 'tx',
  producerId: 5,
  producerEpoch: 1,
  result: 'COMMIT' as const,
  coordinatorEpoch: 0,
  transactionVersion: 0,
  partitions,
});

describe('PartitionMarkerWriter', () => {
  test('a marker per partition; the offsets sink after the marker in __consumer_offsets', async () => {
    const { writer, topics, events } = writerOver();
    const results = await writer.write(
      request([
        { topic: 't', partition: 1 },
        { topic: '__consumer_offsets', partition: 0 },
      ]),
    );
    expect(results).toEqual([
      { topic: 't', partition: 1, errorCode: ErrorCode.NONE },
      { topic: '__consumer_offsets', partition: 0, errorCode: ErrorCode.NONE },
    ]);
    expect(topics.get('t')![1].markers).toEqual([{ producerId: 5, commit: true }]);
    expect(events).toEqual(['marker 1', 'marker 0', 'sink 0 5 COMMIT']);
  });

  test('per-partition failures: unknown, offline, refused by the native log', async () => {
    const { writer, topics, events } = writerOver();
    topics.get('t')![0].offline = true;
    topics.get('__consumer_offsets')![1].refuseWith = 'INVALID_PRODUCER_EPOCH';
    const results = await writer.write(
      request([
        { topic: 'gone', partition: 0 },
        { topic: 't', partition: 0 },
        { topic: '__consumer_offsets', partition: 1 },
        { topic: 't', partition: 1 },
      ]),
    );
    expect(results.map((r) => r.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.KAFKA_STORAGE_ERROR,
      ErrorCode.INVALID_PRODUCER_EPOCH,
      ErrorCode.NONE,
    ]);
    // A refused marker does not resolve the pending offsets.
    expect(events).toEqual(['marker 1']);
  });

  test('with flush on ack, a partition whose fsync fails answers KAFKA_STORAGE_ERROR', async () => {
    const { writer, topics } = writerOver(true);
    topics.get('t')![1].flushFails = true;
    const results = await writer.write(
      request([
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
      ]),
    );
    expect(results.map((r) => r.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.KAFKA_STORAGE_ERROR]);
  });
});

describe('PartitionMarkerWriter in cluster mode', () => {
  function clusterWriter(replicatedCode: number) {
    const events: string[] = [];
    const standIns = [0, 1, 2].map((i) => Object.assign(partition(i, events), { isReplicated: true, logEndOffset: 10 + i, topic: { isInternal: false } }));
    const sent: Array<{ leader: number; partitions: Array<{ topic: string; partition: number }>; coordinatorEpoch: number }> = [];
    const waited: number[] = [];
    const host = {
      config: { bool: () => false },
      topics: { get: (name: string) => (name === 't' ? { name, partitions: standIns } : undefined) },
      logger: silentLogger,
      offsetSink: () => null,
      replication: () => ({
        leads: (_topic: string, index: number) => index === 0,
        onLeaderAppend: () => events.push('replication told'),
        replicated: async (p: { index: number; logEndOffset: number }) => {
          waited.push(p.logEndOffset);
          return replicatedCode;
        },
        exists: (topic: string) => topic === 't' || topic === 'moved',
        leaderOf: (_topic: string, index: number) => (index === 1 ? { nodeId: 2, host: '127.0.0.2', port: 9092 } : null),
        remote: {
          send: async (req: { coordinatorEpoch: number }, byLeader: Map<number, { partitions: Array<{ topic: string; partition: number }> }>) => {
            for (const [leader, slot] of byLeader) sent.push({ leader, partitions: slot.partitions, coordinatorEpoch: req.coordinatorEpoch });
            return [...byLeader.values()].flatMap((slot) => slot.partitions.map((tp) => ({ ...tp, errorCode: ErrorCode.NONE })));
          },
        },
      }),
    } as unknown as MarkerWriterHost;
    return { writer: new PartitionMarkerWriter(host), standIns, sent, waited, events };
  }

  test('led here: appended and answered once the ISR has it; led elsewhere: sent to that leader; no leader / no partition', async () => {
    const { writer, standIns, sent, waited, events } = clusterWriter(ErrorCode.NONE);
    const results = await writer.write({
      ...request([
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
        { topic: 't', partition: 2 },
        { topic: 'gone', partition: 0 },
      ]),
      coordinatorEpoch: 7,
    });
    expect(new Map(results.map((r) => [`${r.topic}-${r.partition}`, r.errorCode]))).toEqual(
      new Map([
        ['t-0', ErrorCode.NONE],
        ['t-1', ErrorCode.NONE],
        ['t-2', ErrorCode.NOT_LEADER_OR_FOLLOWER],
        ['gone-0', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]),
    );
    expect(events).toEqual(['marker 0', 'replication told']);
    expect(standIns[1].markers).toEqual([]);
    expect(waited).toEqual([10]);
    expect(sent).toEqual([{ leader: 2, partitions: [{ topic: 't', partition: 1 }], coordinatorEpoch: 7 }]);
  });

  test('a marker the in-sync replicas did not take in time answers the replication error (retried)', async () => {
    const { writer } = clusterWriter(ErrorCode.REQUEST_TIMED_OUT);
    expect(await writer.write(request([{ topic: 't', partition: 0 }]))).toEqual([{ topic: 't', partition: 0, errorCode: ErrorCode.REQUEST_TIMED_OUT }]);
  });

  test('WriteTxnMarkers for a partition the cluster has but this broker no longer hosts: NOT_LEADER_OR_FOLLOWER (retried at the leader), never UNKNOWN (counted done)', () => {
    const { writer } = clusterWriter(ErrorCode.NONE);
    const marker = { producerId: 7, producerEpoch: 0, coordinatorEpoch: 1, result: 'ABORT' as const, transactionVersion: 0 };
    expect(writer.appendOne({ topic: 'moved', partition: 0 }, marker, 0).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(writer.appendOne({ topic: 'gone', partition: 0 }, marker, 0).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
