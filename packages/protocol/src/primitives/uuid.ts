// Kafka uuids (topic ids) are 16 raw bytes on the wire; in JS they are 32 lowercase hex
// characters, no dashes. All zeros is Kafka's "zero uuid" (no id).

import { ProtocolError } from '../errors.ts';

export const ZERO_UUID = '00000000000000000000000000000000';

const hexByte: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidFromBytes(buf: Uint8Array, pos: number): string {
  let s = '';
  for (let i = pos; i < pos + 16; i++) s += hexByte[buf[i]];
  return s;
}

function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10; // a-f
  return -1;
}

/** Writes a 32-char lowercase hex uuid at `buf[pos..pos+16)`; throws INVALID_VALUE otherwise. */
export function uuidToBytes(uuid: string, buf: Uint8Array, pos: number): void {
  if (typeof uuid !== 'string' || uuid.length !== 32) {
    throw new ProtocolError('INVALID_VALUE', `a uuid must be 32 lowercase hex characters, got ${JSON.stringify(uuid)}`);
  }
  for (let i = 0; i < 16; i++) {
    const hi = nibble(uuid.charCodeAt(2 * i));
    const lo = nibble(uuid.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new ProtocolError('INVALID_VALUE', `a uuid must be 32 lowercase hex characters, got ${JSON.stringify(uuid)}`);
    }
    buf[pos + i] = (hi << 4) | lo;
  }
}
