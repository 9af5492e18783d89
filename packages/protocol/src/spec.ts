// The declarative description of a Kafka message, written by us from the protocol specification.
// Every message the broker serves is described once in src/messages/<name>.ts with these types;
// the codec (src/codec.ts) is derived from the description, never hand-written per version.
//
// Conventions, mirroring the specification's own message descriptions:
// - Field names are the specification's names in camelCase (`TopicName` -> `topicName`), and the
//   decoded JS object uses exactly these names.
// - Version ranges use the specification's syntax: '0+', '3-5', '4' (a single version), 'none'.
// - A field absent in the version being decoded takes its default; a field absent in the version
//   being encoded is skipped (a non-default value there is the caller's mistake, not ours to fix).

/** A version range string: 'N+', 'N-M', 'N' or 'none'. */
export type Versions = string;

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'uuid' // 16 bytes; JS value: 32-char lowercase hex string, all zeros = the null/zero uuid
  | 'string' // classic: int16 length; flexible: compact (uvarint length + 1)
  | 'bytes' // classic: int32 length; flexible: compact; JS value: Uint8Array
  | 'records'; // like nullable bytes; opaque. JS value: Uint8Array | ExternalRecords | null

/** A field's type: a primitive, an array of primitives, an array of structs, or a single struct. */
export type FieldType =
  | PrimitiveType
  | { readonly arrayOf: PrimitiveType }
  | { readonly arrayOfStruct: readonly FieldSpec[] }
  | { readonly struct: readonly FieldSpec[] };

export interface FieldSpec {
  /** camelCase name, the JS property. */
  readonly name: string;
  readonly type: FieldType;
  /** Versions in which the field is present. */
  readonly versions: Versions;
  /** Versions in which the field may be null (strings, bytes, records, arrays, structs). */
  readonly nullableVersions?: Versions;
  /** Versions in which the field is a tagged field (flexible versions only), with its tag. */
  readonly taggedVersions?: Versions;
  readonly tag?: number;
  /**
   * Value used when the field is absent in a version, or omitted (tagged) on the wire.
   * Without it: numbers 0 (int64 is a JS number: offsets and timestamps stay below 2^53), bool false, string '', bytes empty, arrays [], uuid zero,
   * nullable fields null, structs built from their own fields' defaults.
   */
  readonly default?: unknown;
  /** The specification's "ignorable": dropping it when encoding an older version is not an error. */
  readonly ignorable?: boolean;
  /** Used only by documentation and tooling; the codec ignores it. */
  readonly about?: string;
}

export interface MessageSpec {
  readonly apiKey: number;
  /** The specification's name without the Request/Response suffix, e.g. 'Produce'. */
  readonly name: string;
  readonly type: 'request' | 'response';
  /** Versions this codec serves, inclusive. */
  readonly validVersions: readonly [number, number];
  /** First flexible version, or null when no served version is flexible. */
  readonly flexibleVersions: number | null;
  readonly fields: readonly FieldSpec[];
}

/**
 * A record set that lives outside the encoded buffer (a file range in a segment). The encoder
 * writes its length prefix and leaves a gap of `byteLength` bytes; the caller sends the parts.
 */
export interface ExternalRecords {
  readonly byteLength: number;
}
