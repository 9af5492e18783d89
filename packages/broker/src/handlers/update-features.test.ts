// UpdateFeatures through the codec, and ApiVersions reporting the result.

import { ErrorCode } from '@sluice/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { updateFeaturesHandler } from './update-features.ts';

let t: TestBroker | undefined;
afterEach(() => {
  t?.close();
  t = undefined;
});

describe('UpdateFeatures', () => {
  test.each([0, 1, 2])("v%i: a level this broker does not support is INVALID_UPDATE_VERSION with Kafka's message", async (version) => {
    t = startTestBroker();
    const res = await callHandler(updateFeaturesHandler, t.broker, version, {
      timeoutMs: 1000,
      featureUpdates: [{ feature: 'group.version', maxVersionLevel: 2, allowDowngrade: false, upgradeType: 1 }],
      validateOnly: false,
    });
    const message = 'Invalid update version 2 for feature group.version. Local controller 1 only supports versions 0-1';
    expect(res).toMatchObject({ errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: message });
    expect(res.results).toEqual(version < 2 ? [{ feature: 'group.version', errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: message }] : []);
  });

  test('v0: allowDowngrade false to a lower level is refused as an upgrade; the current level is a no-op', async () => {
    t = startTestBroker();
    const down = await callHandler(updateFeaturesHandler, t.broker, 0, {
      timeoutMs: 1000,
      featureUpdates: [{ feature: 'metadata.version', maxVersionLevel: 7, allowDowngrade: false }],
    });
    expect(down).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null, results: [{ feature: 'metadata.version', errorCode: ErrorCode.NONE }] });
    const api = await callHandler(apiVersionsHandler, t.broker, 4, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    expect(api.finalizedFeatures).toEqual([
      { name: 'metadata.version', maxVersionLevel: 7, minVersionLevel: 7 },
      { name: 'group.version', maxVersionLevel: 1, minVersionLevel: 1 },
      { name: 'share.version', maxVersionLevel: 1, minVersionLevel: 1 },
    ]);
    expect(api.finalizedFeaturesEpoch).toBe(0);
    expect(api.supportedFeatures.map((f: any) => f.name)).toEqual(['metadata.version', 'transaction.version', 'group.version', 'share.version']);
  });

  test('a feature named twice is INVALID_REQUEST', async () => {
    t = startTestBroker();
    const update = { feature: 'metadata.version', maxVersionLevel: 7, upgradeType: 1 };
    const res = await callHandler(updateFeaturesHandler, t.broker, 1, { timeoutMs: 1000, featureUpdates: [update, update], validateOnly: true });
    expect(res.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});
