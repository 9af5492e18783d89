// A live broker under produce/consume load, scraped by a real Prometheus that also evaluates
// packages/broker/observability/prometheus-rules.yml. Shared by test/prometheus.test.ts and the
// dashboard screenshot command (test/observability/render-dashboard.ts).
//
// The load makes every panel of the dashboard have something to show:
// - two topics with producers (kafkajs), small segments so they roll, and a small retention.bytes
//   on `orders` so retention moves its log start offsets;
// - group `billing` keeps up with `orders`; group `analytics` reads `clicks` slower than it is
//   written, so its lag grows;
// - a raw client produces to a partition that does not exist every second
//   (UNKNOWN_TOPIC_OR_PARTITION in sluice_errors_total);
// - `log.flush.interval.messages` makes the broker fsync, so the flush histogram fills.
// Every loop is bounded: it stops when `stop()` is called or after `maxLoadMs`.

import { buildRecordBatch } from '@sluice/protocol';
import { type Consumer, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { type BrokerProcess, removeDir, startBroker } from './broker-process.ts';
import { type PrometheusServer, RULES_FILE, startPrometheus } from './prometheus.ts';
import { RawClient } from './raw-client.ts';

/** Partitions per topic. */
export const TOPICS = { orders: 3, clicks: 2 } as const;
/**
 * `retention.bytes` per partition: small for `orders` (read by the group that keeps up), so
 * retention deletes segments within seconds; large for `clicks`, so the slow group's lag grows
 * instead of its position falling off the log (OFFSET_OUT_OF_RANGE, a reset, a sawtooth).
 */
const RETENTION_BYTES: Record<keyof typeof TOPICS, number> = { orders: 512 * 1024, clicks: 256 * 1024 * 1024 };
export const GROUPS = { keepsUp: 'billing', fallsBehind: 'analytics' } as const;

export interface ObservedBroker {
  readonly broker: BrokerProcess;
  readonly prometheus: PrometheusServer;
  /** Records the producers have had acknowledged so far. */
  produced(): number;
  /** Stops the load, the clients, Prometheus and the broker; removes their data. */
  stop(): Promise<void>;
}

export interface ObservedBrokerOptions {
  /** Upper bound of the load's life, whatever the caller does (default 5 minutes). */
  readonly maxLoadMs?: number;
  /** Broker overrides on top of the defaults below (e.g. `sluice.transfer.mode`). */
  readonly overrides?: Record<string, string | number | boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startObservedBroker(options: ObservedBrokerOptions = {}): Promise<ObservedBroker> {
  const broker = await startBroker({
    overrides: {
      'log.flush.interval.messages': 2000,
      'log.retention.check.interval.ms': 1000,
      ...options.overrides,
    },
  });
  if (broker.metricsUrl === null) throw new Error('the broker serves no metrics endpoint');
  let prometheus: PrometheusServer | undefined;
  const producers: Producer[] = [];
  const consumers: Consumer[] = [];
  let raw: RawClient | undefined;
  let stopped = false;
  let produced = 0;
  const loops: Promise<void>[] = [];
  const deadline = Date.now() + (options.maxLoadMs ?? 300_000);
  const running = () => !stopped && Date.now() < deadline;

  const stop = async () => {
    stopped = true;
    await Promise.allSettled(loops);
    await Promise.allSettled([...consumers, ...producers].map((c) => c.disconnect()));
    raw?.close();
    await prometheus?.stop();
    await broker.stop();
    removeDir(broker.dataDir);
  };

  try {
    prometheus = await startPrometheus({ targets: [{ url: broker.metricsUrl }], ruleFiles: [RULES_FILE], intervalSeconds: 1 });
    const kafka = new Kafka({
      clientId: 'observability-load',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.entries(TOPICS).map(([topic, numPartitions]) => ({
        topic,
        numPartitions,
        configEntries: [
          { name: 'segment.bytes', value: String(128 * 1024) },
          { name: 'retention.bytes', value: String(RETENTION_BYTES[topic as keyof typeof TOPICS]) },
        ],
      })),
    });
    await admin.disconnect();

    // Producers: `orders` ~800 records/s, `clicks` ~400 records/s, ~200-byte values.
    for (const [topic, perBatch] of [
      ['orders', 20],
      ['clicks', 10],
    ] as const) {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      producers.push(producer);
      loops.push(
        (async () => {
          let n = 0;
          while (running()) {
            const messages = Array.from({ length: perBatch }, () => ({ key: `k${n % 97}`, value: `${topic}-${n++}-${'v'.repeat(180)}` }));
            await producer.send({ topic, messages }).then(
              () => void (produced += messages.length),
              () => undefined, // a send failing while stopping is not the test's subject
            );
            await sleep(25);
          }
        })(),
      );
    }

    // `billing` keeps up with `orders`.
    const billing = kafka.consumer({ groupId: GROUPS.keepsUp, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    await billing.connect();
    await billing.subscribe({ topics: ['orders'], fromBeginning: true });
    await billing.run({ autoCommitInterval: 500, eachMessage: async () => undefined });
    consumers.push(billing);
    // `analytics` reads `clicks` in small fetches with a pause per batch: slower than it is written.
    const analytics = kafka.consumer({
      groupId: GROUPS.fallsBehind,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 8 * 1024,
    });
    await analytics.connect();
    await analytics.subscribe({ topics: ['clicks'], fromBeginning: true });
    await analytics.run({
      autoCommitInterval: 500,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) resolveOffset(m.offset);
        await heartbeat();
        await sleep(300);
      },
    });
    consumers.push(analytics);

    // A client that writes to a partition that does not exist, once a second.
    raw = await RawClient.connect(broker.port);
    const client = raw;
    loops.push(
      (async () => {
        while (running()) {
          await client
            .request(0, 9, {
              transactionalId: null,
              acks: 1,
              timeoutMs: 5_000,
              topicData: [{ name: 'orders', partitionData: [{ index: 99, records: buildRecordBatch({ records: [{ key: null, value: 'nowhere' }] }) }] }],
            })
            .catch(() => undefined);
          await sleep(1000);
        }
      })(),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { broker, prometheus, produced: () => produced, stop };
}
