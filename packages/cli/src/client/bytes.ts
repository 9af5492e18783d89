// Small big-endian byte writer/reader for the classic (non-flexible) encodings the CLI builds by
// hand: Kafka's ConsumerProtocol subscription/assignment blobs, which live inside JoinGroup and
// SyncGroup `bytes` fields and are therefore not described by the protocol package's specs.
// Encodings: intN big-endian; string = int16 length (-1 null) + UTF-8; bytes = int32 length (-1 null);
// array = int32 count.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** Thrown when a blob is shorter than its own lengths say, or a length is negative where it may not be. */
export class MalformedBytesError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} (at byte ${position})`);
    this.name = 'MalformedBytesError';
    this.position = position;
  }
}

export class ByteWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int16(v: number): this {
    this.reserve(2);
    this.view.setInt16(this.len, v);
    this.len += 2;
    return this;
  }

  int32(v: number): this {
    this.reserve(4);
    this.view.setInt32(this.len, v);
    this.len += 4;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const b = encoder.encode(s);
    if (b.length > 0x7fff) throw new RangeError(`string of ${b.length} bytes is longer than 32767`);
    return this.int16(b.length).raw(b);
  }

  bytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1);
    return this.int32(b.length).raw(b);
  }

  /** Writes an int32 count, then each item with `write`. */
  array<T>(items: readonly T[], write: (item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(item);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class ByteReader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n > this.buf.length - this.pos) {
      throw new MalformedBytesError(`needed ${n} bytes, ${this.buf.length - this.pos} left`, this.pos);
    }
  }

  int16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = decoder.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  bytes(): Uint8Array | null {
    const n = this.int32();
    if (n < 0) return null;
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Reads an int32 count (null when -1), then each item with `read`. */
  array<T>(read: () => T): T[] | null {
    const start = this.pos;
    const n = this.int32();
    if (n < 0) return null;
    // Every element takes at least one byte, so a count above what is left is a lie: refuse it
    // before allocating.
    if (n > this.remaining) throw new MalformedBytesError(`array count ${n} exceeds the ${this.remaining} bytes left`, start);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read());
    return out;
  }
}
