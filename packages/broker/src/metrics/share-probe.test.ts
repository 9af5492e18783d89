import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { DEFAULT_SHARE_GROUP_CONFIG } from '../share/config.ts';
import { ShareCoordinator } from '../share/share-coordinator.ts';
import { MemoryShareStateLog } from '../share/share-state-log.ts';
import { silentLogger } from '../logger.ts';
import { startTestBroker } from '../testing/test-broker.ts';
import { buildRecordBatch } from '@sluice/protocol';
import { ShareProbe } from './share-probe.ts';

describe('ShareProbe', () => {
  test('per share group: members, records in flight and held, event totals', async () => {
    const t = startTestBroker();
    try {
      const topic = t.broker.topicCreator.create('q', 1, 1, [], false).topic!;
      const share = new ShareCoordinator({
        config: { ...DEFAULT_SHARE_GROUP_CONFIG, autoOffsetReset: 'earliest' },
        stateLog: new MemoryShareStateLog(),
        topicRegistry: t.topics,
        topics: { byName: () => ({ id: topic.id, name: 'q', partitionCount: 1 }), all: () => [] },
        logger: silentLogger,
      });
      topic.partitions[0].append(buildRecordBatch({ records: [0, 1, 2, 3].map((i) => ({ key: null, value: `v${i}`, timestamp: 1 })) }), Date.now());
      share.heartbeat({ groupId: 'sg', memberId: 'm', memberEpoch: 0, rackId: null, subscribedTopicNames: ['q'], clientId: 'c', clientHost: '/h' });
      const ref = { topicId: topic.id, partition: 0 };
      share.session({ groupId: 'sg', memberId: 'm', epoch: 0, partitions: [{ ...ref, batches: [] }], forgotten: [], isFetch: true, connectionId: 1 });
      expect(share.acquire('sg', 'm', [ref], 10, 1 << 20)[0].acquired).toEqual([{ firstOffset: 0, lastOffset: 3, deliveryCount: 1 }]);
      const outcome = share.session({
        groupId: 'sg',
        memberId: 'm',
        epoch: 1,
        partitions: [{ ...ref, batches: [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [1, 3] }] }],
        forgotten: [],
        isFetch: false,
        connectionId: 1,
      });
      if (!('acks' in outcome)) throw new Error('session refused');
      await outcome.acks;

      const registry = new Registry();
      const probe = new ShareProbe(registry);
      probe.refresh(share);
      const text = await registry.metrics();
      expect(text).toContain('sluice_share_group_members{group="sg"} 1');
      expect(text).toContain('sluice_share_group_records_in_flight{group="sg"} 2');
      expect(text).toContain('sluice_share_group_records_acquired{group="sg"} 2');
      expect(text).toContain('sluice_share_group_record_events_total{group="sg",event="acquired"} 4');
      expect(text).toContain('sluice_share_group_record_events_total{group="sg",event="archived"} 1');
      expect(text).toContain('sluice_share_group_record_events_total{group="sg",event="lock_expired"} 0');
      share.close();
    } finally {
      t.close();
    }
  });
});
