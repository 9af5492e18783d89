// kafkajs as an independent oracle, at every version both it and we speak:
// - responses we encode are decoded by kafkajs's own per-version decoders, and every field comes
//   out with the value we put in (kafkajs does not check for trailing bytes, so checking the
//   values — the last ones especially — is what catches a missing or misplaced field);
// - requests kafkajs encodes are decoded by us to the values kafkajs was given.
// kafkajs only speaks classic (non-flexible) versions, so this covers the classic half.
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { type AnyResponse, ApiKey, decodeRequest, decodeRequestHeader, type Encodable, encodeResponse, FrameReader } from './index.ts';

const require = createRequire(import.meta.url);
const kafkajs = (path: string): any => require(`kafkajs/src/protocol/${path}`);
const Encoder = kafkajs('encoder');
const Long = require('kafkajs/src/utils/long');

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** Encodes with our codec, hands kafkajs the bytes after size and correlation id, as it does. */
async function kafkajsDecodes(api: string, apiKey: number, version: number, body: Encodable<AnyResponse>): Promise<any> {
  const parts = encodeResponse(apiKey, version, 42, body);
  expect(parts).toHaveLength(1);
  const frame = parts[0] as Uint8Array;
  expect(new DataView(frame.buffer, frame.byteOffset).getInt32(0)).toBe(frame.length - 4);
  expect(new DataView(frame.buffer, frame.byteOffset).getInt32(4)).toBe(42);
  const { decode } = kafkajs(`requests/${api}/v${version}/response`);
  return decode(Buffer.from(frame.subarray(8)));
}

/** A request kafkajs encodes (size prefix and header included), decoded by us. */
async function weDecode(request: any): Promise<{ header: ReturnType<typeof decodeRequestHeader>; body: any }> {
  const encoded = await kafkajs('request')({ correlationId: 7, clientId: 'kafkajs-oracle', request });
  const reader = new FrameReader(1 << 20);
  reader.push(new Uint8Array(encoded.buffer));
  const frame = reader.next() as Uint8Array;
  expect(reader.bufferedBytes).toBe(0);
  const header = decodeRequestHeader(frame);
  expect(header).toMatchObject({ apiKey: request.apiKey, apiVersion: request.apiVersion, correlationId: 7, clientId: 'kafkajs-oracle' });
  return { header, body: decodeRequest(header, frame) };
}

/** A v2 record batch built by kafkajs's own encoder. */
async function kafkajsBatch(firstOffset: number, values: string[]): Promise<Uint8Array> {
  const Record = kafkajs('recordBatch/record/v0');
  const { RecordBatch } = kafkajs('recordBatch/v0');
  const now = 1_700_000_000_000;
  const records = values.map((v, i) => Record({ key: Buffer.from(`k${i}`), value: Buffer.from(v), offsetDelta: i, timestampDelta: i }));
  const batch = await RecordBatch({
    records,
    firstOffset: Long.fromNumber(firstOffset),
    firstTimestamp: now,
    maxTimestamp: now + values.length - 1,
    lastOffsetDelta: values.length - 1,
  });
  return new Uint8Array(batch.buffer);
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s));

describe('responses we encode, decoded by kafkajs', () => {
  test.each(range(0, 2))('ApiVersions v%i', async (v) => {
    const d = await kafkajsDecodes('apiVersions', ApiKey.ApiVersions, v, {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 9,
    });
    expect(d.errorCode).toBe(0);
    expect(d.apiVersions).toEqual([
      { apiKey: 0, minVersion: 0, maxVersion: 11 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ]);
    if (v === 1) expect(d.throttleTime).toBe(9);
    if (v === 2) expect(d.clientSideThrottleTime).toBe(9);
  });

  test.each(range(0, 6))('Metadata v%i', async (v) => {
    const d = await kafkajsDecodes('metadata', ApiKey.Metadata, v, {
      throttleTimeMs: 3,
      brokers: [{ nodeId: 1, host: 'broker-1', port: 9092, rack: 'rack-a' }],
      clusterId: 'cluster-x',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          isInternal: false,
          partitions: [
            { errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 4, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] },
            { errorCode: 9, partitionIndex: 1, leaderId: 1, leaderEpoch: 4, replicaNodes: [1, 2], isrNodes: [1], offlineReplicas: [2] },
          ],
        },
      ],
    });
    expect(d.brokers).toEqual([v >= 1 ? { nodeId: 1, host: 'broker-1', port: 9092, rack: 'rack-a' } : { nodeId: 1, host: 'broker-1', port: 9092 }]);
    if (v >= 2) expect(d.clusterId).toBe('cluster-x');
    if (v >= 1) expect(d.controllerId).toBe(1);
    expect(d.topicMetadata).toHaveLength(1);
    expect(d.topicMetadata[0]).toMatchObject({ topicErrorCode: 0, topic: 'orders' });
    if (v >= 1) expect(d.topicMetadata[0].isInternal).toBe(false);
    const p1 = d.topicMetadata[0].partitionMetadata[1];
    expect(p1).toMatchObject({ partitionErrorCode: 9, partitionId: 1, leader: 1, replicas: [1, 2], isr: [1] });
    if (v >= 5) expect(p1.offlineReplicas).toEqual([2]);
  });

  test.each(range(3, 7))('Produce v%i', async (v) => {
    const d = await kafkajsDecodes('produce', ApiKey.Produce, v, {
      responses: [
        {
          name: 'orders',
          partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 12_345_678_901, logAppendTimeMs: -1, logStartOffset: 77 }],
        },
      ],
      throttleTimeMs: 11,
    });
    expect(d.topics).toHaveLength(1);
    expect(d.topics[0].topicName).toBe('orders');
    expect(d.topics[0].partitions[0]).toMatchObject({ partition: 2, errorCode: 0, baseOffset: '12345678901', logAppendTime: '-1' });
    if (v >= 5) expect(d.topics[0].partitions[0].logStartOffset).toBe('77');
    expect(d.throttleTime ?? d.clientSideThrottleTime).toBeDefined();
    expect(v >= 6 ? d.clientSideThrottleTime : d.throttleTime).toBe(11);
  });

  test.each(range(4, 11))('Fetch v%i (with a kafkajs-built record batch)', async (v) => {
    const records = await kafkajsBatch(100, ['one', 'two', 'three']);
    const d = await kafkajsDecodes('fetch', ApiKey.Fetch, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 123,
      responses: [
        {
          topic: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 103,
              lastStableOffset: 103,
              logStartOffset: 100,
              abortedTransactions: [{ producerId: 5, firstOffset: 101 }],
              preferredReadReplica: -1,
              records,
            },
          ],
        },
      ],
    });
    if (v >= 7) expect(d).toMatchObject({ errorCode: 0, sessionId: 123 });
    const p = d.responses[0].partitions[0];
    expect(d.responses[0].topicName).toBe('orders');
    expect(p).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '103', lastStableOffset: '103' });
    expect(p.abortedTransactions).toEqual([{ producerId: '5', firstOffset: '101' }]);
    if (v >= 5) expect(p.lastStartOffset).toBe('100');
    if (v >= 11) expect(p.preferredReadReplica).toBe(-1);
    expect(p.messages.map((m: any) => [m.offset, m.key.toString(), m.value.toString()])).toEqual([
      ['100', 'k0', 'one'],
      ['101', 'k1', 'two'],
      ['102', 'k2', 'three'],
    ]);
  });

  test.each(range(1, 3))('ListOffsets v%i', async (v) => {
    const d = await kafkajsDecodes('listOffsets', ApiKey.ListOffsets, v, {
      throttleTimeMs: 2,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 3, errorCode: 0, timestamp: -1, offset: 4_000_000_000 }] }],
    });
    expect(d.responses).toEqual([{ topic: 'orders', partitions: [{ partition: 3, errorCode: 0, timestamp: '-1', offset: '4000000000' }] }]);
  });

  test.each(range(2, 3))('CreateTopics v%i', async (v) => {
    const d = await kafkajsDecodes('createTopics', ApiKey.CreateTopics, v, {
      throttleTimeMs: 4,
      topics: [
        { name: 'b', errorCode: 36, errorMessage: 'exists' },
        { name: 'a', errorCode: 0, errorMessage: null },
      ],
    });
    expect(d.topicErrors).toEqual([
      { topic: 'a', errorCode: 0, errorMessage: null },
      { topic: 'b', errorCode: 36, errorMessage: 'exists' },
    ]);
  });

  test('DeleteTopics v1', async () => {
    const d = await kafkajsDecodes('deleteTopics', ApiKey.DeleteTopics, 1, {
      throttleTimeMs: 6,
      responses: [{ name: 'gone', errorCode: 0 }],
    });
    expect(d).toMatchObject({ clientSideThrottleTime: 6, topicErrors: [{ topic: 'gone', errorCode: 0 }] });
  });

  test.each(range(0, 2))('FindCoordinator v%i', async (v) => {
    const d = await kafkajsDecodes('findCoordinator', ApiKey.FindCoordinator, v, {
      throttleTimeMs: 1,
      errorCode: 0,
      errorMessage: null,
      nodeId: 1,
      host: 'broker-1',
      port: 9092,
    });
    expect(d).toMatchObject({ errorCode: 0, coordinator: { nodeId: 1, host: 'broker-1', port: 9092 } });
  });

  test.each(range(2, 5))('JoinGroup v%i', async (v) => {
    const d = await kafkajsDecodes('joinGroup', ApiKey.JoinGroup, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 3,
      protocolName: 'RoundRobinAssigner',
      leader: 'member-1',
      memberId: 'member-1',
      members: [{ memberId: 'member-1', groupInstanceId: null, metadata: bytes('meta') }],
    });
    expect(d).toMatchObject({ errorCode: 0, generationId: 3, groupProtocol: 'RoundRobinAssigner', leaderId: 'member-1', memberId: 'member-1' });
    expect(d.members).toHaveLength(1);
    expect(d.members[0].memberId).toBe('member-1');
    expect(d.members[0].memberMetadata.toString()).toBe('meta');
  });

  test.each(range(0, 3))('SyncGroup v%i', async (v) => {
    const d = await kafkajsDecodes('syncGroup', ApiKey.SyncGroup, v, { throttleTimeMs: 0, errorCode: 0, assignment: bytes('assigned') });
    expect(d.errorCode).toBe(0);
    expect(d.memberAssignment.toString()).toBe('assigned');
  });

  test.each(range(0, 3))('Heartbeat v%i', async (v) => {
    const d = await kafkajsDecodes('heartbeat', ApiKey.Heartbeat, v, { throttleTimeMs: 0, errorCode: 27 });
    expect(d.errorCode).toBe(27);
  });

  test.each(range(0, 3))('LeaveGroup v%i', async (v) => {
    const d = await kafkajsDecodes('leaveGroup', ApiKey.LeaveGroup, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: 'm1', groupInstanceId: null, errorCode: 0 }],
    });
    expect(d.errorCode).toBe(0);
    if (v >= 3) expect(d.members).toEqual([{ memberId: 'm1', groupInstanceId: null, errorCode: 0 }]);
  });

  test.each(range(2, 5))('OffsetCommit v%i', async (v) => {
    const d = await kafkajsDecodes('offsetCommit', ApiKey.OffsetCommit, v, {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 12 },
          ],
        },
      ],
    });
    expect(d.responses).toEqual([
      {
        topic: 'orders',
        partitions: [
          { partition: 0, errorCode: 0 },
          { partition: 1, errorCode: 12 },
        ],
      },
    ]);
  });

  test.each(range(1, 4))('OffsetFetch v%i', async (v) => {
    const d = await kafkajsDecodes('offsetFetch', ApiKey.OffsetFetch, v, {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 42, metadata: '', errorCode: 0 }] }],
      errorCode: 0,
    });
    expect(d.responses).toEqual([{ topic: 'orders', partitions: [{ partition: 0, offset: '42', metadata: '', errorCode: 0 }] }]);
    if (v >= 2) expect(d.errorCode).toBe(0);
  });

  test.each(range(0, 2))('DescribeGroups v%i', async (v) => {
    const d = await kafkajsDecodes('describeGroups', ApiKey.DescribeGroups, v, {
      throttleTimeMs: 0,
      groups: [
        {
          errorCode: 0,
          groupId: 'g',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'RoundRobinAssigner',
          members: [{ memberId: 'm1', clientId: 'c', clientHost: '/127.0.0.1', memberMetadata: bytes('md'), memberAssignment: bytes('as') }],
        },
      ],
    });
    const g = d.groups[0];
    expect(g).toMatchObject({ errorCode: 0, groupId: 'g', state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner' });
    expect(g.members[0]).toMatchObject({ memberId: 'm1', clientId: 'c', clientHost: '/127.0.0.1' });
    expect(g.members[0].memberAssignment.toString()).toBe('as');
  });

  test.each(range(0, 2))('ListGroups v%i', async (v) => {
    const d = await kafkajsDecodes('listGroups', ApiKey.ListGroups, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [{ groupId: 'g', protocolType: 'consumer' }],
    });
    expect(d).toMatchObject({ errorCode: 0, groups: [{ groupId: 'g', protocolType: 'consumer' }] });
  });

  test.each(range(0, 1))('DeleteGroups v%i', async (v) => {
    const d = await kafkajsDecodes('deleteGroups', ApiKey.DeleteGroups, v, { throttleTimeMs: 5, results: [{ groupId: 'g', errorCode: 0 }] });
    expect(d.results).toEqual([{ groupId: 'g', errorCode: 0 }]);
  });

  test.each(range(0, 1))('InitProducerId v%i', async (v) => {
    const d = await kafkajsDecodes('initProducerId', ApiKey.InitProducerId, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 9_000_000_001,
      producerEpoch: 2,
    });
    expect(d).toMatchObject({ errorCode: 0, producerId: '9000000001', producerEpoch: 2 });
  });

  test.each(range(0, 1))('SaslHandshake v%i', async (v) => {
    const d = await kafkajsDecodes('saslHandshake', ApiKey.SaslHandshake, v, { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
    expect(d).toEqual({ errorCode: 0, enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
  });

  test.each(range(0, 1))('SaslAuthenticate v%i', async (v) => {
    const d = await kafkajsDecodes('saslAuthenticate', ApiKey.SaslAuthenticate, v, {
      errorCode: 0,
      errorMessage: null,
      authBytes: bytes('ok'),
      sessionLifetimeMs: 3_600_000,
    });
    expect(d.errorCode).toBe(0);
    expect(d.authBytes.subarray(4).toString()).toBe('ok');
    if (v >= 1) expect(d.sessionLifetimeMs).toBe('3600000');
  });

  test.each(range(0, 1))('CreatePartitions v%i', async (v) => {
    const d = await kafkajsDecodes('createPartitions', ApiKey.CreatePartitions, v, {
      throttleTimeMs: 0,
      results: [{ name: 'orders', errorCode: 37, errorMessage: 'too few' }],
    });
    expect(d.topicErrors).toEqual([{ topic: 'orders', errorCode: 37, errorMessage: 'too few' }]);
  });

  test.each(range(0, 1))('DeleteRecords v%i', async (v) => {
    const { decode } = kafkajs(`requests/deleteRecords/v${v}/response`)({ topics: [] });
    const [frame] = encodeResponse(ApiKey.DeleteRecords, v, 42, {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, lowWatermark: 55, errorCode: 0 }] }],
    }) as Uint8Array[];
    const d = await decode(Buffer.from(frame.subarray(8)));
    expect(d.topics).toHaveLength(1);
    expect(d.topics[0].topic).toBe('orders');
    const [p] = d.topics[0].partitions;
    expect([p.partition, p.lowWatermark.toString(), p.errorCode]).toEqual([0, '55', 0]);
  });

  test.each(range(1, 2))('DescribeConfigs v%i', async (v) => {
    const d = await kafkajsDecodes('describeConfigs', ApiKey.DescribeConfigs, v, {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            {
              name: 'retention.ms',
              value: '604800000',
              readOnly: false,
              configSource: 5,
              isSensitive: false,
              synonyms: [{ name: 'log.retention.ms', value: '604800000', source: 5 }],
            },
          ],
        },
      ],
    });
    const r = d.resources[0];
    expect(r).toMatchObject({ errorCode: 0, resourceType: 2, resourceName: 'orders' });
    expect(r.configEntries[0]).toMatchObject({ configName: 'retention.ms', configValue: '604800000', readOnly: false, isSensitive: false });
    expect(r.configEntries[0].configSynonyms).toEqual([{ configName: 'log.retention.ms', configValue: '604800000', configSource: 5 }]);
  });

  test.each(range(0, 1))('AlterConfigs v%i', async (v) => {
    const d = await kafkajsDecodes('alterConfigs', ApiKey.AlterConfigs, v, {
      throttleTimeMs: 11,
      responses: [
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' },
        { errorCode: 40, errorMessage: 'bad value', resourceType: 4, resourceName: '1' },
      ],
    });
    expect(d.resources).toEqual([
      { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' },
      { errorCode: 40, errorMessage: 'bad value', resourceType: 4, resourceName: '1' },
    ]);
    expect(v === 0 ? d.throttleTime : d.clientSideThrottleTime).toBe(11);
  });
});

describe('requests kafkajs encodes, decoded by us', () => {
  test.each(range(0, 2))('ApiVersions v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/apiVersions/v${v}/request`)());
    expect(body).toMatchObject({ clientSoftwareName: '', clientSoftwareVersion: '' });
  });

  test.each(range(0, 6))('Metadata v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/metadata/v${v}/request`)({ topics: ['orders', 'payments'], allowAutoTopicCreation: false }));
    expect(body.topics.map((t: any) => t.name)).toEqual(['orders', 'payments']);
    expect(body.allowAutoTopicCreation).toBe(v < 4);
  });

  test.each(range(3, 7))('Produce v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/produce/v${v}/request`)({
        acks: -1,
        timeout: 30000,
        topicData: [
          {
            topic: 'orders',
            partitions: [
              {
                partition: 1,
                messages: [
                  { key: 'k', value: 'v1' },
                  { key: 'k', value: 'v2' },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(body).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 });
    const p = body.topicData[0].partitionData[0];
    expect(body.topicData[0].name).toBe('orders');
    expect(p.index).toBe(1);
    const batch: Uint8Array = p.records;
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    expect(view.getInt32(8)).toBe(batch.length - 12); // batchLength covers the rest
    expect(view.getInt8(16)).toBe(2); // magic
    expect(view.getInt32(57)).toBe(2); // record count
  });

  test.each(range(4, 11))('Fetch v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/fetch/v${v}/request`)({
        replicaId: -1,
        maxWaitTime: 500,
        minBytes: 1,
        maxBytes: 1048576,
        isolationLevel: 1,
        topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '4000000000', maxBytes: 65536 }] }],
        rackId: 'rack-a',
      }),
    );
    expect(body).toMatchObject({ replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 1048576, isolationLevel: 1 });
    expect(body.topics[0].topic).toBe('orders');
    expect(body.topics[0].partitions[0]).toMatchObject({ partition: 0, fetchOffset: 4_000_000_000, partitionMaxBytes: 65536 });
    if (v >= 11) expect(body.rackId).toBe('rack-a');
  });

  test.each(range(1, 3))('ListOffsets v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/listOffsets/v${v}/request`)({
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -2 }] }],
      }),
    );
    expect(body).toMatchObject({ replicaId: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -2 }] }] });
    if (v >= 2) expect(body.isolationLevel).toBe(1);
  });

  test.each(range(2, 3))('CreateTopics v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/createTopics/v${v}/request`)({
        topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        validateOnly: true,
        timeout: 1234,
      }),
    );
    expect(body).toMatchObject({
      topics: [{ name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
      timeoutMs: 1234,
      validateOnly: true,
    });
  });

  test('DeleteTopics v1', async () => {
    const { body } = await weDecode(kafkajs('requests/deleteTopics/v1/request')({ topics: ['a', 'b'], timeout: 999 }));
    expect(body).toMatchObject({ topicNames: ['a', 'b'], timeoutMs: 999 });
  });

  test.each(range(0, 2))('FindCoordinator v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/findCoordinator/v${v}/request`)({ groupId: 'g', coordinatorKey: 'g', coordinatorType: 1 }));
    expect(body.key).toBe('g');
    if (v >= 1) expect(body.keyType).toBe(1);
  });

  test.each(range(2, 5))('JoinGroup v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/joinGroup/v${v}/request`)({
        groupId: 'g',
        sessionTimeout: 30000,
        rebalanceTimeout: 60000,
        memberId: '',
        protocolType: 'consumer',
        groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from('md') }],
      }),
    );
    expect(body).toMatchObject({ groupId: 'g', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: '', protocolType: 'consumer' });
    expect(body.protocols[0].name).toBe('RoundRobinAssigner');
    expect(Buffer.from(body.protocols[0].metadata).toString()).toBe('md');
    if (v >= 5) expect(body.groupInstanceId).toBeNull();
  });

  test.each(range(0, 3))('SyncGroup v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/syncGroup/v${v}/request`)({
        groupId: 'g',
        generationId: 3,
        memberId: 'm',
        groupAssignment: [{ memberId: 'm', memberAssignment: Buffer.from('as') }],
      }),
    );
    expect(body).toMatchObject({ groupId: 'g', generationId: 3, memberId: 'm' });
    expect(Buffer.from(body.assignments[0].assignment).toString()).toBe('as');
  });

  test.each(range(0, 3))('Heartbeat v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/heartbeat/v${v}/request`)({ groupId: 'g', groupGenerationId: 3, memberId: 'm' }));
    expect(body).toMatchObject({ groupId: 'g', generationId: 3, memberId: 'm' });
  });

  test.each(range(0, 3))('LeaveGroup v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/leaveGroup/v${v}/request`)({ groupId: 'g', memberId: 'm', members: [{ memberId: 'm' }] }));
    expect(body.groupId).toBe('g');
    if (v >= 3) expect(body.members).toEqual([{ memberId: 'm', groupInstanceId: null, reason: null }]);
    else expect(body.memberId).toBe('m');
  });

  test.each(range(2, 5))('OffsetCommit v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/offsetCommit/v${v}/request`)({
        groupId: 'g',
        groupGenerationId: 3,
        memberId: 'm',
        retentionTime: -1,
        topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '4000000000' }] }],
      }),
    );
    expect(body).toMatchObject({ groupId: 'g', generationIdOrMemberEpoch: 3, memberId: 'm' });
    expect(body.topics[0]).toMatchObject({ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 4_000_000_000, committedMetadata: null }] });
  });

  test.each(range(1, 4))('OffsetFetch v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/offsetFetch/v${v}/request`)({ groupId: 'g', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 1 }] }] }),
    );
    expect(body).toMatchObject({ groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1] }] });
  });

  test.each(range(0, 2))('DescribeGroups v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/describeGroups/v${v}/request`)({ groupIds: ['g1', 'g2'] }));
    expect(body.groups).toEqual(['g1', 'g2']);
  });

  test.each(range(0, 2))('ListGroups v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/listGroups/v${v}/request`)());
    expect(body).toEqual({ statesFilter: [], typesFilter: [] });
  });

  test.each(range(0, 1))('DeleteGroups v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/deleteGroups/v${v}/request`)(['g1', 'g2']));
    expect(body.groupsNames).toEqual(['g1', 'g2']);
  });

  test.each(range(0, 1))('InitProducerId v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/initProducerId/v${v}/request`)({ transactionalId: 'tx', transactionTimeout: 60000 }));
    expect(body).toMatchObject({ transactionalId: 'tx', transactionTimeoutMs: 60000 });
  });

  test.each(range(0, 1))('SaslHandshake v%i', async (v) => {
    const { body } = await weDecode(kafkajs(`requests/saslHandshake/v${v}/request`)({ mechanism: 'PLAIN' }));
    expect(body).toEqual({ mechanism: 'PLAIN' });
  });

  test.each(range(0, 1))('SaslAuthenticate v%i', async (v) => {
    // kafkajs hands this encoder bytes that already carry their int32 length.
    const authBytes = new Encoder().writeBytes(Buffer.from('\0user\0pass')).buffer;
    const { body } = await weDecode(kafkajs(`requests/saslAuthenticate/v${v}/request`)({ authBytes }));
    expect(Buffer.from(body.authBytes).toString()).toBe('\0user\0pass');
  });

  test.each(range(0, 1))('CreatePartitions v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/createPartitions/v${v}/request`)({ topicPartitions: [{ topic: 'orders', count: 6 }], validateOnly: false, timeout: 5000 }),
    );
    // kafkajs writes an empty nullable array as null.
    expect(body).toMatchObject({ topics: [{ name: 'orders', count: 6, assignments: null }], timeoutMs: 5000, validateOnly: false });
  });

  test.each(range(0, 1))('DeleteRecords v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/deleteRecords/v${v}/request`)({ topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: 10 }] }], timeout: 5000 }),
    );
    expect(body).toMatchObject({ topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 10 }] }], timeoutMs: 5000 });
  });

  test.each(range(1, 2))('DescribeConfigs v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/describeConfigs/v${v}/request`)({
        resources: [{ type: 2, name: 'orders', configNames: ['retention.ms'] }],
        includeSynonyms: true,
      }),
    );
    expect(body).toMatchObject({ resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms'] }], includeSynonyms: true });
  });

  test.each(range(0, 1))('AlterConfigs v%i', async (v) => {
    const { body } = await weDecode(
      kafkajs(`requests/alterConfigs/v${v}/request`)({
        resources: [
          {
            type: 2,
            name: 'orders',
            configEntries: [
              { name: 'retention.ms', value: '60000' },
              { name: 'cleanup.policy', value: 'compact' },
            ],
          },
          { type: 4, name: '1', configEntries: [] },
        ],
        validateOnly: true,
      }),
    );
    expect(body).toEqual({
      resources: [
        {
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            { name: 'retention.ms', value: '60000' },
            { name: 'cleanup.policy', value: 'compact' },
          ],
        },
        { resourceType: 4, resourceName: '1', configs: [] },
      ],
      validateOnly: true,
    });
  });
});
