// The classic (non-flexible) encodings the client builds by hand: Kafka's ConsumerProtocol
// subscription/assignment blobs, which live inside JoinGroup and SyncGroup `bytes` fields and are
// therefore not described by the protocol package's specs. The bytes are read and written with
// the protocol package's Reader and Writer; what is kept here is how these blobs differ from the
// codec's strict wire rules, following Kafka's generated ConsumerProtocol readers: any negative
// length or count means null (the caller decides whether null is allowed), and every failure to
// decode is a MalformedBytesError.
// Encodings: intN big-endian; string = int16 length (-1 null) + UTF-8; bytes = int32 length (-1 null);
// array = int32 count.

import { ProtocolError, Reader, Writer } from '@sluice/protocol';

/** Thrown when a blob is shorter than its own lengths say, or a length is negative where it may not be. */
export class MalformedBytesError extends Error {
  readonly position: number;
  constructor(message: string, position: number, options?: { cause?: unknown }) {
    super(`${message} (at byte ${position})`, options);
    this.name = 'MalformedBytesError';
    this.position = position;
  }
}

/**
 * Runs `write` on a fresh Writer and returns a copy of what it wrote. A string over 32767 UTF-8
 * bytes (the Writer's ProtocolError) is a RangeError: the caller passed a value that cannot be
 * encoded.
 */
export function encodeBlob(write: (w: Writer) => void): Uint8Array {
  const w = new Writer(64);
  try {
    write(w);
  } catch (e) {
    if (e instanceof ProtocolError) throw new RangeError(e.message, { cause: e });
    throw e;
  }
  return w.buf.slice(0, w.pos);
}

/** Writes an int32 count, then each item with `write`. */
export function writeArray<T>(w: Writer, items: readonly T[], write: (item: T) => void): void {
  w.arrayLength(items.length);
  for (const item of items) write(item);
}

// ProtocolError already ends its message with the position; MalformedBytesError adds its own.
const AT_BYTE_SUFFIX = / \(at byte \d+\)$/;

/**
 * Reads `bytes` with `read` (trailing bytes are allowed: newer versions append fields). The
 * Reader's ProtocolError (the blob ends inside a value) becomes a MalformedBytesError.
 */
export function decodeBlob<T>(bytes: Uint8Array, read: (r: Reader) => T): T {
  const r = new Reader(bytes);
  try {
    return read(r);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    throw new MalformedBytesError(e.message.replace(AT_BYTE_SUFFIX, ''), e.offset ?? r.pos, { cause: e });
  }
}

/** An int16-length string; any negative length is null. */
export function readString(r: Reader): string | null {
  const n = r.int16();
  return n < 0 ? null : r.utf8(n);
}

/** Int32-length bytes, a view into the blob; any negative length is null. */
export function readBytes(r: Reader): Uint8Array | null {
  const n = r.int32();
  if (n < 0) return null;
  r.need(n);
  return r.borrow(n);
}

/** Reads an int32 count (null when negative), then each item with `read`. */
export function readArray<T>(r: Reader, read: () => T): T[] | null {
  const start = r.pos;
  const n = r.int32();
  if (n < 0) return null;
  // Every element takes at least one byte, so a count above what is left is a lie: refuse it
  // before allocating.
  if (n > r.remaining) throw new MalformedBytesError(`array count ${n} exceeds the ${r.remaining} bytes left`, start);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read());
  return out;
}
