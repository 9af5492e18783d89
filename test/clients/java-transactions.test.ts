// Transactions with the Java client (kafka-clients 4.x, the classic protocol: the broker
// finalizes transaction.version 1): a transactional producer commits one transaction and aborts
// another, runs a consume-transform-produce transaction with sendOffsetsToTransaction, and is
// fenced by a second instance with the same transactional id; a read_committed KafkaConsumer
// then sees exactly the committed records (never an aborted one, never the zombie's), and the
// group's offsets are the ones committed inside the transaction — with a classic consumer group and
// with a KIP-848 one (the transactional commit is checked against the member epoch).

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { type ClientCommand, consumedRecords, ensureJavaClient, runClientOk } from './support.ts';

let java: ClientCommand;
let broker: BrokerProcess;

beforeAll(async () => {
  java = ensureJavaClient();
  broker = await startBroker({ overrides: { 'num.partitions': 1, 'transaction.state.log.num.partitions': 4, 'offsets.topic.num.partitions': 4 } });
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('Java kafka-clients transactions', () => {
  test.each(['classic', 'consumer'])(
    'commit, abort, sendOffsetsToTransaction (group.protocol=%s), fencing; read_committed sees only committed records',
    async (protocol) => {
      const name = (base: string) => `${base}-${protocol}`;
      await runClientOk(java, ['produce', broker.bootstrap, name('jtx-in'), '5', 'none']);
      const run = await runClientOk(
        java,
        ['transactional', broker.bootstrap, name('jtx-in'), name('jtx-out'), name('jtx-group'), name('jtx'), protocol],
        150_000,
      );
      const events = new Map(run.events.map((e) => [e.event, e]));
      expect(events.has('committedTransaction') && events.has('abortedTransaction')).toBe(true);
      expect(events.get('consumeTransformProduce')?.records).toBe(5);
      expect(events.get('fenced')?.error).toBe('ProducerFencedException');
      expect(events.has('zombieCommitted')).toBe(false);
      // The offsets committed inside the transaction: past the 5 records read.
      expect(events.get('groupOffsets')?.offsets).toEqual({ [`${name('jtx-in')}-0`]: 5 });

      const committed = [
        ...Array.from({ length: 5 }, (_, i) => `committed-${i}`),
        ...Array.from({ length: 5 }, (_, i) => `VALUE-NONE-${i}`),
        'second-instance',
      ];
      const read = await runClientOk(java, [
        'consume',
        broker.bootstrap,
        name('jtx-out'),
        name('jtx-reader'),
        String(committed.length),
        '60000',
        'read_committed',
      ]);
      expect(consumedRecords(read).map((r) => r.value)).toEqual(committed);
    },
    240_000,
  );
});
