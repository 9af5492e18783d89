// kafkajs as an independent oracle for the ACL APIs (CreateAcls, DescribeAcls, DeleteAcls), at the
// versions kafkajs speaks (v0 and v1, classic encoding): requests kafkajs encodes are decoded by us
// to the values kafkajs was given, and responses we encode are decoded by kafkajs's per-version
// decoders to the values we put in. Kept apart from kafkajs-oracle.test.ts so the security APIs'
// oracle lives in one place.
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { type AnyResponse, ApiKey, decodeRequest, decodeRequestHeader, type Encodable, encodeResponse, FrameReader } from './index.ts';

const require = createRequire(import.meta.url);
const kafkajs = (path: string): any => require(`kafkajs/src/protocol/${path}`);

async function weDecode(request: any): Promise<any> {
  const encoded = await kafkajs('request')({ correlationId: 11, clientId: 'kafkajs-acl-oracle', request });
  const reader = new FrameReader(1 << 20);
  reader.push(new Uint8Array(encoded.buffer));
  const frame = reader.next() as Uint8Array;
  expect(reader.bufferedBytes).toBe(0);
  const header = decodeRequestHeader(frame);
  expect(header).toMatchObject({ apiKey: request.apiKey, apiVersion: request.apiVersion, correlationId: 11 });
  return decodeRequest(header, frame);
}

async function kafkajsDecodes(api: string, apiKey: number, version: number, body: Encodable<AnyResponse>): Promise<any> {
  const parts = encodeResponse(apiKey, version, 5, body);
  expect(parts).toHaveLength(1);
  const frame = parts[0] as Uint8Array;
  const { decode } = kafkajs(`requests/${api}/v${version}/response`);
  return decode(Buffer.from(frame.subarray(8)));
}

// Topic "orders-" PREFIXED (4), User:alice, any host, WRITE (4), ALLOW (3).
const binding = { resourceType: 2, resourceName: 'orders-', resourcePatternType: 4, principal: 'User:alice', host: '*', operation: 4, permissionType: 3 };
// v0 has no pattern type: it is LITERAL (3) by definition.
const v0Binding = { ...binding, resourcePatternType: 3 };

describe('requests kafkajs encodes, decoded by us', () => {
  test.each([0, 1])('CreateAcls v%i', async (v) => {
    const b = v === 0 ? v0Binding : binding;
    const body = await weDecode(kafkajs(`requests/createAcls/v${v}/request`)({ creations: [b, { ...b, principal: 'User:bob', operation: 3 }] }));
    expect(body).toEqual({ creations: [b, { ...b, principal: 'User:bob', operation: 3 }] });
  });

  test.each([0, 1])('DescribeAcls v%i', async (v) => {
    const b = v === 0 ? v0Binding : binding;
    const body = await weDecode(kafkajs(`requests/describeAcls/v${v}/request`)({ ...b, principal: null, host: null }));
    expect(body).toEqual({
      resourceTypeFilter: 2,
      resourceNameFilter: 'orders-',
      patternTypeFilter: b.resourcePatternType,
      principalFilter: null,
      hostFilter: null,
      operation: 4,
      permissionType: 3,
    });
  });

  test.each([0, 1])('DeleteAcls v%i', async (v) => {
    const b = v === 0 ? v0Binding : binding;
    const body = await weDecode(kafkajs(`requests/deleteAcls/v${v}/request`)({ filters: [{ ...b, resourceName: null }] }));
    expect(body).toEqual({
      filters: [
        {
          resourceTypeFilter: 2,
          resourceNameFilter: null,
          patternTypeFilter: b.resourcePatternType,
          principalFilter: 'User:alice',
          hostFilter: '*',
          operation: 4,
          permissionType: 3,
        },
      ],
    });
  });
});

describe('responses we encode, decoded by kafkajs', () => {
  test.each([0, 1])('CreateAcls v%i', async (v) => {
    const d = await kafkajsDecodes('createAcls', ApiKey.CreateAcls, v, {
      throttleTimeMs: 3,
      results: [
        { errorCode: 0, errorMessage: null },
        { errorCode: 87, errorMessage: 'bad principal' },
      ],
    });
    expect(d.creationResponses).toEqual([
      { errorCode: 0, errorMessage: null },
      { errorCode: 87, errorMessage: 'bad principal' },
    ]);
    expect(v === 0 ? d.throttleTime : d.clientSideThrottleTime).toBe(3);
  });

  test.each([0, 1])('DescribeAcls v%i', async (v) => {
    const d = await kafkajsDecodes('describeAcls', ApiKey.DescribeAcls, v, {
      throttleTimeMs: 4,
      errorCode: 0,
      errorMessage: null,
      resources: [
        {
          resourceType: 2,
          resourceName: 'orders-',
          patternType: v === 0 ? 3 : 4,
          acls: [
            { principal: 'User:alice', host: '*', operation: 4, permissionType: 3 },
            { principal: 'User:bob', host: '10.0.0.1', operation: 3, permissionType: 2 },
          ],
        },
      ],
    });
    expect(d.errorCode).toBe(0);
    expect(d.resources).toHaveLength(1);
    expect(d.resources[0]).toMatchObject({ resourceType: 2, resourceName: 'orders-' });
    if (v === 1) expect(d.resources[0].resourcePatternType).toBe(4);
    expect(d.resources[0].acls).toEqual([
      { principal: 'User:alice', host: '*', operation: 4, permissionType: 3 },
      { principal: 'User:bob', host: '10.0.0.1', operation: 3, permissionType: 2 },
    ]);
  });

  test.each([0, 1])('DeleteAcls v%i', async (v) => {
    const matching = {
      errorCode: 0,
      errorMessage: null,
      resourceType: 3,
      resourceName: 'g1',
      patternType: 3,
      principal: 'User:alice',
      host: '*',
      operation: 3,
      permissionType: 3,
    };
    const d = await kafkajsDecodes('deleteAcls', ApiKey.DeleteAcls, v, {
      throttleTimeMs: 0,
      filterResults: [
        { errorCode: 0, errorMessage: null, matchingAcls: [matching] },
        { errorCode: 35, errorMessage: 'unsupported', matchingAcls: [] },
      ],
    });
    const { patternType, ...rest } = matching;
    expect(d.filterResponses).toEqual([
      { errorCode: 0, errorMessage: null, matchingAcls: [v === 1 ? { ...rest, resourcePatternType: patternType } : rest] },
      { errorCode: 35, errorMessage: 'unsupported', matchingAcls: [] },
    ]);
  });
});
