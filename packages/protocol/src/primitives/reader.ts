// Reading Kafka primitive types from a byte range, defensively.
//
// Every read checks the bytes it needs against what is left BEFORE touching or allocating
// anything, so a lying length can never make us allocate in proportion to the lie; every failure
// is a ProtocolError (TRUNCATED: the bytes end inside a value; INVALID_LENGTH: a length or count
// claims more than is left or is negative; INVALID_VARINT: a varint is too long).
//
// Encodings (Kafka protocol guide, "Protocol Primitive Types"):
// - intN / uintN / float64: big-endian, fixed size.
// - unsigned varint: little-endian base-128, 7 bits per byte, high bit = more; at most 5 bytes for
//   32-bit values, 10 for 64-bit. varint / varlong: zig-zag mapped, then unsigned varint.
// - classic string: int16 length (-1 = null) + UTF-8; compact string: uvarint(length + 1), 0 = null.
// - classic bytes / array: int32 length (-1 = null); compact: uvarint(length + 1), 0 = null.
// - uuid: 16 raw bytes; the JS value is 32 lowercase hex characters.

import { ProtocolError } from '../errors.ts';
import { uuidFromBytes } from './uuid.ts';

/** Longest string Kafka accepts (its readers reject lengths above Short.MAX_VALUE). */
export const MAX_STRING_BYTES = 0x7fff;

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** A cursor over `buf[pos, end)`. One reader per decode; not shared between callers. */
export class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws TRUNCATED unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.pos) {
      throw new ProtocolError('TRUNCATED', `needed ${n} bytes, ${this.end - this.pos} left`, this.pos);
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  int8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /**
   * A JS number. Exact for |v| <= 2^53 (every offset and timestamp); values beyond round to the
   * nearest double (Long.MAX_VALUE reads as 2^63, which the writer saturates back to MAX_VALUE).
   */
  int64(): number {
    this.need(8);
    const hi = this.view.getInt32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  float64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  uuid(): string {
    this.need(16);
    const s = uuidFromBytes(this.buf, this.pos);
    this.pos += 16;
    return s;
  }

  /** Unsigned varint of at most 5 bytes, value in [0, 2^32). */
  uvarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    if (pos < end && buf[pos] < 0x80) {
      this.pos = pos + 1;
      return buf[pos];
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (pos >= end) throw new ProtocolError('TRUNCATED', 'varint runs past the end', pos);
      const b = buf[pos++];
      if (i === 4 && b > 0x0f) {
        throw new ProtocolError('INVALID_VARINT', 'unsigned varint does not fit in 32 bits', this.pos);
      }
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
      scale *= 128;
    }
    throw new ProtocolError('INVALID_VARINT', 'varint longer than 5 bytes', this.pos);
  }

  /** Zig-zag signed varint (int32). */
  varint(): number {
    const u = this.uvarint();
    // u < 2^32: (u >>> 1) ^ -(u & 1) in 32-bit arithmetic is the zig-zag inverse.
    return (u >>> 1) ^ -(u & 1);
  }

  /**
   * Zig-zag signed varlong (int64, at most 10 bytes) as a JS number: exact within ±2^53, which
   * covers every record delta and timestamp; larger magnitudes round to the nearest double.
   */
  varlong(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    let value = 0;
    let scale = 1;
    // Up to 7 bytes (49 bits) the double arithmetic is exact; longer ones take the BigInt path.
    for (let i = 0; i < 7; i++) {
      if (pos >= end) throw new ProtocolError('TRUNCATED', 'varlong runs past the end', pos);
      const b = buf[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        // Zig-zag: even -> value / 2, odd -> -(value + 1) / 2. Arithmetic, not bit operators,
        // because the value may exceed 32 bits.
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      }
      scale *= 128;
    }
    let big = BigInt(value);
    for (let i = 7; i < 10; i++) {
      if (pos >= end) throw new ProtocolError('TRUNCATED', 'varlong runs past the end', pos);
      const b = buf[pos++];
      if (i === 9 && b > 0x01) {
        throw new ProtocolError('INVALID_VARINT', 'varlong does not fit in 64 bits', this.pos);
      }
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) {
        this.pos = pos;
        return Number((big >> 1n) ^ -(big & 1n));
      }
    }
    throw new ProtocolError('INVALID_VARINT', 'varlong longer than 10 bytes', this.pos);
  }

  // --- strings -------------------------------------------------------------------------------

  /** Reads `len` bytes (already checked non-negative) as UTF-8. */
  utf8(len: number): string {
    if (len > this.end - this.pos) {
      throw new ProtocolError('INVALID_LENGTH', `string length ${len} exceeds the ${this.end - this.pos} bytes left`, this.pos);
    }
    const buf = this.buf;
    const start = this.pos;
    this.pos = start + len;
    // Short ASCII strings (topic names, client ids) are most of what we see; building them by
    // hand avoids the TextDecoder call overhead that dominates for a dozen bytes.
    if (len <= 32) {
      let s = '';
      for (let i = start; i < start + len; i++) {
        const c = buf[i];
        if (c >= 0x80) return utf8.decode(buf.subarray(start, start + len));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(buf.subarray(start, start + len));
  }

  private stringLength(len: number, nullable: boolean): number {
    if (len < 0) {
      if (len === -1 && nullable) return -1;
      throw new ProtocolError('INVALID_LENGTH', len === -1 ? 'null in a non-nullable string' : `negative string length ${len}`, this.pos);
    }
    if (len > MAX_STRING_BYTES) {
      throw new ProtocolError('INVALID_LENGTH', `string length ${len} exceeds ${MAX_STRING_BYTES}`, this.pos);
    }
    return len;
  }

  string(): string {
    return this.utf8(this.stringLength(this.int16(), false));
  }

  nullableString(): string | null {
    const len = this.stringLength(this.int16(), true);
    return len < 0 ? null : this.utf8(len);
  }

  compactString(): string {
    return this.utf8(this.stringLength(this.uvarint() - 1, false));
  }

  compactNullableString(): string | null {
    const len = this.stringLength(this.uvarint() - 1, true);
    return len < 0 ? null : this.utf8(len);
  }

  // --- bytes and records ---------------------------------------------------------------------

  private bytesLength(len: number, nullable: boolean): number {
    if (len < 0) {
      if (len === -1 && nullable) return -1;
      throw new ProtocolError('INVALID_LENGTH', len === -1 ? 'null in non-nullable bytes' : `negative bytes length ${len}`, this.pos);
    }
    if (len > this.end - this.pos) {
      throw new ProtocolError('INVALID_LENGTH', `bytes length ${len} exceeds the ${this.end - this.pos} bytes left`, this.pos);
    }
    return len;
  }

  /** `len` bytes as a copy: the value may outlive the frame (group metadata is kept). */
  private copy(len: number): Uint8Array {
    const v = this.buf.slice(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** `len` bytes as a zero-copy view into the frame (record sets, the hot path). */
  borrow(len: number): Uint8Array {
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  bytes(): Uint8Array {
    return this.copy(this.bytesLength(this.int32(), false));
  }

  nullableBytes(): Uint8Array | null {
    const len = this.bytesLength(this.int32(), true);
    return len < 0 ? null : this.copy(len);
  }

  compactBytes(): Uint8Array {
    return this.copy(this.bytesLength(this.uvarint() - 1, false));
  }

  compactNullableBytes(): Uint8Array | null {
    const len = this.bytesLength(this.uvarint() - 1, true);
    return len < 0 ? null : this.copy(len);
  }

  /** A record set: nullable, zero-copy. */
  records(): Uint8Array | null {
    const len = this.bytesLength(this.int32(), true);
    return len < 0 ? null : this.borrow(len);
  }

  compactRecords(): Uint8Array | null {
    const len = this.bytesLength(this.uvarint() - 1, true);
    return len < 0 ? null : this.borrow(len);
  }

  // --- arrays ----------------------------------------------------------------------------------

  /**
   * Validates an array count against the bytes left: every element takes at least
   * `minElementBytes` (at least 1 is assumed, so even zero-size elements cannot make a 4-byte
   * count allocate gigabytes). Returns -1 for null (when allowed).
   */
  private arrayCount(n: number, nullable: boolean, minElementBytes: number): number {
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new ProtocolError('INVALID_LENGTH', n === -1 ? 'null in a non-nullable array' : `negative array length ${n}`, this.pos);
    }
    const min = Math.max(minElementBytes, 1);
    if (n * min > this.end - this.pos) {
      throw new ProtocolError('INVALID_LENGTH', `array of ${n} elements cannot fit in the ${this.end - this.pos} bytes left`, this.pos);
    }
    return n;
  }

  arrayLength(nullable: boolean, minElementBytes: number): number {
    return this.arrayCount(this.int32(), nullable, minElementBytes);
  }

  compactArrayLength(nullable: boolean, minElementBytes: number): number {
    return this.arrayCount(this.uvarint() - 1, nullable, minElementBytes);
  }
}
