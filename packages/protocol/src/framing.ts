// Kafka framing: every request and response is a 4-byte big-endian signed size, then that many
// bytes. FrameReader turns a stream of socket chunks into frame bodies.
//
// Memory: chunks are kept as given (no copying while a frame is incomplete); a frame that lies
// inside one chunk comes out as a zero-copy subarray of it, one that spans chunks is copied once
// into its own buffer. The size prefix is checked against the maximum as soon as its 4 bytes are
// in, so an oversized or negative frame is refused before its body is buffered. The caller bounds
// how much it pushes (pause the socket on `bufferedBytes`).

import { ProtocolError } from './errors.ts';

/** Kafka's socket.request.max.bytes default: 100 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

/** One owner (a connection); not for concurrent use. After it throws, it keeps throwing. */
export class FrameReader {
  private maxFrameBytes: number;
  private chunks: Uint8Array[] = [];
  /** Index of the first unconsumed chunk, and the read offset inside it. */
  private head = 0;
  private offset = 0;
  private buffered = 0;
  private failure: ProtocolError | null = null;

  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > 0x7fff_ffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, 2^31), got ${maxFrameBytes}`);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Changes the frame limit for the frames not returned yet (a SASL connection reads with
   * `sasl.server.max.receive.size` until it has authenticated, then with the request limit).
   */
  setMaxFrameBytes(maxFrameBytes: number): void {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > 0x7fff_ffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, 2^31), got ${maxFrameBytes}`);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes pushed and not yet returned as frames (including size prefixes). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame body (without its size prefix), or null when more bytes are needed.
   * Throws ProtocolError FRAME_TOO_LARGE or INVALID_FRAME_SIZE on a bad size prefix.
   */
  next(): Uint8Array | null {
    if (this.failure !== null) throw this.failure;
    if (this.buffered < 4) return null;
    const size = this.peekSize();
    if (size < 0) {
      this.failure = new ProtocolError('INVALID_FRAME_SIZE', `negative frame size ${size}`);
      throw this.failure;
    }
    if (size > this.maxFrameBytes) {
      this.failure = new ProtocolError('FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the ${this.maxFrameBytes}-byte maximum`);
      throw this.failure;
    }
    if (this.buffered < 4 + size) return null;

    const first = this.chunks[this.head];
    let frame: Uint8Array;
    if (first.length - this.offset >= 4 + size) {
      frame = first.subarray(this.offset + 4, this.offset + 4 + size);
      this.consume(4 + size);
    } else {
      this.consume(4);
      frame = new Uint8Array(size);
      this.copyOut(frame);
    }
    return frame;
  }

  /** Reads the big-endian int32 at the read position, which may span chunks. */
  private peekSize(): number {
    const first = this.chunks[this.head];
    const o = this.offset;
    if (first.length - o >= 4) {
      return (first[o] << 24) | (first[o + 1] << 16) | (first[o + 2] << 8) | first[o + 3] | 0;
    }
    let v = 0;
    let idx = this.head;
    let off = o;
    for (let i = 0; i < 4; i++) {
      while (off >= this.chunks[idx].length) {
        idx++;
        off = 0;
      }
      v = (v << 8) | this.chunks[idx][off++];
    }
    return v | 0;
  }

  /** Drops `n` bytes from the front. */
  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const chunk = this.chunks[this.head];
      const left = chunk.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.head++;
      this.offset = 0;
    }
    this.compact();
  }

  /** Moves the next `out.length` bytes into `out`. */
  private copyOut(out: Uint8Array): void {
    let written = 0;
    while (written < out.length) {
      const chunk = this.chunks[this.head];
      const take = Math.min(chunk.length - this.offset, out.length - written);
      out.set(chunk.subarray(this.offset, this.offset + take), written);
      written += take;
      this.offset += take;
      if (this.offset === chunk.length) {
        this.head++;
        this.offset = 0;
      }
    }
    this.buffered -= out.length;
    this.compact();
  }

  /** Releases consumed chunks so the array does not grow without bound. */
  private compact(): void {
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 64) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
