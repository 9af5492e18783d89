// Comparison of secrets whose duration does not depend on where they first differ, nor on the
// expected secret's length (so a timing probe learns neither a password prefix nor its length).

import { createHash, timingSafeEqual } from 'node:crypto';

/** True when `a` and `b` hold the same bytes; time independent of their contents. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // timingSafeEqual needs equal lengths; comparing fixed-size digests hides the lengths too. Equal
  // digests of unequal inputs would need a SHA-256 collision; the length check settles it anyway.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}
