// Primitive encodings against byte vectors worked out from the protocol guide's definitions
// (big-endian fixed ints; base-128 little-endian varints; zig-zag for signed varints; compact
// lengths as N + 1), and the reader's defences.
import { describe, expect, test } from 'vitest';
import { ProtocolError } from './errors.ts';
import { Reader } from './primitives/reader.ts';
import { utf8Length, Writer } from './primitives/writer.ts';

function written(fn: (w: Writer) => void): number[] {
  const w = new Writer(4);
  fn(w);
  return Array.from(w.buf.subarray(0, w.pos));
}

function reader(bytes: number[]): Reader {
  return new Reader(Uint8Array.from(bytes));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  throw new Error('expected a ProtocolError');
}

describe('fixed-size integers', () => {
  test.each([
    ['int8', -1, [0xff]],
    ['int16', -2, [0xff, 0xfe]],
    ['uint16', 0xfffe, [0xff, 0xfe]],
    ['int32', -0x8000_0000, [0x80, 0, 0, 0]],
    ['uint32', 0xdead_beef, [0xde, 0xad, 0xbe, 0xef]],
    ['int64', -1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['int64', 2 ** 53 - 1, [0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['int64', -(2 ** 53) + 1, [0xff, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]],
    ['int64', 0x1_0000_0000, [0, 0, 0, 1, 0, 0, 0, 0]],
    ['float64', 1.5, [0x3f, 0xf8, 0, 0, 0, 0, 0, 0]],
  ] as const)('%s %d', (type, value, bytes) => {
    expect(written((w) => w[type](value))).toEqual(bytes);
    expect(reader([...bytes])[type]()).toBe(value);
  });

  test('int64 Long.MAX_VALUE reads as 2^63 and writes back as MAX_VALUE', () => {
    const max = [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const v = reader(max).int64();
    expect(v).toBe(2 ** 63);
    expect(written((w) => w.int64(v))).toEqual(max);
    const min = [0x80, 0, 0, 0, 0, 0, 0, 0];
    expect(reader(min).int64()).toBe(-(2 ** 63));
    expect(written((w) => w.int64(-(2 ** 63)))).toEqual(min);
  });
});

describe('varints', () => {
  test.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [0xffff_ffff, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('unsigned varint %d', (value, bytes) => {
    expect(written((w) => w.uvarint(value))).toEqual(bytes);
    expect(reader(bytes).uvarint()).toBe(value);
  });

  test.each([
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [-64, [0x7f]],
    [64, [0x80, 0x01]],
    [0x7fff_ffff, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-0x8000_0000, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('zig-zag varint %d', (value, bytes) => {
    expect(written((w) => w.varint(value))).toEqual(bytes);
    expect(reader(bytes).varint()).toBe(value);
  });

  test.each([
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [0x7fff_ffff, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [2 ** 40, [0x80, 0x80, 0x80, 0x80, 0x80, 0x40]],
    [-(2 ** 53), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]],
    [2 ** 53 - 1, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]],
    [-(2 ** 63), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [2 ** 63, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]], // Long.MAX_VALUE, saturated
  ])('zig-zag varlong %d', (value, bytes) => {
    expect(written((w) => w.varlong(value))).toEqual(bytes);
    expect(reader(bytes).varlong()).toBe(value);
  });

  test('a varint longer than 5 bytes, or overflowing 32 bits, is INVALID_VARINT', () => {
    expect(codeOf(() => reader([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).uvarint())).toBe('INVALID_VARINT');
    expect(codeOf(() => reader([0xff, 0xff, 0xff, 0xff, 0x10]).uvarint())).toBe('INVALID_VARINT');
    expect(codeOf(() => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]).varint())).toBe('INVALID_VARINT');
  });

  test('a varlong longer than 10 bytes is INVALID_VARINT', () => {
    expect(codeOf(() => reader([...Array(10).fill(0xff), 0x01]).varlong())).toBe('INVALID_VARINT');
    expect(codeOf(() => reader([...Array(9).fill(0xff), 0x02]).varlong())).toBe('INVALID_VARINT');
  });

  test('a varint cut short is TRUNCATED', () => {
    expect(codeOf(() => reader([0x80, 0x80]).uvarint())).toBe('TRUNCATED');
    expect(codeOf(() => reader([0x80]).varlong())).toBe('TRUNCATED');
  });
});

describe('strings', () => {
  test('classic and compact, null and non-null, ASCII and UTF-8', () => {
    expect(written((w) => w.string('ab'))).toEqual([0, 2, 0x61, 0x62]);
    expect(written((w) => w.string(null))).toEqual([0xff, 0xff]);
    expect(written((w) => w.compactString('ab'))).toEqual([3, 0x61, 0x62]);
    expect(written((w) => w.compactString(null))).toEqual([0]);
    expect(written((w) => w.compactString(''))).toEqual([1]);
    expect(written((w) => w.string('é€'))).toEqual([0, 5, 0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    expect(written((w) => w.compactString('é€'))).toEqual([6, 0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    expect(reader([0, 5, 0xc3, 0xa9, 0xe2, 0x82, 0xac]).string()).toBe('é€');
    expect(reader([6, 0xc3, 0xa9, 0xe2, 0x82, 0xac]).compactString()).toBe('é€');
    expect(reader([0xff, 0xff]).nullableString()).toBeNull();
    expect(reader([0]).compactNullableString()).toBeNull();
  });

  test('utf8Length agrees with TextEncoder, surrogates included', () => {
    for (const s of ['', 'abc', 'é', '€', '𝄞', 'a\ud800b', '\udc00', 'x'.repeat(100) + '𝄞']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  test('a long non-ASCII string (TextDecoder path) round-trips', () => {
    const s = 'grüße '.repeat(50);
    const w = new Writer(8);
    w.compactString(s);
    expect(new Reader(w.buf, 0, w.pos).compactString()).toBe(s);
  });

  test('null where not nullable, negative, too long, or lying lengths are refused', () => {
    expect(codeOf(() => reader([0xff, 0xff]).string())).toBe('INVALID_LENGTH');
    expect(codeOf(() => reader([0]).compactString())).toBe('INVALID_LENGTH');
    expect(codeOf(() => reader([0xff, 0xfe]).nullableString())).toBe('INVALID_LENGTH');
    expect(codeOf(() => reader([0x7f, 0xff, 0x61]).string())).toBe('INVALID_LENGTH');
    expect(codeOf(() => reader([0x80, 0x80, 0x02, 0x61]).compactString())).toBe('INVALID_LENGTH'); // 32767 + 1 - 1 > remaining
    expect(codeOf(() => reader([0x81, 0x80, 0x02]).compactString())).toBe('INVALID_LENGTH'); // 32768 > max
  });

  test('writing a string beyond 32767 UTF-8 bytes is INVALID_VALUE', () => {
    expect(codeOf(() => new Writer().string('x'.repeat(32768)))).toBe('INVALID_VALUE');
    expect(codeOf(() => new Writer().compactString('€'.repeat(11000)))).toBe('INVALID_VALUE');
    expect(() => new Writer().string('x'.repeat(32767))).not.toThrow();
  });
});

describe('bytes, records and arrays', () => {
  test('bytes are copies; records are views into the frame', () => {
    const frame = Uint8Array.from([0, 0, 0, 2, 9, 8, 0, 0, 0, 1, 7]);
    const r = new Reader(frame);
    const b = r.bytes();
    const rec = r.records() as Uint8Array;
    expect(b).toEqual(Uint8Array.of(9, 8));
    expect(b.buffer).not.toBe(frame.buffer);
    expect(rec).toEqual(Uint8Array.of(7));
    expect(rec.buffer).toBe(frame.buffer);
  });

  test('null records, and negative bytes lengths', () => {
    expect(reader([0xff, 0xff, 0xff, 0xff]).records()).toBeNull();
    expect(reader([0]).compactRecords()).toBeNull();
    expect(codeOf(() => reader([0xff, 0xff, 0xff, 0xff]).bytes())).toBe('INVALID_LENGTH');
    expect(codeOf(() => reader([0xff, 0xff, 0xff, 0xfe]).nullableBytes())).toBe('INVALID_LENGTH');
    expect(codeOf(() => reader([0, 0, 1, 0, 1, 2]).bytes())).toBe('INVALID_LENGTH');
  });

  test('array counts are checked against the bytes left times the smallest element', () => {
    // 2^31 - 1 elements with 10 bytes left: refused before any allocation.
    expect(codeOf(() => reader([0x7f, 0xff, 0xff, 0xff, ...Array(10).fill(0)]).arrayLength(false, 1))).toBe('INVALID_LENGTH');
    // 3 int32 elements need 12 bytes; 11 are there.
    expect(codeOf(() => reader([0, 0, 0, 3, ...Array(11).fill(0)]).arrayLength(false, 4))).toBe('INVALID_LENGTH');
    expect(reader([0, 0, 0, 3, ...Array(12).fill(0)]).arrayLength(false, 4)).toBe(3);
    // Compact: uvarint 2^32 - 1 means 2^32 - 2 elements.
    expect(codeOf(() => reader([0xff, 0xff, 0xff, 0xff, 0x0f, 0]).compactArrayLength(false, 1))).toBe('INVALID_LENGTH');
    expect(reader([0xff, 0xff, 0xff, 0xff]).arrayLength(true, 4)).toBe(-1);
    expect(codeOf(() => reader([0xff, 0xff, 0xff, 0xff]).arrayLength(false, 4))).toBe('INVALID_LENGTH');
    expect(codeOf(() => reader([0xff, 0xff, 0xff, 0xf0]).arrayLength(true, 4))).toBe('INVALID_LENGTH');
    expect(reader([0]).compactArrayLength(true, 1)).toBe(-1);
  });

  test('uuid: 16 bytes <-> 32 lowercase hex characters; anything else is INVALID_VALUE', () => {
    const hex = '00112233445566778899aabbccddeeff';
    const bytes = written((w) => w.uuid(hex));
    expect(bytes).toEqual([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
    expect(reader(bytes).uuid()).toBe(hex);
    expect(codeOf(() => new Writer().uuid('00112233-4455-6677-8899-aabbccddeeff'))).toBe('INVALID_VALUE');
    expect(codeOf(() => new Writer().uuid(hex.toUpperCase()))).toBe('INVALID_VALUE');
    expect(codeOf(() => reader(bytes.slice(0, 15)).uuid())).toBe('TRUNCATED');
  });
});

describe('Writer frames', () => {
  test('external records become their own part; the size prefix counts them', () => {
    const w = new Writer(8);
    w.beginFrame();
    w.int16(1);
    w.records({ byteLength: 1000 }, false);
    w.int8(5);
    w.records({ byteLength: 7 }, true);
    const parts = w.finishFrame();
    expect(parts).toEqual([Uint8Array.of(0, 0, 0x03, 0xf7, 0, 1, 0, 0, 0x03, 0xe8), { byteLength: 1000 }, Uint8Array.of(5, 8), { byteLength: 7 }]);
    // size = 2 (int16) + 4 (length) + 1000 + 1 (int8) + 1 (uvarint 8) + 7 = 1015 = 0x3f7
    expect(new DataView((parts[0] as Uint8Array).buffer).getInt32(0)).toBe(1015);
  });

  test('the returned frame is a copy that later encodes cannot disturb', () => {
    const w = new Writer(8);
    w.beginFrame();
    w.int32(42);
    const [first] = w.finishFrame() as Uint8Array[];
    w.beginFrame();
    w.int32(7);
    w.finishFrame();
    expect(Array.from(first)).toEqual([0, 0, 0, 4, 0, 0, 0, 42]);
  });
});
