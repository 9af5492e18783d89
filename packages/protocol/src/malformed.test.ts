// Malformed input: whatever the bytes, decoding ends in a value or a ProtocolError — never another
// exception, and never an allocation sized by a length the bytes merely claim.
import { describe, expect, test } from 'vitest';
import { prng, sampleBody, servedVersions } from '../fixtures/sample-values.ts';
import {
  ApiKey,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  ProtocolError,
  requestSpecs,
  responseSpecs,
} from './index.ts';
import { Writer } from './primitives/writer.ts';

function decodeRequestFrame(frame: Uint8Array): unknown {
  return decodeRequest(decodeRequestHeader(frame), frame);
}

/** The ProtocolError code `fn` throws; fails the test on success or on any other exception. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw new Error(`expected a ProtocolError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a ProtocolError, decoding succeeded');
}

/** Runs `fn`; a ProtocolError is fine, success is fine, anything else fails the test. */
function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw new Error(`non-ProtocolError escaped: ${String(e)}`, { cause: e });
  }
}

const requestFrames = servedVersions(requestSpecs.values()).map(([name, version, spec]) => {
  const bytes = encodeRequest(spec.apiKey, version, 1, 'c', sampleBody(spec, version, 'full'));
  return [name, version, bytes.subarray(4)] as const;
});

const responseFrames = servedVersions(responseSpecs.values()).map(([name, version, spec]) => {
  const [bytes] = encodeResponse(spec.apiKey, version, 1, sampleBody(spec, version, 'full')) as Uint8Array[];
  return [name, version, spec.apiKey, bytes.subarray(4)] as const;
});

describe('truncated at every byte position', () => {
  test.each(requestFrames)('%s v%i request', (_name, _version, frame) => {
    for (let cut = 0; cut < frame.length; cut++) {
      expect(codeOf(() => decodeRequestFrame(frame.subarray(0, cut)))).toMatch(/^(TRUNCATED|INVALID_LENGTH)$/);
    }
  });

  test.each(responseFrames)('%s v%i response', (_name, version, apiKey, frame) => {
    for (let cut = 0; cut < frame.length; cut++) {
      expect(codeOf(() => decodeResponse(apiKey, version, frame.subarray(0, cut)))).toMatch(/^(TRUNCATED|INVALID_LENGTH)$/);
    }
  });
});

describe('random corruption', () => {
  // 200 seeded mutations per frame: overwrite 1-4 bytes with random or boundary values.
  test.each(requestFrames)('%s v%i request', (name, version, frame) => {
    const rand = prng(name.length * 1000 + version);
    const boundary = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
    for (let i = 0; i < 200; i++) {
      const copy = Uint8Array.from(frame);
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        // Leave the first 4 header bytes alone half the time, to reach deep into bodies.
        const from = rand() < 0.5 ? 4 : 0;
        const at = from + Math.floor(rand() * (copy.length - from));
        copy[at] = rand() < 0.5 ? boundary[Math.floor(rand() * boundary.length)] : Math.floor(rand() * 256);
      }
      onlyProtocolErrors(() => decodeRequestFrame(copy));
    }
  });
});

/** A request frame: header v1/v2 for (apiKey, version) followed by hand-written body bytes. */
function frameWith(apiKey: number, version: number, flexibleHeader: boolean, body: (w: Writer) => void): Uint8Array {
  const w = new Writer(64);
  w.int16(apiKey);
  w.int16(version);
  w.int32(9);
  w.string('c');
  if (flexibleHeader) w.uvarint(0);
  body(w);
  return w.buf.slice(0, w.pos);
}

describe('lying lengths and counts', () => {
  test('an array count of 2^31 - 1 with 10 bytes left is INVALID_LENGTH, not an allocation', () => {
    // Produce v3: transactionalId, acks, timeoutMs, topicData count.
    const frame = frameWith(ApiKey.Produce, 3, false, (w) => {
      w.string(null);
      w.int16(1);
      w.int32(1000);
      w.int32(0x7fff_ffff);
      w.raw(new Uint8Array(10));
    });
    const before = process.memoryUsage().heapUsed;
    expect(codeOf(() => decodeRequestFrame(frame))).toBe('INVALID_LENGTH');
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  });

  test('a compact array count near 2^32 is INVALID_LENGTH', () => {
    // Produce v9 (flexible): transactionalId, acks, timeoutMs, topicData compact count.
    const frame = frameWith(ApiKey.Produce, 9, true, (w) => {
      w.compactString(null);
      w.int16(1);
      w.int32(1000);
      w.uvarint(0xffff_ffff);
      w.raw(new Uint8Array(10));
    });
    expect(codeOf(() => decodeRequestFrame(frame))).toBe('INVALID_LENGTH');
  });

  test('an array count the bytes could hold only if elements were smaller than possible', () => {
    // Metadata v1: topics is an array of structs of at least 2 bytes (a string); 6 claimed, 10 bytes left.
    const frame = frameWith(ApiKey.Metadata, 1, false, (w) => {
      w.int32(6);
      w.raw(new Uint8Array(10));
    });
    expect(codeOf(() => decodeRequestFrame(frame))).toBe('INVALID_LENGTH');
  });

  test('negative lengths other than null are INVALID_LENGTH', () => {
    const negativeArray = frameWith(ApiKey.Metadata, 1, false, (w) => w.int32(-2));
    expect(codeOf(() => decodeRequestFrame(negativeArray))).toBe('INVALID_LENGTH');
    const negativeString = frameWith(ApiKey.Metadata, 1, false, (w) => {
      w.int32(1);
      w.int16(-5);
    });
    expect(codeOf(() => decodeRequestFrame(negativeString))).toBe('INVALID_LENGTH');
    // Null where the version does not allow it (Metadata v1 topic name).
    const nullName = frameWith(ApiKey.Metadata, 1, false, (w) => {
      w.int32(1);
      w.int16(-1);
    });
    expect(codeOf(() => decodeRequestFrame(nullName))).toBe('INVALID_LENGTH');
  });

  test('a string longer than what is left is INVALID_LENGTH', () => {
    const frame = frameWith(ApiKey.Metadata, 1, false, (w) => {
      w.int32(1);
      w.int16(30000);
      w.raw(Uint8Array.of(0x61, 0x62));
    });
    expect(codeOf(() => decodeRequestFrame(frame))).toBe('INVALID_LENGTH');
  });

  test('a records length beyond the frame is INVALID_LENGTH', () => {
    const frame = frameWith(ApiKey.Produce, 3, false, (w) => {
      w.string(null);
      w.int16(1);
      w.int32(1000);
      w.int32(1);
      w.string('t');
      w.int32(1);
      w.int32(0);
      w.int32(0x1000_0000);
      w.raw(new Uint8Array(8));
    });
    expect(codeOf(() => decodeRequestFrame(frame))).toBe('INVALID_LENGTH');
  });

  test('a huge tagged-field count runs out of bytes instead of looping or allocating', () => {
    const frame = frameWith(ApiKey.Heartbeat, 4, true, (w) => {
      w.compactString('g');
      w.int32(1);
      w.compactString('m');
      w.compactString(null);
      w.uvarint(0xffff_fff0);
    });
    expect(codeOf(() => decodeRequestFrame(frame))).toBe('TRUNCATED');
  });

  test('varints longer than 5 bytes are INVALID_VARINT', () => {
    const frame = frameWith(ApiKey.Heartbeat, 4, true, (w) => w.raw(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)));
    expect(codeOf(() => decodeRequestFrame(frame))).toBe('INVALID_VARINT');
    const header = Uint8Array.of(0, 12, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    expect(codeOf(() => decodeRequestHeader(header))).toBe('INVALID_VARINT');
  });

  test('unknown API keys and unsupported versions are typed errors', () => {
    expect(codeOf(() => decodeRequestFrame(frameWith(4, 0, false, () => {})))).toBe('UNKNOWN_API');
    expect(codeOf(() => decodeRequestFrame(frameWith(-1, 0, false, () => {})))).toBe('UNKNOWN_API');
    expect(codeOf(() => decodeRequestFrame(frameWith(ApiKey.Fetch, 3, false, () => {})))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => decodeRequestFrame(frameWith(ApiKey.Fetch, 14, true, () => {})))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => decodeRequestFrame(frameWith(ApiKey.Fetch, -1, false, () => {})))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => encodeResponse(ApiKey.Fetch, 99, 1, {}))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => encodeResponse(4, 0, 1, {}))).toBe('UNKNOWN_API');
  });
});

// Bytes after a complete request body are served, as Kafka serves them (README: "Bytes after a
// request body"); a body short of its fields is not.
describe('bytes after a complete request body', () => {
  test.each(requestFrames)('%s v%i request: 1-16 extra bytes decode to the same body, counted', (_name, _version, frame) => {
    const plain = decodeRequestFrame(frame);
    const info = { trailingBytes: -1 };
    for (let extra = 1; extra <= 16; extra++) {
      const longer = new Uint8Array(frame.length + extra);
      longer.set(frame);
      longer.fill(extra % 2 === 0 ? 0xff : 0x00, frame.length); // zeros look like fields; 0xff like garbage
      expect(decodeRequest(decodeRequestHeader(longer), longer, info)).toEqual(plain);
      expect(info.trailingBytes).toBe(extra);
    }
    decodeRequest(decodeRequestHeader(frame), frame, info);
    expect(info.trailingBytes).toBe(0);
  });

  test("librdkafka's Metadata v12 all-topics request: 4-byte zero count where a compact null belongs", () => {
    // rdkafka_request.c writes an int32 array count of 0 for "all topics" at Metadata v9+ and
    // leaves it; Kafka reads its first byte as the null topics, the next two as the booleans (false)
    // and the third as an empty tagged-field section, then ignores what follows — so do we.
    const frame = frameWith(ApiKey.Metadata, 12, true, (w) => {
      w.int32(0); // topics, as librdkafka writes it
      w.bool(true); // allowAutoTopicCreation, as librdkafka meant it
      w.bool(false); // includeTopicAuthorizedOperations
      w.uvarint(0); // tagged fields
    });
    const info = { trailingBytes: 0 };
    const body = decodeRequest(decodeRequestHeader(frame), frame, info);
    expect(body).toMatchObject({ topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(info.trailingBytes).toBe(3);
  });

  test('a request body one byte short is still an error', () => {
    for (const [, , frame] of requestFrames) {
      expect(codeOf(() => decodeRequestFrame(frame.subarray(0, frame.length - 1)))).toMatch(/^(TRUNCATED|INVALID_LENGTH)$/);
    }
  });
});
