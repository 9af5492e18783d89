// RemoteTxnVerifier against a real single-node broker's AddPartitionsToTxn v5 VerifyOnly (the
// coordinator side a partition leader asks in cluster mode): per-partition answers, verifications
// of the same turn batched (the same id's partitions merged, other ids alongside), Kafka's rule for
// a queued id with another epoch, and NETWORK_EXCEPTION for a coordinator that cannot be reached.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@sluice/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Broker } from '../broker.ts';
import { silentLogger } from '../logger.ts';
import { InterBrokerConnections } from './inter-broker-connections.ts';
import { RemoteTxnVerifier } from './remote-verification.ts';

let dir: string;
let broker: Broker;
let coordinator: { nodeId: number; host: string; port: number };
const ids = new Map<string, { producerId: number; producerEpoch: number }>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-verify-'));
  broker = await new Broker({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'sluice.metrics.listener': '' }, silentLogger).start();
  coordinator = { nodeId: 1, host: '127.0.0.1', port: broker.listeners[0]!.boundPort };
  const ctx = broker.broker;
  expect(ctx.topicCreator.create('t', 2, 1, [], false).errorCode).toBe(0);
  for (const transactionalId of ['tx-a', 'tx-b']) {
    let p = await ctx.transactions.initProducerId({ transactionalId, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    for (let i = 0; p.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      p = await ctx.transactions.initProducerId({ transactionalId, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    }
    expect(p.errorCode).toBe(ErrorCode.NONE);
    ids.set(transactionalId, { producerId: p.producerId, producerEpoch: p.producerEpoch });
  }
  const a = ids.get('tx-a')!;
  expect(await ctx.transactions.addPartitions({ transactionalId: 'tx-a', ...a, partitions: [{ topic: 't', partition: 0 }] })).toBe(ErrorCode.NONE);
}, 30_000);

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The pool, counting the requests sent over its connections. */
class CountingConnections extends InterBrokerConnections {
  requests = 0;
  private readonly counted = new WeakSet<object>();

  override connect(broker: { nodeId: number; host: string; port: number }) {
    return super.connect(broker).then((connection) => {
      if (!this.counted.has(connection)) {
        this.counted.add(connection);
        const request = connection.request.bind(connection);
        connection.request = ((...args: Parameters<typeof request>) => {
          this.requests++;
          return request(...args);
        }) as typeof request;
      }
      return connection;
    });
  }
}

const pool = () => new CountingConnections({ nodeId: 9, purpose: 'txn-verify-test', requestTimeoutMs: 2000 });
const codes = (results: Array<{ errorCode: number }>) => results.map((r) => r.errorCode);

describe('RemoteTxnVerifier (AddPartitionsToTxn v5 VerifyOnly)', () => {
  test('answers per partition; the same turn’s verifications share a request', async () => {
    const connections = pool();
    const verifier = new RemoteTxnVerifier(connections, silentLogger);
    const a = ids.get('tx-a')!;
    const b = ids.get('tx-b')!;
    const [inTxn, notInTxn, other, fenced] = await Promise.all([
      verifier.verify(coordinator, { transactionalId: 'tx-a', ...a, partitions: [{ topic: 't', partition: 0 }] }),
      verifier.verify(coordinator, { transactionalId: 'tx-a', ...a, partitions: [{ topic: 't', partition: 1 }] }),
      verifier.verify(coordinator, { transactionalId: 'tx-b', ...b, partitions: [{ topic: 't', partition: 0 }] }),
      // A lower epoch than the one queued for the id: fenced at once, as Kafka's manager does.
      verifier.verify(coordinator, { transactionalId: 'tx-a', ...a, producerEpoch: a.producerEpoch - 1, partitions: [{ topic: 't', partition: 0 }] }),
    ]);
    expect(codes(inTxn)).toEqual([ErrorCode.NONE]);
    expect(codes(notInTxn)).toEqual([ErrorCode.TRANSACTION_ABORTABLE]);
    expect(codes(other)).toEqual([ErrorCode.TRANSACTION_ABORTABLE]);
    expect(codes(fenced)).toEqual([ErrorCode.INVALID_PRODUCER_EPOCH]);
    expect(connections.requests).toBe(1);
    // The coordinator's own refusals pass through: a newer epoch than the id has.
    const newer = await verifier.verify(coordinator, {
      transactionalId: 'tx-a',
      ...a,
      producerEpoch: a.producerEpoch + 1,
      partitions: [{ topic: 't', partition: 0 }],
    });
    expect(codes(newer)).toEqual([ErrorCode.PRODUCER_FENCED]);
    connections.close();
    expect(codes(await verifier.verify(coordinator, { transactionalId: 'tx-a', ...a, partitions: [{ topic: 't', partition: 0 }] }))).toEqual([
      ErrorCode.NETWORK_EXCEPTION,
    ]);
  });

  test('a coordinator that cannot be reached: NETWORK_EXCEPTION for each partition', async () => {
    // A port nobody listens on: bound, then closed.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const verifier = new RemoteTxnVerifier(pool(), silentLogger);
    const answer = await verifier.verify(
      { nodeId: 3, host: '127.0.0.1', port },
      {
        transactionalId: 'tx-a',
        ...ids.get('tx-a')!,
        partitions: [
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
        ],
      },
    );
    expect(codes(answer)).toEqual([ErrorCode.NETWORK_EXCEPTION, ErrorCode.NETWORK_EXCEPTION]);
  });
});
