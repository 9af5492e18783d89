// Writing Kafka primitive types into a growable buffer, and cutting the result into frame parts.
//
// The writer trusts its arguments' types (the codec validates values against the message
// description, with field names in its errors); it checks only what it alone can see: string and
// bytes lengths against their wire limits. Encodings are described in reader.ts.
//
// External records: a record set that lives in a segment file is not copied. `records(ext)` writes
// its length prefix and notes a cut; `finishFrame()` returns [bytes, ext, bytes, ...] whose total
// length (bytes plus every ext.byteLength) is written as the 4-byte frame size prefix.

import type { ExternalRecords } from '../spec.ts';
import { ProtocolError } from '../errors.ts';
import { MAX_STRING_BYTES } from './reader.ts';
import { uuidToBytes } from './uuid.ts';

const utf8 = new TextEncoder();

/** Largest frame a 4-byte signed size prefix can describe. */
const MAX_FRAME_BYTES = 0x7fff_ffff;

export type FramePart = Uint8Array | ExternalRecords;

function isExternal(v: unknown): v is ExternalRecords {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && typeof (v as ExternalRecords).byteLength === 'number';
}

/** UTF-8 byte length of a JS string (lone surrogates count as U+FFFD, 3 bytes, as encodeInto writes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** A single-owner, growable output buffer. Not shared between concurrent encodes. */
export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  private cuts: Array<{ at: number; records: ExternalRecords }> = [];
  private externalBytes = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** Forget everything written, keeping the buffer (for reuse by the next encode). */
  reset(): void {
    this.pos = 0;
    this.cuts.length = 0;
    this.externalBytes = 0;
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    if (need > MAX_FRAME_BYTES) {
      throw new ProtocolError('FRAME_TOO_LARGE', `encoded frame would exceed ${MAX_FRAME_BYTES} bytes`);
    }
    const next = new Uint8Array(Math.min(size, MAX_FRAME_BYTES + 8));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int8(v: number): void {
    this.ensure(1);
    this.view.setInt8(this.pos++, v);
  }

  int16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  /** v in [-2^63, 2^63]; 2^63 (how Long.MAX_VALUE reads back as a double) saturates to MAX_VALUE. */
  int64(v: number): void {
    this.ensure(8);
    if (v >= 0x8000_0000_0000_0000) {
      this.view.setUint32(this.pos, 0x7fff_ffff);
      this.view.setUint32(this.pos + 4, 0xffff_ffff);
    } else {
      const hi = Math.floor(v / 0x1_0000_0000);
      this.view.setInt32(this.pos, hi);
      this.view.setUint32(this.pos + 4, v - hi * 0x1_0000_0000);
    }
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  uuid(v: string): void {
    this.ensure(16);
    uuidToBytes(v, this.buf, this.pos);
    this.pos += 16;
  }

  /** Unsigned varint, v in [0, 2^32). */
  uvarint(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  /** Zig-zag varint, v an int32. */
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zig-zag varlong, v an int64 value (exact when |v| <= 2^53, as every JS integer is). */
  varlong(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (v <= 0x10_0000_0000_0000 && v >= -0x10_0000_0000_0000) {
      // |v| <= 2^52: the zig-zag value fits in 53 bits, so double arithmetic is exact.
      let u = v >= 0 ? v * 2 : -v * 2 - 1;
      while (u >= 0x80) {
        buf[this.pos++] = (u % 128) | 0x80;
        u = Math.floor(u / 128);
      }
      buf[this.pos++] = u;
      return;
    }
    // Saturate like int64(): 2^63 is how Long.MAX_VALUE reads back as a double.
    const b = v >= 2 ** 63 ? 0x7fff_ffff_ffff_ffffn : v <= -(2 ** 63) ? -0x8000_0000_0000_0000n : BigInt(v);
    let u = BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
    while (u >= 0x80n) {
      buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[this.pos++] = Number(u);
  }

  /** Raw bytes, no length prefix. */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  // --- strings -------------------------------------------------------------------------------

  /**
   * Writes the UTF-8 bytes of `s` at `pos` (room for s.length * 3 bytes must exist) and returns
   * the byte count. ASCII is copied by hand: short names dominate and encodeInto's call cost
   * exceeds the copy.
   */
  private utf8At(s: string, pos: number): number {
    const buf = this.buf;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return utf8.encodeInto(s, buf.subarray(pos)).written;
      buf[pos + i] = c;
    }
    return n;
  }

  private tooLong(len: number): never {
    throw new ProtocolError('INVALID_VALUE', `string of ${len} UTF-8 bytes exceeds the ${MAX_STRING_BYTES}-byte limit`);
  }

  /** Classic string (int16 length); null writes -1 (the codec decides whether null is allowed). */
  string(s: string | null): void {
    if (s === null) {
      this.int16(-1);
      return;
    }
    this.ensure(2 + s.length * 3);
    const len = this.utf8At(s, this.pos + 2);
    if (len > MAX_STRING_BYTES) this.tooLong(len);
    this.view.setInt16(this.pos, len);
    this.pos += 2 + len;
  }

  /** Compact string (uvarint length + 1); null writes 0. */
  compactString(s: string | null): void {
    if (s === null) {
      this.uvarint(0);
      return;
    }
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    const len = ascii ? s.length : utf8Length(s);
    if (len > MAX_STRING_BYTES) this.tooLong(len);
    this.uvarint(len + 1);
    this.ensure(s.length * 3);
    this.pos += this.utf8At(s, this.pos);
  }

  // --- bytes and records ---------------------------------------------------------------------

  /** Classic bytes (int32 length); null writes -1. */
  bytes(v: Uint8Array | null): void {
    if (v === null) {
      this.int32(-1);
      return;
    }
    this.int32(v.length);
    this.raw(v);
  }

  compactBytes(v: Uint8Array | null): void {
    if (v === null) {
      this.uvarint(0);
      return;
    }
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  /** A record set: inline bytes, an external part (length prefix only), or null. */
  records(v: Uint8Array | ExternalRecords | null, compact: boolean): void {
    if (v === null || v instanceof Uint8Array) {
      if (compact) this.compactBytes(v);
      else this.bytes(v);
      return;
    }
    if (!isExternal(v)) {
      throw new ProtocolError('INVALID_VALUE', 'records must be a Uint8Array, an ExternalRecords or null');
    }
    const n = v.byteLength;
    if (!Number.isInteger(n) || n < 0 || n > MAX_FRAME_BYTES) {
      throw new ProtocolError('INVALID_VALUE', `external records byteLength ${n} is not a valid length`);
    }
    if (compact) this.uvarint(n + 1);
    else this.int32(n);
    this.cuts.push({ at: this.pos, records: v });
    this.externalBytes += n;
  }

  // --- arrays ----------------------------------------------------------------------------------

  /** Classic array length; null (n = -1) allowed by the caller. */
  arrayLength(n: number): void {
    this.int32(n);
  }

  compactArrayLength(n: number): void {
    this.uvarint(n + 1);
  }

  // --- frames ----------------------------------------------------------------------------------

  /** Reserves the 4-byte frame size prefix; call first. */
  beginFrame(): void {
    this.reset();
    this.ensure(4);
    this.pos = 4;
  }

  /**
   * Writes the size prefix and returns the frame as parts: a single copied Uint8Array when there
   * are no external records, else bytes and ExternalRecords interleaved in wire order.
   */
  finishFrame(): FramePart[] {
    const total = this.pos - 4 + this.externalBytes;
    if (total > MAX_FRAME_BYTES) {
      throw new ProtocolError('FRAME_TOO_LARGE', `encoded frame of ${total} bytes exceeds ${MAX_FRAME_BYTES}`);
    }
    this.view.setInt32(0, total);
    const out = this.buf.slice(0, this.pos);
    if (this.cuts.length === 0) return [out];
    const parts: FramePart[] = [];
    let from = 0;
    for (const cut of this.cuts) {
      if (cut.at > from) parts.push(out.subarray(from, cut.at));
      parts.push(cut.records);
      from = cut.at;
    }
    if (from < out.length) parts.push(out.subarray(from));
    return parts;
  }

  /** Like finishFrame, for callers that cannot carry external parts (requests, tests). */
  finishFrameBytes(): Uint8Array {
    if (this.cuts.length > 0) {
      throw new ProtocolError('INVALID_VALUE', 'external records cannot be flattened into one buffer');
    }
    return this.finishFrame()[0] as Uint8Array;
  }
}
