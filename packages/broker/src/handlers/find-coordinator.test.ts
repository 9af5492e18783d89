import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { fakeBroker, harness } from '../testing/group-harness.ts';
import { findCoordinatorHandler } from './find-coordinator.ts';

describe('FindCoordinator', () => {
  const h = harness();
  const broker = fakeBroker(() => h.coordinator);

  test.each([0, 1, 2, 3])('v%i: this node coordinates a group', async (version) => {
    const response = await callHandler(findCoordinatorHandler, broker, version, { key: 'my-group', keyType: 0 });
    expect(response).toMatchObject({ errorCode: 0, nodeId: 1, host: '127.0.0.1', port: 9092 });
  });

  test('v1-3: this node coordinates a transactional id (an empty one is INVALID_REQUEST); an unknown key type is INVALID_REQUEST', async () => {
    expect(await callHandler(findCoordinatorHandler, broker, 2, { key: 'tx', keyType: 1 })).toMatchObject({
      errorCode: 0,
      nodeId: 1,
      host: '127.0.0.1',
      port: 9092,
    });
    expect(await callHandler(findCoordinatorHandler, broker, 2, { key: '', keyType: 1 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, nodeId: -1 });
    expect((await callHandler(findCoordinatorHandler, broker, 3, { key: 'x', keyType: 7 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test.each([4, 5])('v%i: batched keys, one coordinator each', async (version) => {
    const groups = await callHandler(findCoordinatorHandler, broker, version, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(groups.coordinators).toEqual([
      { key: 'a', nodeId: 1, host: '127.0.0.1', port: 9092, errorCode: 0, errorMessage: null },
      { key: 'b', nodeId: 1, host: '127.0.0.1', port: 9092, errorCode: 0, errorMessage: null },
    ]);
    const txns = await callHandler(findCoordinatorHandler, broker, version, { keyType: 1, coordinatorKeys: ['t1', ''] });
    expect(txns.coordinators[0]).toMatchObject({ key: 't1', errorCode: 0, nodeId: 1 });
    expect(txns.coordinators[1]).toMatchObject({ key: '', errorCode: ErrorCode.INVALID_REQUEST, nodeId: -1 });
  });
});
