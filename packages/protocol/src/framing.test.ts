import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, FrameReader, ProtocolError } from './index.ts';

/** A size-prefixed frame whose body is `body` bytes of a recognisable pattern. */
function frame(bodyBytes: number, salt = 0): Uint8Array {
  const f = new Uint8Array(4 + bodyBytes);
  new DataView(f.buffer).setInt32(0, bodyBytes);
  for (let i = 0; i < bodyBytes; i++) f[4 + i] = (i * 7 + salt) & 0xff;
  return f;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function drain(reader: FrameReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = reader.next(); f !== null; f = reader.next()) out.push(f);
  return out;
}

function protocolErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code;
  }
  throw new Error('expected a ProtocolError');
}

describe('FrameReader', () => {
  test('defaults to Kafka socket.request.max.bytes (100 MiB)', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(104_857_600);
  });

  test('a frame inside one chunk comes out as a zero-copy view of it', () => {
    const chunk = frame(10);
    const reader = new FrameReader(1000);
    reader.push(chunk);
    const f = reader.next() as Uint8Array;
    expect(f).toEqual(chunk.subarray(4));
    expect(f.buffer).toBe(chunk.buffer);
    expect(f.byteOffset).toBe(4);
    expect(reader.next()).toBeNull();
    expect(reader.bufferedBytes).toBe(0);
  });

  test('a frame split across two chunks at every position', () => {
    const whole = frame(37, 3);
    for (let cut = 0; cut <= whole.length; cut++) {
      const reader = new FrameReader(1000);
      reader.push(whole.subarray(0, cut));
      if (cut < whole.length) expect(reader.next()).toBeNull();
      reader.push(whole.subarray(cut));
      expect(drain(reader)).toEqual([whole.subarray(4)]);
      expect(reader.bufferedBytes).toBe(0);
    }
  });

  test('three frames fed one byte at a time', () => {
    const frames = [frame(5, 1), frame(0), frame(300, 2)];
    const stream = concat(...frames);
    const reader = new FrameReader(1000);
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      reader.push(stream.subarray(i, i + 1));
      expect(reader.bufferedBytes).toBe(i + 1 - got.reduce((n, f) => n + 4 + f.length, 0));
      got.push(...drain(reader));
    }
    expect(got).toEqual(frames.map((f) => f.subarray(4)));
  });

  test('several frames per chunk, the last one split into the next chunk', () => {
    const frames = [frame(3, 1), frame(8, 2), frame(20, 3), frame(6, 4)];
    const stream = concat(...frames);
    const cut = stream.length - 10;
    const reader = new FrameReader(1000);
    reader.push(stream.subarray(0, cut));
    const first = drain(reader);
    expect(first).toEqual(frames.slice(0, 3).map((f) => f.subarray(4)));
    reader.push(stream.subarray(cut));
    expect(drain(reader)).toEqual([frames[3].subarray(4)]);
  });

  test('a zero-length frame is an empty body', () => {
    const reader = new FrameReader(10);
    reader.push(frame(0));
    expect(reader.next()).toEqual(new Uint8Array(0));
  });

  test('a frame of exactly the maximum size is accepted', () => {
    const reader = new FrameReader(64);
    reader.push(frame(64));
    expect(reader.next()).toHaveLength(64);
  });

  test('an oversized frame is refused from its prefix alone, before its body arrives', () => {
    const reader = new FrameReader(64);
    reader.push(frame(65).subarray(0, 4));
    expect(protocolErrorCode(() => reader.next())).toBe('FRAME_TOO_LARGE');
    // The failure sticks: the stream cannot be resynchronised.
    reader.push(new Uint8Array(100));
    expect(protocolErrorCode(() => reader.next())).toBe('FRAME_TOO_LARGE');
  });

  test('an oversized prefix split across chunks is still refused at 4 bytes', () => {
    const reader = new FrameReader(1000);
    const prefix = Uint8Array.of(0x7f, 0xff, 0xff, 0xff);
    reader.push(prefix.subarray(0, 1));
    expect(reader.next()).toBeNull();
    reader.push(prefix.subarray(1, 3));
    expect(reader.next()).toBeNull();
    reader.push(prefix.subarray(3));
    expect(protocolErrorCode(() => reader.next())).toBe('FRAME_TOO_LARGE');
  });

  test('a negative size prefix is INVALID_FRAME_SIZE', () => {
    const reader = new FrameReader(1000);
    reader.push(Uint8Array.of(0xff, 0xff, 0xff, 0xfe));
    expect(protocolErrorCode(() => reader.next())).toBe('INVALID_FRAME_SIZE');
  });

  test('a large frame arriving in many chunks is assembled once, with no early frame', () => {
    const whole = frame(200_000, 9);
    const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
    for (let at = 0; at < whole.length; at += 65536) {
      expect(reader.next()).toBeNull();
      reader.push(whole.subarray(at, at + 65536));
    }
    expect(reader.next()).toEqual(whole.subarray(4));
    expect(reader.bufferedBytes).toBe(0);
  });

  test('rejects a maximum that a 4-byte prefix cannot express', () => {
    expect(() => new FrameReader(2 ** 31)).toThrow(RangeError);
    expect(() => new FrameReader(-1)).toThrow(RangeError);
  });
});
