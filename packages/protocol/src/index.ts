// @sluice/protocol: a sans-io Kafka wire codec. Bytes in, objects out, and back; no sockets, no
// files. The broker frames its socket stream with FrameReader, decodes each frame's header and
// body, and encodes responses into frame parts it hands to the connection writer.

import type { MessageSpec } from './spec.ts';
import { decodeBody, decodeBodyPrefix, encodeBody } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { type RequestHeader, readResponseHeader, writeRequestHeader, writeResponseHeader } from './headers.ts';
import { Reader } from './primitives/reader.ts';
import { type FramePart, Writer } from './primitives/writer.ts';
import { requestSpecs, responseSpecs } from './registry.ts';
import { apiKeyName } from './api-keys.ts';
import type { Encodable, RequestOf, ResponseOf } from './message-types.ts';

export type { ExternalRecords, FieldSpec, FieldType, MessageSpec, PrimitiveType, Versions } from './spec.ts';
export { ApiKey, type ApiKeyName, apiKeyName } from './api-keys.ts';
export { ErrorCode, errorByCode, type KafkaError, kafkaErrors, ProtocolError } from './errors.ts';
export { DEFAULT_MAX_FRAME_BYTES, FrameReader } from './framing.ts';
export { decodeRequestHeader, type RequestHeader, requestHeaderVersion, responseHeaderVersion } from './headers.ts';
export { isFlexible, isServed, requestSpecs, responseSpecs } from './registry.ts';
export type { UnknownTaggedField } from './codec.ts';
export { ZERO_UUID } from './primitives/uuid.ts';
// The generated request/response types (one interface per message and nested struct) and the
// API key -> type maps; see scripts/generate-types.ts.
export type * from './generated/messages.ts';
export type { AnyRequest, AnyResponse, Encodable, RequestOf, ResponseOf } from './message-types.ts';
export type { FramePart } from './primitives/writer.ts';
// The big-endian cursor and growable buffer the codec is built on, for the few classic byte
// formats that no message spec describes (ConsumerProtocol blobs, the offsets-topic records).
// Reader checks every length before reading and throws ProtocolError (TRUNCATED, INVALID_LENGTH,
// INVALID_VARINT); Writer throws ProtocolError (INVALID_VALUE) for a string over 32767 bytes.
// Read what Writer wrote with `writer.buf.subarray(0, writer.pos)` (copy it to keep it).
export { Reader } from './primitives/reader.ts';
export { Writer } from './primitives/writer.ts';
// RecordBatch v2 helpers (tests, tools, the CLI's client; the broker itself never decompresses).
export * from './record-batch.ts';
export {
  type BatchRecord,
  type BuildRecordBatchOptions,
  buildRecordBatch,
  type Compression,
  crc32c,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  type ParseRecordBatchesOptions,
  parseRecordBatches,
  RECORD_BATCH_HEADER_BYTES,
  RECORD_BATCH_MAGIC,
  type RecordBatch,
  type RecordBatchHeader,
  type RecordHeader,
  type RecordInput,
  readBatchHeader,
  type TimestampType,
} from './record-batch.ts';
// Control batches: COMMIT / ABORT end-transaction markers.
export * from './record-batch-control.ts';

function specFor(specs: ReadonlyMap<number, MessageSpec>, apiKey: number, apiVersion: number): MessageSpec {
  const spec = specs.get(apiKey);
  if (spec === undefined) throw new ProtocolError('UNKNOWN_API', `API key ${apiKey} (${apiKeyName(apiKey)}) is not served`);
  const [lo, hi] = spec.validVersions;
  if (apiVersion < lo || apiVersion > hi) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `${spec.name} v${apiVersion} is not served (v${lo}-v${hi})`);
  }
  return spec;
}

/** What decodeRequest reports besides the body (the caller owns one and passes it each time). */
export interface RequestDecodeInfo {
  /** Bytes of the frame after the complete body: read by nobody, served as Kafka serves them. */
  trailingBytes: number;
}

/**
 * Decodes a request body. `frame` is what FrameReader returned, `header` what decodeRequestHeader
 * made of it. Record sets come out as zero-copy subarrays of `frame`. Throws ProtocolError only.
 * The body has the generated type of the header's API key (any request when the key's type is
 * just `number`, as a decoded header's is: the caller dispatches on it).
 *
 * Bytes after a complete body are ignored, as Apache Kafka ignores them (its request parsing reads
 * the version's fields and never checks what is left of the frame); their count goes to
 * `info.trailingBytes` when `info` is given. A body that runs past the frame is an error.
 */
export function decodeRequest<K extends number>(header: RequestHeader & { readonly apiKey: K }, frame: Uint8Array, info?: RequestDecodeInfo): RequestOf<K> {
  const spec = specFor(requestSpecs, header.apiKey, header.apiVersion);
  const { body, trailingBytes } = decodeBodyPrefix<RequestOf<K>>(spec, header.apiVersion, frame, header.bodyOffset, frame.length);
  if (info !== undefined) info.trailingBytes = trailingBytes;
  return body;
}

// One scratch writer, reused by every encode (encodes are synchronous, so never concurrent).
// After an unusually large frame it is replaced, so one big response does not pin its buffer.
const SCRATCH_KEEP_BYTES = 1 << 20;
let scratch = new Writer(64 * 1024);

function releaseScratch(): void {
  if (scratch.capacity > SCRATCH_KEEP_BYTES) scratch = new Writer(64 * 1024);
}

/**
 * Encodes a complete response frame (size prefix, header, body). Returns one Uint8Array, or —
 * when the body holds ExternalRecords — bytes and ExternalRecords parts interleaved in wire order;
 * the size prefix covers them all. The returned bytes are owned by the caller.
 */
export function encodeResponse<K extends number>(apiKey: K, apiVersion: number, correlationId: number, body: Encodable<ResponseOf<K>>): FramePart[] {
  const spec = specFor(responseSpecs, apiKey, apiVersion);
  const w = scratch;
  try {
    w.beginFrame();
    writeResponseHeader(w, apiKey, apiVersion, correlationId);
    encodeBody(spec, apiVersion, w, body);
    return w.finishFrame();
  } finally {
    releaseScratch();
  }
}

/** Encodes a complete request frame, size prefix included (for tests and the CLI's client). */
export function encodeRequest<K extends number>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: Encodable<RequestOf<K>>,
): Uint8Array {
  const spec = specFor(requestSpecs, apiKey, apiVersion);
  const w = scratch;
  try {
    w.beginFrame();
    writeRequestHeader(w, apiKey, apiVersion, correlationId, clientId);
    encodeBody(spec, apiVersion, w, body);
    return w.finishFrameBytes();
  } finally {
    releaseScratch();
  }
}

/** Decodes a response frame (without its size prefix). Throws ProtocolError only. */
export function decodeResponse<K extends number>(apiKey: K, apiVersion: number, frame: Uint8Array): { correlationId: number; body: ResponseOf<K> } {
  const spec = specFor(responseSpecs, apiKey, apiVersion);
  const r = new Reader(frame);
  const correlationId = readResponseHeader(r, apiKey, apiVersion);
  return { correlationId, body: decodeBody<ResponseOf<K>>(spec, apiVersion, frame, r.pos, frame.length) };
}
