import { describe, expect, test } from 'vitest';
import {
  ApiKey,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  isFlexible,
  ProtocolError,
  requestHeaderVersion,
  responseHeaderVersion,
} from './index.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code;
  }
  throw new Error('expected a ProtocolError');
}

describe('request header', () => {
  test('v1: apiKey, apiVersion, correlationId, int16-length clientId', () => {
    const frame = Uint8Array.of(0, 0, 0, 3, 0, 0, 0, 42, 0, 2, 0x63, 0x6c, 0xaa);
    expect(decodeRequestHeader(frame)).toEqual({
      apiKey: 0,
      apiVersion: 3,
      correlationId: 42,
      clientId: 'cl',
      headerVersion: 1,
      bodyOffset: 12,
    });
  });

  test('v2 (flexible request versions): clientId stays int16-length, then tagged fields are skipped', () => {
    // Metadata v9, null clientId, one unknown header tag (7) of 2 bytes.
    const frame = Uint8Array.of(0, 3, 0, 9, 0, 0, 1, 0, 0xff, 0xff, 0x01, 0x07, 0x02, 0xee, 0xee, 0xbb);
    expect(decodeRequestHeader(frame)).toEqual({
      apiKey: 3,
      apiVersion: 9,
      correlationId: 256,
      clientId: null,
      headerVersion: 2,
      bodyOffset: 15,
    });
  });

  test('unknown API keys still yield key, version and correlation id (header v1)', () => {
    const frame = Uint8Array.of(0x03, 0xe7, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const h = decodeRequestHeader(frame);
    expect(h).toMatchObject({ apiKey: 999, apiVersion: 1, correlationId: -1, headerVersion: 1 });
    expect(codeOf(() => decodeRequest(h, frame))).toBe('UNKNOWN_API');
  });

  test('an ApiVersions request newer than we serve parses its v2 header (as Kafka does) and its body is refused', () => {
    const frame = encodeRequest(ApiKey.ApiVersions, 4, 5, 'c', { clientSoftwareName: 'x', clientSoftwareVersion: '1' }).subarray(4);
    const v9 = Uint8Array.from(frame);
    v9[3] = 9; // apiVersion 4 -> 9
    const h = decodeRequestHeader(v9);
    expect(h).toMatchObject({ apiKey: 18, apiVersion: 9, correlationId: 5, clientId: 'c', headerVersion: 2 });
    expect(codeOf(() => decodeRequest(h, v9))).toBe('UNSUPPORTED_VERSION');
  });

  test('Produce v0-v2 are advertised by the broker but not decoded here', () => {
    const frame = Uint8Array.of(0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff);
    expect(codeOf(() => decodeRequest(decodeRequestHeader(frame), frame))).toBe('UNSUPPORTED_VERSION');
  });

  test('a header cut short is TRUNCATED', () => {
    const frame = Uint8Array.of(0, 3, 0, 9, 0, 0, 1, 0, 0, 3, 0x61);
    for (let cut = 0; cut < frame.length; cut++) {
      expect(codeOf(() => decodeRequestHeader(frame.subarray(0, cut)))).toMatch(/TRUNCATED|INVALID_LENGTH/);
    }
  });
});

describe('response header', () => {
  test('ApiVersions responses use header v0 at every version, flexible ones included', () => {
    for (let v = 0; v <= 4; v++) expect(responseHeaderVersion(ApiKey.ApiVersions, v)).toBe(0);
    const [frame] = encodeResponse(ApiKey.ApiVersions, 3, 77, { errorCode: 35, apiKeys: [] }) as Uint8Array[];
    // size, correlationId, then straight into the body: errorCode 35, compact empty array ...
    expect(Array.from(frame.subarray(0, 11))).toEqual([0, 0, 0, frame.length - 4, 0, 0, 0, 77, 0, 35, 1]);
    expect(decodeResponse(ApiKey.ApiVersions, 3, frame.subarray(4)).body.errorCode).toBe(35);
  });

  test('flexible responses carry an (empty) tagged-field section after the correlation id', () => {
    expect(isFlexible(ApiKey.Metadata, 9)).toBe(true);
    expect(responseHeaderVersion(ApiKey.Metadata, 9)).toBe(1);
    expect(responseHeaderVersion(ApiKey.Metadata, 8)).toBe(0);
    const [frame] = encodeResponse(ApiKey.Heartbeat, 4, 1, { errorCode: 0 }) as Uint8Array[];
    // size 12: correlationId, header tags (0), throttleTimeMs, errorCode, body tags (0)
    expect(Array.from(frame)).toEqual([0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('request header versions follow the first flexible version', () => {
    expect(requestHeaderVersion(ApiKey.Produce, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Produce, 9)).toBe(2);
    expect(requestHeaderVersion(ApiKey.SaslHandshake, 1)).toBe(1);
    expect(requestHeaderVersion(4242, 0)).toBe(1);
  });
});
