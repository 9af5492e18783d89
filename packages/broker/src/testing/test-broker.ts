// For handler tests: a real BrokerContext over a real topic registry in a temp dir. Test support
// only (src/testing/): production code never imports it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerContext } from '../broker-context.ts';
import { BrokerConfig } from '../config.ts';
import { silentLogger } from '../logger.ts';
import { TopicRegistry } from '../topics.ts';
import { systemClock } from '../clock.ts';
import { OFFSETS_TOPIC } from '../groups/partitioning.ts';
import { TransactionCoordinator } from '../transactions/coordinator.ts';
import { MemoryTransactionLog } from '../transactions/memory-transaction-log.ts';
import { PartitionMarkerWriter } from '../transactions/partition-marker-writer.ts';
import { DEFAULT_SHARE_GROUP_CONFIG } from '../share/config.ts';
import { ShareCoordinator } from '../share/share-coordinator.ts';
import { MemoryShareStateLog } from '../share/share-state-log.ts';

export const TEST_CLUSTER_ID = 'test-cluster';

export interface TestBroker {
  readonly dir: string;
  readonly config: BrokerConfig;
  topics: TopicRegistry;
  readonly broker: BrokerContext;
  /** Closes the registry and opens it again from disk, as a restart does. */
  reload(): TopicRegistry;
  /** Closes the registry and removes the directory. */
  close(): void;
}

export function startTestBroker(settings: Array<[string, string]> = []): TestBroker {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-handler-test-'));
  const config = new BrokerConfig([['log.dirs', dir], ...settings]);
  const topics = new TopicRegistry(config, silentLogger);
  topics.load();
  const broker = new BrokerContext(config, TEST_CLUSTER_ID, topics, silentLogger);
  // A transaction coordinator over an in-memory state log; markers go to the real partitions.
  const markers = new PartitionMarkerWriter({ config, topics, logger: silentLogger, offsetSink: () => null });
  const transactions = new TransactionCoordinator({
    log: new MemoryTransactionLog(4),
    markers,
    clock: systemClock,
    producerIds: broker.producerIds,
    offsetsPartitionFor: () => ({ topic: OFFSETS_TOPIC, partition: 0 }),
    logger: silentLogger,
  });
  broker.useTransactionCoordinator(transactions, markers);
  void transactions.load();
  // A share coordinator over the broker's topics, its state in memory.
  const image = (x: { id: string; name: string; partitions: readonly unknown[] }) => ({ id: x.id, name: x.name, partitionCount: x.partitions.length });
  const share = new ShareCoordinator({
    config: DEFAULT_SHARE_GROUP_CONFIG,
    stateLog: new MemoryShareStateLog(),
    topicRegistry: topics,
    topics: {
      byName: (name) => {
        const x = topics.get(name);
        return x === undefined ? undefined : image(x);
      },
      all: () => [...topics.topics].map(image),
    },
    logger: silentLogger,
  });
  broker.useShareCoordinator(share);
  const t: TestBroker = {
    dir,
    config,
    topics,
    broker,
    reload() {
      t.topics.close();
      t.topics = new TopicRegistry(config, silentLogger);
      t.topics.load();
      return t.topics;
    },
    close() {
      transactions.close();
      share.close();
      t.topics.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
