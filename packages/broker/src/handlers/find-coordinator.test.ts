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

  test('v1-3: a transactional id has no coordinator here; an unknown key type is INVALID_REQUEST', async () => {
    expect(await callHandler(findCoordinatorHandler, broker, 2, { key: 'tx', keyType: 1 })).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      nodeId: -1,
      host: '',
      port: -1,
    });
    expect((await callHandler(findCoordinatorHandler, broker, 3, { key: 'x', keyType: 7 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('v4: batched keys, one coordinator each', async () => {
    const groups = await callHandler(findCoordinatorHandler, broker, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(groups.coordinators).toEqual([
      { key: 'a', nodeId: 1, host: '127.0.0.1', port: 9092, errorCode: 0, errorMessage: null },
      { key: 'b', nodeId: 1, host: '127.0.0.1', port: 9092, errorCode: 0, errorMessage: null },
    ]);
    const txns = await callHandler(findCoordinatorHandler, broker, 4, { keyType: 1, coordinatorKeys: ['t1'] });
    expect(txns.coordinators[0]).toMatchObject({ key: 't1', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, nodeId: -1 });
  });
});
