import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { BrokerContext } from '../broker-context.ts';
import { callHandler } from '../testing/call-handler.ts';
import { harness as transactionHarness } from '../testing/transaction-harness.ts';
import { createLogger } from '../logger.ts';
import { ProducerIdManager } from '../producer-ids.ts';
import { initProducerIdHandler } from './init-producer-id.ts';

let dir: string;
let broker: BrokerContext;

function brokerWith(producerIds: ProducerIdManager): BrokerContext {
  return { producerIds, logger: createLogger('silent', { pretty: false }), authorizer: null } as unknown as BrokerContext;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-init-pid-'));
  broker = brokerWith(new ProducerIdManager(dir));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('InitProducerId', () => {
  test.each([0, 1, 2, 3, 4, 5])('v%i: an idempotent producer gets a new id with epoch 0', async (version) => {
    const first = await callHandler(initProducerIdHandler, broker, version, { transactionalId: null, transactionTimeoutMs: 60_000 });
    const second = await callHandler(initProducerIdHandler, broker, version, { transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    expect(second).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    expect(second.producerId).not.toBe(first.producerId);
  });

  test('v3+: a producer resuming with its id and epoch (KIP-360) gets a fresh id, as Kafka gives it', async () => {
    const first = await callHandler(initProducerIdHandler, broker, 4, { transactionalId: null, transactionTimeoutMs: 60_000 });
    const bumped = await callHandler(initProducerIdHandler, broker, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: first.producerId,
      producerEpoch: 0,
    });
    expect(bumped.errorCode).toBe(ErrorCode.NONE);
    expect(bumped.producerId).not.toBe(first.producerId);
    expect(bumped.producerEpoch).toBe(0);
  });

  test('v3+: only one of producerId / producerEpoch set is INVALID_REQUEST', async () => {
    for (const pair of [
      { producerId: 5, producerEpoch: -1 },
      { producerId: -1, producerEpoch: 2 },
    ]) {
      const response = await callHandler(initProducerIdHandler, broker, 3, { transactionalId: null, transactionTimeoutMs: 1, ...pair });
      expect(response).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 });
    }
  });

  test('transactional ids go to the transaction coordinator (an empty one is INVALID_REQUEST)', async () => {
    const txns = await transactionHarness();
    const withTxns = { ...brokerWith(new ProducerIdManager(dir)), transactions: txns.coordinator } as unknown as BrokerContext;
    const tx = await callHandler(initProducerIdHandler, withTxns, 2, { transactionalId: 'tx-1', transactionTimeoutMs: 60_000 });
    expect(tx).toMatchObject({ errorCode: ErrorCode.NONE, producerId: txns.issuedIds[0], producerEpoch: 0 });
    const again = await callHandler(initProducerIdHandler, withTxns, 2, { transactionalId: 'tx-1', transactionTimeoutMs: 60_000 });
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, producerId: tx.producerId, producerEpoch: 1 });
    // KIP-360 with another producer's id: fenced; v3 does not know PRODUCER_FENCED.
    const stale = await callHandler(initProducerIdHandler, withTxns, 3, {
      transactionalId: 'tx-1',
      transactionTimeoutMs: 60_000,
      producerId: 424242,
      producerEpoch: 0,
    });
    expect(stale.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const staleV4 = await callHandler(initProducerIdHandler, withTxns, 4, {
      transactionalId: 'tx-1',
      transactionTimeoutMs: 60_000,
      producerId: 424242,
      producerEpoch: 0,
    });
    expect(staleV4.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    const empty = await callHandler(initProducerIdHandler, withTxns, 0, { transactionalId: '', transactionTimeoutMs: 60_000 });
    expect(empty.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('ids survive a restart: a new manager on the same dir never repeats one', async () => {
    const before = await callHandler(initProducerIdHandler, broker, 1, { transactionalId: null, transactionTimeoutMs: 1 });
    const restarted = brokerWith(new ProducerIdManager(dir));
    const after = await callHandler(initProducerIdHandler, restarted, 1, { transactionalId: null, transactionTimeoutMs: 1 });
    expect(after.producerId).toBeGreaterThan(before.producerId);
  });

  test('a block that cannot be reserved is the retriable COORDINATOR_LOAD_IN_PROGRESS', async () => {
    // The reservation file cannot be written into a directory that does not exist.
    const ids = new ProducerIdManager(join(dir, 'missing-dir'));
    const response = await callHandler(initProducerIdHandler, brokerWith(ids), 2, { transactionalId: null, transactionTimeoutMs: 1 });
    expect(response).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, producerId: -1, producerEpoch: -1 });
  });
});
