// sluice/testing: a real broker for a test file. Starts an embedded Broker in this process on a
// free port (port 0) with its data in a fresh temp dir, creates the topics the tests name, and
// stops it and removes the dir afterwards. Framework-neutral: call it from vitest's or jest's
// beforeAll/afterAll (README.md has a copyable example).
//
// Defaults differ from `sluice start` where a test wants them to: no metrics port (several
// brokers may run at once), logs silenced, one partition per auto-created topic, and the group
// coordinator's initial rebalance delay off so the first consumer of a test joins at once.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '@sluice/broker';
import { createTopics, KafkaClient } from '@sluice/client';

export interface TestTopic {
  readonly name: string;
  /** Default 1. */
  readonly partitions?: number;
  /** Topic-level configs, Kafka's names (`cleanup.policy`, `retention.ms`, …). */
  readonly config?: Readonly<Record<string, string>>;
}

export interface EmbeddedBrokerOptions {
  /** Topics to create before the promise resolves: names, or names with partitions and configs. */
  readonly topics?: ReadonlyArray<string | TestTopic>;
  /** Broker configuration, Kafka's and Sluice's keys (`sluice start --override`); wins over the defaults here. */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
  /** Where the temp log dir is made (default: the OS temp dir). */
  readonly tmpDir?: string;
}

export interface EmbeddedBroker {
  /** host:port, for `bootstrap.servers` / kafkajs `brokers: [bootstrap]`. */
  readonly bootstrap: string;
  /** The log dir this broker owns; removed by stop(). */
  readonly logDir: string;
  /** The running Broker, for what the helper does not wrap. */
  readonly broker: Broker;
  /** Creates topics (CreateTopics through the Kafka protocol, as any admin client would). */
  createTopics(topics: ReadonlyArray<string | TestTopic>): Promise<void>;
  /** Stops the broker (cleanly: flush, clean-shutdown marker) and removes its log dir. */
  stop(): Promise<void>;
}

/** The defaults a test broker starts with (each can be overridden through `config`). */
export const TEST_BROKER_DEFAULTS: Readonly<Record<string, string>> = {
  listeners: 'PLAINTEXT://127.0.0.1:0',
  'sluice.metrics.listener': '',
  'sluice.log.level': 'silent',
  'num.partitions': '1',
  'group.initial.rebalance.delay.ms': '0',
};

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const logDir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'sluice-test-'));
  const settings: Record<string, string> = { ...TEST_BROKER_DEFAULTS, 'log.dirs': logDir };
  for (const [key, value] of Object.entries(options.config ?? {})) settings[key] = String(value);
  const broker = new Broker(settings);
  try {
    await broker.start();
  } catch (err) {
    rmSync(logDir, { recursive: true, force: true });
    throw err;
  }
  const embedded: EmbeddedBroker = {
    bootstrap: broker.bootstrap,
    logDir,
    broker,
    createTopics: (topics) => createTestTopics(broker.bootstrap, topics),
    async stop() {
      try {
        await broker.stop();
      } finally {
        rmSync(logDir, { recursive: true, force: true });
      }
    },
  };
  if (options.topics !== undefined && options.topics.length > 0) {
    try {
      await embedded.createTopics(options.topics);
    } catch (err) {
      await embedded.stop();
      throw err;
    }
  }
  return embedded;
}

async function createTestTopics(bootstrap: string, topics: ReadonlyArray<string | TestTopic>): Promise<void> {
  const client = await KafkaClient.connect({ bootstrap, clientId: 'sluice-testing' });
  try {
    const results = await createTopics(
      client,
      topics
        .map((t) => (typeof t === 'string' ? { name: t } : t))
        .map((t) => ({
          name: t.name,
          partitions: t.partitions ?? 1,
          replicationFactor: 1,
          configs: new Map(Object.entries(t.config ?? {})),
        })),
      { timeoutMs: 10_000 },
    );
    const failed = results.filter((r) => r.errorCode !== 0);
    if (failed.length > 0) {
      throw new Error(
        `creating test topics failed: ${failed.map((r) => `${r.name}: error ${r.errorCode}${r.errorMessage ? ` (${r.errorMessage})` : ''}`).join(', ')}`,
      );
    }
  } finally {
    client.close();
  }
}
