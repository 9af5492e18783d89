// Byte helpers for the client's unit tests.

/** The parts joined into one new Uint8Array (a plain one, not a Buffer, like the code under test sees). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
