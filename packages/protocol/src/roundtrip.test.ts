// Round trip for every served message at every served version, generated from the registry:
// sample body -> encode (with header, as on the wire) -> frame -> decode -> deep equal, and the
// decoded body re-encodes to the same bytes.
import { describe, expect, test } from 'vitest';
import { sampleBody, servedVersions } from '../fixtures/sample-values.ts';
import {
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  FrameReader,
  isFlexible,
  requestSpecs,
  responseSpecs,
} from './index.ts';

const REGISTERED_APIS = 57;

function onlyFrame(bytes: Uint8Array): Uint8Array {
  const reader = new FrameReader(bytes.length);
  reader.push(bytes);
  const frame = reader.next();
  expect(frame).not.toBeNull();
  expect(reader.next()).toBeNull();
  expect(reader.bufferedBytes).toBe(0);
  return frame as Uint8Array;
}

function single(parts: ReturnType<typeof encodeResponse>): Uint8Array {
  expect(parts).toHaveLength(1);
  return parts[0] as Uint8Array;
}

test('the registry serves all 57 APIs, request and response alike', () => {
  expect(requestSpecs.size).toBe(REGISTERED_APIS);
  expect(responseSpecs.size).toBe(REGISTERED_APIS);
  for (const [key, req] of requestSpecs) {
    expect(responseSpecs.get(key)?.validVersions).toEqual(req.validVersions);
  }
});

describe('request round trip', () => {
  test.each(servedVersions(requestSpecs.values()))('%s v%i request', (_name, version, spec) => {
    for (const shape of ['full', 'nulls'] as const) {
      const body = sampleBody(spec, version, shape);
      const bytes = encodeRequest(spec.apiKey, version, 0x1234_5678, 'sluice-test', body);
      const frame = onlyFrame(bytes);
      const header = decodeRequestHeader(frame);
      expect(header).toEqual({
        apiKey: spec.apiKey,
        apiVersion: version,
        correlationId: 0x1234_5678,
        clientId: 'sluice-test',
        headerVersion: isFlexible(spec.apiKey, version) ? 2 : 1,
        bodyOffset: header.bodyOffset,
      });
      const decoded = decodeRequest(header, frame);
      expect(decoded).toStrictEqual(body);
      expect(encodeRequest(spec.apiKey, version, 0x1234_5678, 'sluice-test', decoded)).toEqual(bytes);
    }
  });
});

describe('response round trip', () => {
  test.each(servedVersions(responseSpecs.values()))('%s v%i response', (_name, version, spec) => {
    for (const shape of ['full', 'nulls'] as const) {
      const body = sampleBody(spec, version, shape);
      const bytes = single(encodeResponse(spec.apiKey, version, -7, body));
      const decoded = decodeResponse(spec.apiKey, version, onlyFrame(bytes));
      expect(decoded.correlationId).toBe(-7);
      expect(decoded.body).toStrictEqual(body);
      expect(single(encodeResponse(spec.apiKey, version, -7, decoded.body))).toEqual(bytes);
    }
  });
});
