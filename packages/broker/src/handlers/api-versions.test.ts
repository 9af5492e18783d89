import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import type { BrokerContext } from '../broker-context.ts';
import { callHandler } from '../testing/call-handler.ts';
import { silentLogger } from '../logger.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { FeatureLevels } from '../features.ts';
import { advertisedApiVersions, createHandlerRegistry } from './index.ts';

const CLUSTER = 'B0cyur1VTllEFqTfCnQeiQ';
const NODE = 1;
const TABLE = advertisedApiVersions(createHandlerRegistry());
// Never written: these tests do not update features.
const FEATURES_DIR = join(tmpdir(), 'sluice-api-versions-test-unused');

const broker = {
  clusterId: CLUSTER,
  nodeId: NODE,
  logger: silentLogger,
  apiVersions: () => TABLE,
  features: new FeatureLevels(FEATURES_DIR, NODE),
} as unknown as BrokerContext;

const client = { clientSoftwareName: 'apache-kafka-java', clientSoftwareVersion: '4.4.0' };

describe('ApiVersions', () => {
  test('advertises v0-5 for itself, derived from the handler registry', () => {
    expect(TABLE).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 5 });
  });

  test.each([0, 1, 2, 3, 4, 5])('v%i: the full table', async (version) => {
    const res = await callHandler(apiVersionsHandler, broker, version, { ...client, clusterId: null, nodeId: -1 });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.apiKeys).toEqual(TABLE);
  });

  test('v5: the cluster and node this broker is: the full table', async () => {
    const res = await callHandler(apiVersionsHandler, broker, 5, { ...client, clusterId: CLUSTER, nodeId: NODE });
    expect(res).toMatchObject({ errorCode: ErrorCode.NONE, apiKeys: TABLE });
  });

  test.each([
    ['another cluster', { clusterId: 'some-other-cluster', nodeId: NODE }],
    ['another node of this cluster', { clusterId: CLUSTER, nodeId: NODE + 1 }],
    ['both wrong', { clusterId: 'x', nodeId: 7 }],
  ])('v5: %s is REBOOTSTRAP_REQUIRED with no API list', async (_what, target) => {
    const res = await callHandler(apiVersionsHandler, broker, 5, { ...client, ...target });
    expect(res).toMatchObject({ errorCode: ErrorCode.REBOOTSTRAP_REQUIRED, apiKeys: [], throttleTimeMs: 0 });
  });

  test.each([
    ['a cluster id without a node id', { clusterId: CLUSTER, nodeId: -1 }],
    ['a node id without a cluster id', { clusterId: null, nodeId: NODE }],
  ])('v5: %s is INVALID_REQUEST (ApiVersionsRequest.isValid)', async (_what, target) => {
    const res = await callHandler(apiVersionsHandler, broker, 5, { ...client, ...target });
    expect(res).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, apiKeys: [] });
  });

  test.each([3, 4, 5])('v%i: a software name or version outside the KIP-511 pattern is INVALID_REQUEST', async (version) => {
    for (const software of [
      { clientSoftwareName: 'not valid!', clientSoftwareVersion: '1.0' },
      { clientSoftwareName: 'kgo', clientSoftwareVersion: '' },
      { clientSoftwareName: '-leading-dash', clientSoftwareVersion: '1.0' },
      { clientSoftwareName: 'trailing.', clientSoftwareVersion: '1.0' },
    ]) {
      const res = await callHandler(apiVersionsHandler, broker, version, { ...software, clusterId: null, nodeId: -1 });
      expect(res.errorCode, JSON.stringify(software)).toBe(ErrorCode.INVALID_REQUEST);
    }
    const ok = await callHandler(apiVersionsHandler, broker, version, {
      clientSoftwareName: 'kgo',
      clientSoftwareVersion: 'v1.22.2',
      clusterId: null,
      nodeId: -1,
    });
    expect(ok.errorCode).toBe(ErrorCode.NONE);
  });

  test('v4+: group.version is supported 0-1 and finalized at 1 (KIP-848 consumer groups are on)', async () => {
    // (v3 clients are not shown supported ranges that start at 0, as Kafka does: features.ts.)
    const res = await callHandler(apiVersionsHandler, broker, 4, { ...client });
    expect(res.supportedFeatures).toContainEqual({ name: 'group.version', minVersion: 0, maxVersion: 1 });
    expect(res.finalizedFeatures).toContainEqual({ name: 'group.version', minVersionLevel: 1, maxVersionLevel: 1 });
    expect(res.finalizedFeaturesEpoch).toBeGreaterThanOrEqual(0);
    expect(TABLE).toContainEqual({ apiKey: 68, minVersion: 0, maxVersion: 1 });
    expect(TABLE).toContainEqual({ apiKey: 69, minVersion: 0, maxVersion: 1 });
  });

  test('v0-2 carry no software name, so nothing to check', async () => {
    const res = await callHandler(apiVersionsHandler, broker, 2, {});
    expect(res.errorCode).toBe(ErrorCode.NONE);
  });
});
