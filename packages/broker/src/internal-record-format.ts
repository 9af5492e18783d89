// What the internal topics' record formats (__consumer_offsets, __transaction_state) share: their
// fields are the protocol's big-endian primitives (its Reader and Writer), strings must be valid
// UTF-8, and a record is encoded into a fresh buffer of its own.

import { ProtocolError, Writer } from '@sluice/protocol';

// ignoreBOM: a leading U+FEFF is part of the string (an id may start with one), not a mark to
// strip; the encoders write it like any other character.
export const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Runs `write` on a fresh Writer and returns a copy of what it wrote; `what` names the record kind. */
export function encodeRecord(what: string, write: (w: Writer) => void): Uint8Array {
  const w = new Writer(64);
  try {
    write(w);
  } catch (e) {
    // The Writer refuses strings over 32767 UTF-8 bytes. Ids, topics and metadata are bounded well
    // below that by the protocol's own int16 string lengths; a longer one here is a bug upstream.
    if (e instanceof ProtocolError) throw new Error(`BUG: ${e.message} in a ${what} record`, { cause: e });
    throw e;
  }
  return w.buf.slice(0, w.pos);
}
