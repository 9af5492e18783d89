// Request and response headers.
//
// Request header v1: apiKey int16, apiVersion int16, correlationId int32, clientId nullable string
// (classic int16 length, even in v2). v2 (flexible request versions) adds a tagged-field section.
// Response header v0: correlationId int32. v1 (flexible response versions) adds tagged fields.
//
// Special case, by hand and on purpose: an ApiVersions response always uses header v0, whatever
// the request version. A client that does not yet know which versions the broker speaks must be
// able to read the answer, including the UNSUPPORTED_VERSION one (KIP-511).

import { ApiKey } from './api-keys.ts';
import { ProtocolError } from './errors.ts';
import { Reader } from './primitives/reader.ts';
import type { Writer } from './primitives/writer.ts';
import { isFlexible } from './registry.ts';

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly headerVersion: 1 | 2;
  /** Offset of the request body in the frame. */
  readonly bodyOffset: number;
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  return isFlexible(apiKey, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === ApiKey.ApiVersions) return 0; // always v0: see the file comment
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}

/** Skips a tagged-field section whose fields we do not know (headers define none we use). */
function skipTaggedFields(r: Reader): void {
  for (let n = r.uvarint(); n > 0; n--) {
    r.uvarint(); // tag
    const size = r.uvarint();
    if (size > r.remaining) {
      throw new ProtocolError('INVALID_LENGTH', `tagged field of ${size} bytes exceeds the ${r.remaining} bytes left`, r.pos);
    }
    r.pos += size;
  }
}

/**
 * Decodes the request header of a frame (the bytes after the size prefix). The header version
 * follows from (apiKey, apiVersion); for an API or version we do not serve, apiKey, apiVersion and
 * correlationId still come back so the broker can answer with an error.
 */
export function decodeRequestHeader(frame: Uint8Array): RequestHeader {
  const r = new Reader(frame);
  try {
    const apiKey = r.int16();
    const apiVersion = r.int16();
    const correlationId = r.int32();
    const clientId = r.nullableString();
    const headerVersion = requestHeaderVersion(apiKey, apiVersion);
    if (headerVersion === 2) skipTaggedFields(r);
    return { apiKey, apiVersion, correlationId, clientId, headerVersion, bodyOffset: r.pos };
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('MALFORMED', `request header: ${(e as Error)?.message ?? String(e)}`, r.pos, { cause: e });
  }
}

export function writeRequestHeader(w: Writer, apiKey: number, apiVersion: number, correlationId: number, clientId: string | null): void {
  w.int16(apiKey);
  w.int16(apiVersion);
  w.int32(correlationId);
  w.string(clientId);
  if (requestHeaderVersion(apiKey, apiVersion) === 2) w.uvarint(0);
}

export function writeResponseHeader(w: Writer, apiKey: number, apiVersion: number, correlationId: number): void {
  w.int32(correlationId);
  if (responseHeaderVersion(apiKey, apiVersion) === 1) w.uvarint(0);
}

/** Reads a response header; returns the correlation id and leaves `r` at the body. */
export function readResponseHeader(r: Reader, apiKey: number, apiVersion: number): number {
  const correlationId = r.int32();
  if (responseHeaderVersion(apiKey, apiVersion) === 1) skipTaggedFields(r);
  return correlationId;
}
