// The derived codec on a synthetic description that uses every feature the description format
// has (the real messages do not use all of them), checked against hand-worked wire bytes so that
// a mistake made symmetrically in encoder and decoder cannot hide behind a round trip.
import { describe, expect, test } from 'vitest';
import type { MessageSpec } from './spec.ts';
import { codecFor, decodeBody, decodeBodyPrefix, encodeBody, planMessage } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { Writer } from './primitives/writer.ts';

const Sample: MessageSpec = {
  apiKey: 12,
  name: 'Sample',
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: 2,
  fields: [
    { name: 'id', type: 'int16', versions: '0+' },
    { name: 'label', type: 'string', versions: '0+', nullableVersions: '1+' },
    { name: 'onlyV1Up', type: 'int32', versions: '1+', default: -1 },
    { name: 'ratio', type: 'float64', versions: '3+' },
    { name: 'port', type: 'uint16', versions: '3+' },
    { name: 'big', type: 'uint32', versions: '3+' },
    { name: 'ids', type: { arrayOf: 'int32' }, versions: '0+', nullableVersions: '2+' },
    {
      name: 'items',
      type: {
        arrayOfStruct: [
          { name: 'key', type: 'string', versions: '0+' },
          { name: 'when', type: 'int64', versions: '0+' },
          { name: 'blob', type: 'bytes', versions: '0+', nullableVersions: '0+' },
          { name: 'extra', type: 'int8', versions: '2+', taggedVersions: '2+', tag: 0 },
        ],
      },
      versions: '0+',
    },
    {
      name: 'leader',
      type: {
        struct: [
          { name: 'leaderId', type: 'int32', versions: '0+', default: -1 },
          { name: 'leaderEpoch', type: 'int32', versions: '0+', default: -1 },
        ],
      },
      versions: '2+',
      taggedVersions: '2+',
      tag: 1,
    },
    {
      name: 'maybe',
      type: { struct: [{ name: 'flag', type: 'bool', versions: '0+' }] },
      versions: '3+',
      nullableVersions: '3+',
      default: null,
    },
    { name: 'topicId', type: 'uuid', versions: '2+' },
    { name: 'note', type: 'string', versions: '2+', nullableVersions: '2+', taggedVersions: '2+', tag: 0 },
    { name: 'data', type: 'records', versions: '0+' },
  ],
};

function encode(version: number, body: unknown): number[] {
  const w = new Writer(16);
  encodeBody(Sample, version, w, body);
  return Array.from(w.buf.subarray(0, w.pos));
}

function decode(version: number, bytes: number[]): Record<string, unknown> {
  const buf = Uint8Array.from(bytes);
  return decodeBody(Sample, version, buf, 0, buf.length);
}

function errorOf(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('expected a ProtocolError');
}

const v0Body = {
  id: 258,
  label: 'ab',
  ids: [1],
  items: [{ key: 'k', when: -2, blob: null, extra: 0 }],
  data: Uint8Array.of(9),
};

// v0 (classic): int16, string, int32 array, struct array (string, int64, nullable bytes), records.
const v0Bytes = [
  0x01,
  0x02, // id
  0x00,
  0x02,
  0x61,
  0x62, // label
  0x00,
  0x00,
  0x00,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01, // ids
  0x00,
  0x00,
  0x00,
  0x01, // items count
  0x00,
  0x01,
  0x6b, // key
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xfe, // when
  0xff,
  0xff,
  0xff,
  0xff, // blob null
  0x00,
  0x00,
  0x00,
  0x01,
  0x09, // data
];

describe('classic encoding', () => {
  test('v0 bytes are exactly as the protocol guide spells them', () => {
    expect(encode(0, v0Body)).toEqual(v0Bytes);
  });

  test('v0 decodes with absent fields at their defaults, in description order', () => {
    const decoded = decode(0, v0Bytes);
    expect(Object.keys(decoded)).toEqual(Sample.fields.map((f) => f.name));
    expect(decoded).toStrictEqual({
      ...v0Body,
      onlyV1Up: -1,
      ratio: 0,
      port: 0,
      big: 0,
      leader: { leaderId: -1, leaderEpoch: -1 },
      maybe: null,
      topicId: '00000000000000000000000000000000',
      note: null,
    });
  });

  test('an undefined field is written as its default, or its zero where null is not allowed', () => {
    const { label: _label, ...rest } = v0Body;
    // v1: label's default is null (nullable from v1), then onlyV1Up's explicit default -1.
    expect(encode(1, rest).slice(2, 8)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    // v0: label is not nullable, so '' is written.
    expect(encode(0, rest).slice(2, 4)).toEqual([0x00, 0x00]);
  });

  test('null is refused where the version does not allow it, naming the field', () => {
    const e = errorOf(() => encode(0, { ...v0Body, label: null }));
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.message).toContain('SampleRequest v0 label');
    expect(encode(1, { ...v0Body, label: null }).slice(2, 4)).toEqual([0xff, 0xff]);
  });

  test.each([
    ['id', 0x8000],
    ['id', 1.5],
    ['id', '1'],
    ['ids', [2 ** 31]],
    ['ids', 'nope'],
    ['items', [{ key: 'k', when: 2 ** 64 }]],
    ['items', [{ key: 'k', when: Number.NaN }]],
    ['items', [{ key: 7 }]],
    ['items', [{ key: 'k', blob: 'not bytes' }]],
    ['items', [null]],
    ['label', 5],
  ])('%s = %j is INVALID_VALUE', (field, value) => {
    const e = errorOf(() => encode(1, { ...v0Body, [field]: value }));
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.message).toContain(field);
  });

  test('a decoded body must use every byte', () => {
    expect(errorOf(() => decode(0, [...v0Bytes, 0])).code).toBe('TRAILING_BYTES');
  });

  // Requests are decoded as a prefix of their frame, as Kafka parses them (README: "Bytes after a
  // request body").
  test('a prefix decode serves a complete body and counts the bytes after it', () => {
    for (const extra of [[0], [0, 0, 0], [0xff, 0x80, 0x01, 0x7f], Array.from({ length: 16 }, (_, i) => i)]) {
      const buf = Uint8Array.from([...v0Bytes, ...extra]);
      const { body, trailingBytes } = decodeBodyPrefix(Sample, 0, buf, 0, buf.length);
      expect(body).toEqual(decode(0, v0Bytes));
      expect(trailingBytes).toBe(extra.length);
    }
    const exact = Uint8Array.from(v0Bytes);
    expect(decodeBodyPrefix(Sample, 0, exact, 0, exact.length).trailingBytes).toBe(0);
  });

  test('a prefix decode still rejects a body short of its fields, at every cut', () => {
    for (let cut = 0; cut < v0Bytes.length; cut++) {
      const buf = Uint8Array.from(v0Bytes.slice(0, cut));
      expect(errorOf(() => decodeBodyPrefix(Sample, 0, buf, 0, buf.length)).code).toMatch(/^(TRUNCATED|INVALID_LENGTH)$/);
    }
  });
});

const v3Body = {
  id: 1,
  label: null,
  onlyV1Up: 5,
  ratio: -0.5,
  port: 65535,
  big: 0xffff_ffff,
  ids: null,
  items: [{ key: 'k', when: 3, blob: Uint8Array.of(1, 2), extra: 7 }],
  leader: { leaderId: 4, leaderEpoch: -1 },
  maybe: { flag: true },
  topicId: '0102030405060708090a0b0c0d0e0f10',
  note: 'n',
  data: null,
};

// v3 (flexible): compact types, nullable struct marker, tagged fields sorted by tag.
const v3Bytes = [
  0x00,
  0x01, // id
  0x00, // label null (compact)
  0x00,
  0x00,
  0x00,
  0x05, // onlyV1Up
  0xbf,
  0xe0,
  0,
  0,
  0,
  0,
  0,
  0, // ratio
  0xff,
  0xff, // port
  0xff,
  0xff,
  0xff,
  0xff, // big
  0x00, // ids null (compact)
  0x02, // items: 1 element
  0x02,
  0x6b, // key
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  3, // when
  0x03,
  0x01,
  0x02, // blob
  0x01,
  0x00,
  0x01,
  0x07, // item tags: 1 field, tag 0, size 1, value 7
  0x01,
  0x01, // maybe: present marker, flag
  0x00, // maybe's empty tag section
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16, // topicId
  0x00, // data null
  0x02, // 2 tagged fields
  0x00,
  0x02,
  0x02,
  0x6e, // note: tag 0, size 2, compact 'n'
  0x01,
  0x09,
  0x00,
  0x00,
  0x00,
  0x04,
  0xff,
  0xff,
  0xff,
  0xff,
  0x00, // leader: tag 1, size 9
];

describe('flexible encoding', () => {
  test('v3 bytes are exactly as the protocol guide spells them', () => {
    expect(encode(3, v3Body)).toEqual(v3Bytes);
  });

  test('v3 decodes back to the same body', () => {
    expect(decode(3, v3Bytes)).toStrictEqual(v3Body);
  });

  test('tagged fields at their default are not written', () => {
    const bytes = encode(3, { ...v3Body, note: null, leader: { leaderId: -1, leaderEpoch: -1 }, items: [] });
    expect(bytes.slice(-1)).toEqual([0x00]);
    expect(decode(3, bytes).leader).toEqual({ leaderId: -1, leaderEpoch: -1 });
  });

  test('unknown tagged fields are preserved, merged in tag order, and refused if they clash', () => {
    const body = { ...v3Body, note: null, _unknownTaggedFields: [{ tag: 5, data: Uint8Array.of(0xaa) }] };
    const bytes = encode(3, body);
    // 2 fields: leader (tag 1) then unknown tag 5.
    expect(bytes.slice(-15)).toEqual([0x02, 0x01, 0x09, 0x00, 0x00, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x05, 0x01, 0xaa]);
    expect(decode(3, bytes)).toStrictEqual(body);
    const clash = { ...v3Body, _unknownTaggedFields: [{ tag: 1, data: Uint8Array.of(0) }] };
    expect(errorOf(() => encode(3, clash)).code).toBe('INVALID_VALUE');
  });

  test('a tagged value longer than 127 bytes gets a multi-byte size', () => {
    const note = 'x'.repeat(200);
    const decoded = decode(3, encode(3, { ...v3Body, note }));
    expect(decoded.note).toBe(note);
  });

  test('a known tagged field whose size disagrees with its content is INVALID_TAGGED_FIELD', () => {
    const bytes = [...v3Bytes];
    // note: claim size 3 for a 2-byte value, and append a byte so the frame length still adds up.
    const at = bytes.length - 15;
    expect(bytes.slice(at, at + 4)).toEqual([0x00, 0x02, 0x02, 0x6e]);
    bytes.splice(at + 1, 1, 0x03);
    bytes.splice(at + 4, 0, 0x00);
    expect(errorOf(() => decode(3, bytes)).code).toBe('INVALID_TAGGED_FIELD');
  });

  test('a tagged field size beyond the frame is INVALID_LENGTH', () => {
    const bytes = [...v3Bytes.slice(0, -15), 0x01, 0x07, 0xff, 0xff, 0x03];
    expect(errorOf(() => decode(3, bytes)).code).toBe('INVALID_LENGTH');
  });
});

describe('plans and compilation', () => {
  test('minimum struct sizes drive array-count checks', () => {
    const plan = planMessage(Sample, 0);
    const items = plan.fields.find((f) => f.name === 'items');
    // key (2) + when (8) + blob (4)
    expect(items?.struct?.minBytes).toBe(14);
    const flexible = planMessage(Sample, 3).fields.find((f) => f.name === 'items');
    // key (1) + when (8) + blob (1) + tag count (1)
    expect(flexible?.struct?.minBytes).toBe(11);
  });

  test('codecs are compiled once per (message, version)', () => {
    expect(codecFor(Sample, 2)).toBe(codecFor(Sample, 2));
    expect(codecFor(Sample, 2)).not.toBe(codecFor(Sample, 3));
  });

  test('field names only ever appear quoted in the generated source', () => {
    const evil: MessageSpec = {
      ...Sample,
      fields: [{ name: 'a"]; throw 1; //', type: 'int8', versions: '0+' }],
    };
    const w = new Writer();
    encodeBody(evil, 0, w, { 'a"]; throw 1; //': 3 });
    expect(decodeBody(evil, 0, w.buf, 0, w.pos)).toEqual({ 'a"]; throw 1; //': 3 });
  });
});
