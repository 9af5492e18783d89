// The derived codec: from one MessageSpec and one version, a decoder and an encoder.
//
// How: the spec is first resolved for the version into a plan (which fields are on the wire, in
// which order, which are tagged, which are absent and take their default, what is nullable, and
// the fewest bytes each struct can occupy). The plan is then compiled with `new Function` into
// straight-line JavaScript — one function per struct, no per-field version checks or type
// switches left at run time. Compilation happens on first use of a (message, version) and is
// cached. bench/codec.bench.ts measured this against an interpreter walking the same plan (the
// interpreter lives there as the baseline); see the README for the figures that decided it.
//
// The generated source only ever contains: identifiers we make up (d0, e1, f2 ...), JSON-quoted
// property names, and references into a constants array; spec values are never spliced in as
// code, so a field name cannot inject anything.
//
// Decoded objects carry every field of the description (absent ones with their default) in the
// description's order; unknown tagged fields are kept as `_unknownTaggedFields` (only when there
// were some) and written back on encode. On encode, an `undefined` field takes its default.

import type { FieldSpec, MessageSpec, PrimitiveType } from './spec.ts';
import { ProtocolError } from './errors.ts';
import { Reader } from './primitives/reader.ts';
import type { Writer } from './primitives/writer.ts';
import { ZERO_UUID } from './primitives/uuid.ts';
import { inVersions, isNonEmpty } from './primitives/versions.ts';

/** An unknown tagged field, preserved byte for byte. */
export interface UnknownTaggedField {
  readonly tag: number;
  readonly data: Uint8Array;
}

export const UNKNOWN_TAGGED_FIELDS = '_unknownTaggedFields';

// --- the plan ------------------------------------------------------------------------------------

export type FieldKind = PrimitiveType | 'array' | 'struct';
export type FieldMode = 'wire' | 'tagged' | 'absent';

export interface FieldPlan {
  readonly spec: FieldSpec;
  readonly name: string;
  /** Where the field is, for error messages: 'Produce v9 topicData[].name'. */
  readonly path: string;
  readonly kind: FieldKind;
  /** Element type of an array of primitives. */
  readonly element: PrimitiveType | null;
  /** The struct of a struct field or of an array of structs. */
  readonly struct: StructPlan | null;
  /** Nullable in this version. */
  readonly nullable: boolean;
  readonly mode: FieldMode;
  /** The tag, when mode is 'tagged'. */
  readonly tag: number;
}

export interface StructPlan {
  readonly path: string;
  readonly flexible: boolean;
  /** Every field of the description, in description order. */
  readonly fields: readonly FieldPlan[];
  /** Fewest bytes one instance occupies on the wire (for array-count sanity checks). */
  readonly minBytes: number;
}

export interface MessagePlan extends StructPlan {
  readonly spec: MessageSpec;
  readonly version: number;
}

function kindOf(f: FieldSpec): { kind: FieldKind; element: PrimitiveType | null; structFields: readonly FieldSpec[] | null } {
  const t = f.type;
  if (typeof t === 'string') return { kind: t, element: null, structFields: null };
  if ('arrayOf' in t) return { kind: 'array', element: t.arrayOf, structFields: null };
  if ('arrayOfStruct' in t) return { kind: 'array', element: null, structFields: t.arrayOfStruct };
  return { kind: 'struct', element: null, structFields: t.struct };
}

export function primitiveMinBytes(kind: PrimitiveType, flexible: boolean): number {
  switch (kind) {
    case 'bool':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return flexible ? 1 : 2;
    case 'bytes':
    case 'records':
      return flexible ? 1 : 4;
  }
}

function fieldMinBytes(p: FieldPlan, flexible: boolean): number {
  if (p.mode !== 'wire') return 0;
  if (p.kind === 'array') return flexible ? 1 : 4;
  if (p.kind === 'struct') return p.nullable ? 1 : (p.struct as StructPlan).minBytes;
  return primitiveMinBytes(p.kind, flexible);
}

function planStruct(fields: readonly FieldSpec[], version: number, flexible: boolean, path: string): StructPlan {
  const plans: FieldPlan[] = [];
  let minBytes = flexible ? 1 : 0; // the tagged-field count
  for (const f of fields) {
    const { kind, element, structFields } = kindOf(f);
    const present = inVersions(f.versions, version);
    const tagged = present && flexible && f.taggedVersions !== undefined && inVersions(f.taggedVersions, version);
    const mode: FieldMode = !present ? 'absent' : tagged ? 'tagged' : 'wire';
    const fieldPath = `${path}${f.name}`;
    const struct = structFields === null ? null : planStruct(structFields, version, flexible, kind === 'array' ? `${fieldPath}[].` : `${fieldPath}.`);
    const plan: FieldPlan = {
      spec: f,
      name: f.name,
      path: fieldPath,
      kind,
      element,
      struct,
      nullable: kind === 'records' || inVersions(f.nullableVersions, version),
      mode,
      tag: tagged ? (f.tag as number) : -1,
    };
    plans.push(plan);
    minBytes += fieldMinBytes(plan, flexible);
  }
  return { path, flexible, fields: plans, minBytes };
}

export function planMessage(spec: MessageSpec, version: number): MessagePlan {
  const flexible = spec.flexibleVersions !== null && version >= spec.flexibleVersions;
  const struct = planStruct(spec.fields, version, flexible, `${spec.name}${spec.type === 'request' ? 'Request' : 'Response'} v${version} `);
  return { ...struct, spec, version };
}

// --- defaults ------------------------------------------------------------------------------------

/** Nullable in some version (decides whether the implicit default is null). */
function everNullable(f: FieldSpec): boolean {
  return f.type === 'records' || isNonEmpty(f.nullableVersions);
}

/** The value a field takes when absent (fresh: arrays, bytes and structs are new objects). */
export function defaultValue(f: FieldSpec): unknown {
  if (f.default !== undefined) {
    const d = f.default;
    if (Array.isArray(d)) return [...d];
    if (d instanceof Uint8Array) return d.slice();
    return d;
  }
  if (everNullable(f)) return null;
  return zeroValue(f);
}

/** The type's own zero: what a non-nullable field holds when nothing else is said. */
function zeroValue(f: FieldSpec): unknown {
  const { kind, structFields } = kindOf(f);
  switch (kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    case 'array':
      return [];
    case 'struct':
      return defaultStruct(structFields as readonly FieldSpec[]);
    default:
      return 0;
  }
}

export function defaultStruct(fields: readonly FieldSpec[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) o[f.name] = defaultValue(f);
  return o;
}

/** The value written for an `undefined` field: its default, or the zero when null is not allowed. */
function encodeDefault(p: FieldPlan): unknown {
  const d = defaultValue(p.spec);
  return d === null && !p.nullable ? zeroValue(p.spec) : d;
}

/** Deep equality against a field's default, for deciding whether a tagged field is written. */
export function isDefault(value: unknown, f: FieldSpec): boolean {
  return sameValue(value, defaultValue(f));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  const ka = Object.keys(a).filter((k) => k !== UNKNOWN_TAGGED_FIELDS);
  for (const k of ka) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  const ua = (a as Record<string, unknown>)[UNKNOWN_TAGGED_FIELDS] as unknown[] | undefined;
  return ua === undefined || ua.length === 0;
}

// --- run-time helpers the generated code calls ---------------------------------------------------

function describe(x: unknown): string {
  if (x instanceof Uint8Array) return `Uint8Array(${x.length})`;
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (Array.isArray(x)) return `array(${x.length})`;
  if (typeof x === 'object' && x !== null) return 'object';
  return String(x);
}

const helpers = {
  bad(what: string, x: unknown): never {
    throw new ProtocolError('INVALID_VALUE', `${what}: cannot encode ${describe(x)}`);
  },

  /** Validates a tagged field's size and narrows the reader to it; returns the outer end. */
  enterTagged(r: Reader, size: number): number {
    if (size > r.end - r.pos) {
      throw new ProtocolError('INVALID_LENGTH', `tagged field of ${size} bytes exceeds the ${r.end - r.pos} bytes left`, r.pos);
    }
    const end = r.end;
    r.end = r.pos + size;
    return end;
  },

  leaveTagged(r: Reader, outerEnd: number, tag: number): void {
    if (r.pos !== r.end) {
      throw new ProtocolError('INVALID_TAGGED_FIELD', `tagged field ${tag} has ${r.end - r.pos} bytes left over`, r.pos);
    }
    r.end = outerEnd;
  },

  unknownTagged(r: Reader, o: Record<string, unknown>, tag: number, size: number): void {
    if (size > r.end - r.pos) {
      throw new ProtocolError('INVALID_LENGTH', `tagged field of ${size} bytes exceeds the ${r.end - r.pos} bytes left`, r.pos);
    }
    const data = r.buf.slice(r.pos, r.pos + size);
    r.pos += size;
    let list = o[UNKNOWN_TAGGED_FIELDS] as UnknownTaggedField[] | undefined;
    if (list === undefined) o[UNKNOWN_TAGGED_FIELDS] = list = [];
    list.push({ tag, data });
  },

  /**
   * Writes a struct's tagged-field section: known tagged fields whose value differs from the
   * default, plus preserved unknown ones, in ascending tag order (as Kafka writes them).
   */
  writeTagged(w: Writer, v: Record<string, unknown>, known: readonly TaggedWriter[], what: string): void {
    const entries: Array<{ tag: number; known: TaggedWriter | null; value: unknown }> = [];
    for (const k of known) {
      const x = v[k.name];
      if (!k.isDefault(x)) entries.push({ tag: k.tag, known: k, value: x });
    }
    const unknown = v[UNKNOWN_TAGGED_FIELDS];
    if (unknown !== undefined) {
      if (!Array.isArray(unknown)) helpers.bad(`${what}${UNKNOWN_TAGGED_FIELDS}`, unknown);
      for (const u of unknown as UnknownTaggedField[]) {
        if (typeof u !== 'object' || u === null || !Number.isInteger(u.tag) || u.tag < 0 || u.tag > 0x7fff_ffff || !(u.data instanceof Uint8Array)) {
          helpers.bad(`${what}${UNKNOWN_TAGGED_FIELDS}[]`, u);
        }
        entries.push({ tag: u.tag, known: null, value: u.data });
      }
    }
    entries.sort((a, b) => a.tag - b.tag);
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].tag === entries[i - 1].tag) {
        throw new ProtocolError('INVALID_VALUE', `${what}: tagged field ${entries[i].tag} given twice`);
      }
    }
    w.uvarint(entries.length);
    for (const e of entries) {
      w.uvarint(e.tag);
      if (e.known === null) {
        const data = e.value as Uint8Array;
        w.uvarint(data.length);
        w.raw(data);
      } else {
        writeSized(w, e.known.write, e.value);
      }
    }
  },
};

const runtime = { ...helpers, isDefault };

export interface TaggedWriter {
  readonly tag: number;
  readonly name: string;
  readonly write: (w: Writer, x: unknown) => void;
  readonly isDefault: (x: unknown) => boolean;
}

/** Writes uvarint(size) + value without knowing the size up front: assume 1 byte, shift if not. */
function writeSized(w: Writer, write: (w: Writer, x: unknown) => void, x: unknown): void {
  w.ensure(1);
  const sizeAt = w.pos;
  w.pos += 1;
  write(w, x);
  const size = w.pos - sizeAt - 1;
  if (size < 0x80) {
    w.buf[sizeAt] = size;
    return;
  }
  let sizeBytes = 1;
  for (let s = size; s >= 0x80; s = Math.floor(s / 128)) sizeBytes++;
  w.ensure(sizeBytes - 1);
  w.buf.copyWithin(sizeAt + sizeBytes, sizeAt + 1, w.pos);
  const end = w.pos + sizeBytes - 1;
  w.pos = sizeAt;
  w.uvarint(size);
  w.pos = end;
}

// --- code generation -----------------------------------------------------------------------------

class Gen {
  readonly constants: unknown[] = [];
  readonly functions: string[] = [];
  private n = 0;

  constant(v: unknown): string {
    this.constants.push(v);
    return `C[${this.constants.length - 1}]`;
  }

  fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
}

const q = JSON.stringify;

/** A JS expression that evaluates to a fresh copy of `v` (a default value). */
function literal(g: Gen, v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isFinite(v) ? String(v) : g.constant(v);
  if (typeof v === 'string' || typeof v === 'boolean') return q(v);
  if (v instanceof Uint8Array) return v.length === 0 ? 'new Uint8Array(0)' : `${g.constant(v)}.slice()`;
  if (Array.isArray(v)) return `[${v.map((x) => literal(g, x)).join(', ')}]`;
  if (typeof v === 'object') {
    return `{ ${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${q(k)}: ${literal(g, x)}`)
      .join(', ')} }`;
  }
  return g.constant(v);
}

function primitiveRead(kind: PrimitiveType, flexible: boolean, nullable: boolean): string {
  switch (kind) {
    case 'string':
      return flexible ? (nullable ? 'r.compactNullableString()' : 'r.compactString()') : nullable ? 'r.nullableString()' : 'r.string()';
    case 'bytes':
      return flexible ? (nullable ? 'r.compactNullableBytes()' : 'r.compactBytes()') : nullable ? 'r.nullableBytes()' : 'r.bytes()';
    case 'records':
      return flexible ? 'r.compactRecords()' : 'r.records()';
    default:
      return `r.${kind}()`;
  }
}

function readExpr(g: Gen, p: FieldPlan, flexible: boolean): string {
  if (p.kind === 'struct') {
    const d = genDecodeStruct(g, p.struct as StructPlan);
    // A nullable struct is preceded by an int8 marker: -1 null, 1 present.
    return p.nullable ? `(r.int8() < 0 ? null : ${d}(r))` : `${d}(r)`;
  }
  if (p.kind === 'array') {
    const fn = g.fresh('a');
    const elem = p.element !== null ? primitiveRead(p.element, flexible, false) : `${genDecodeStruct(g, p.struct as StructPlan)}(r)`;
    const minBytes = p.element !== null ? primitiveMinBytes(p.element, flexible) : (p.struct as StructPlan).minBytes;
    const len = flexible ? 'compactArrayLength' : 'arrayLength';
    g.functions.push(
      `function ${fn}(r) {\n` +
        `  const n = r.${len}(${p.nullable}, ${minBytes});\n` +
        `  if (n < 0) return null;\n` +
        `  const a = new Array(n);\n` +
        `  for (let i = 0; i < n; i++) a[i] = ${elem};\n` +
        `  return a;\n}`,
    );
    return `${fn}(r)`;
  }
  return primitiveRead(p.kind, flexible, p.nullable);
}

function genDecodeStruct(g: Gen, s: StructPlan): string {
  const fn = g.fresh('d');
  const body: string[] = [];
  const props: string[] = [];
  const tagged: FieldPlan[] = [];
  for (const p of s.fields) {
    if (p.mode === 'wire') {
      const local = g.fresh('f');
      body.push(`  const ${local} = ${readExpr(g, p, s.flexible)};`);
      props.push(`${q(p.name)}: ${local}`);
    } else {
      props.push(`${q(p.name)}: ${literal(g, defaultValue(p.spec))}`);
      if (p.mode === 'tagged') tagged.push(p);
    }
  }
  body.push(`  const o = { ${props.join(', ')} };`);
  if (s.flexible) {
    const cases = tagged.map(
      (p) => `      case ${p.tag}: { const end = H.enterTagged(r, size); o[${q(p.name)}] = ${readExpr(g, p, true)}; H.leaveTagged(r, end, tag); break; }`,
    );
    body.push(
      `  for (let nt = r.uvarint(); nt > 0; nt--) {\n` +
        `    const tag = r.uvarint();\n` +
        `    const size = r.uvarint();\n` +
        `    switch (tag) {\n${cases.map((c) => `${c}\n`).join('')}` +
        `      default: H.unknownTagged(r, o, tag, size);\n` +
        `    }\n` +
        `  }`,
    );
  }
  body.push('  return o;');
  g.functions.push(`function ${fn}(r) {\n${body.join('\n')}\n}`);
  return fn;
}

/** Statements that validate `x` (already defaulted) as a primitive and write it. */
function primitiveWrite(g: Gen, kind: PrimitiveType, flexible: boolean, nullable: boolean, x: string, what: string): string {
  const bad = `H.bad(${g.constant(`${what} (${nullable ? 'nullable ' : ''}${kind})`)}, ${x})`;
  switch (kind) {
    case 'bool':
      return `if (typeof ${x} !== 'boolean') ${bad}; w.bool(${x});`;
    case 'int8':
      return `if ((${x} << 24 >> 24) !== ${x}) ${bad}; w.int8(${x});`;
    case 'int16':
      return `if ((${x} << 16 >> 16) !== ${x}) ${bad}; w.int16(${x});`;
    case 'uint16':
      return `if ((${x} & 0xffff) !== ${x}) ${bad}; w.uint16(${x});`;
    case 'int32':
      return `if ((${x} | 0) !== ${x}) ${bad}; w.int32(${x});`;
    case 'uint32':
      return `if ((${x} >>> 0) !== ${x}) ${bad}; w.uint32(${x});`;
    case 'int64':
      return `if (!Number.isInteger(${x}) || ${x} < -9223372036854775808 || ${x} > 9223372036854775808) ${bad}; w.int64(${x});`;
    case 'float64':
      return `if (typeof ${x} !== 'number') ${bad}; w.float64(${x});`;
    case 'uuid':
      return `if (typeof ${x} !== 'string') ${bad}; w.uuid(${x});`;
    case 'string': {
      const m = flexible ? 'compactString' : 'string';
      const check = nullable ? `${x} !== null && typeof ${x} !== 'string'` : `typeof ${x} !== 'string'`;
      return `if (${check}) ${bad}; w.${m}(${x});`;
    }
    case 'bytes': {
      const m = flexible ? 'compactBytes' : 'bytes';
      const check = nullable ? `${x} !== null && !(${x} instanceof Uint8Array)` : `!(${x} instanceof Uint8Array)`;
      return `if (${check}) ${bad}; w.${m}(${x});`;
    }
    case 'records':
      return `w.records(${x}, ${flexible});`;
  }
}

/** Statements that write field value `x` (already defaulted). */
function valueWrite(g: Gen, p: FieldPlan, flexible: boolean, x: string): string {
  if (p.kind === 'struct') {
    const e = genEncodeStruct(g, p.struct as StructPlan);
    if (p.nullable) return `if (${x} === null) w.int8(-1); else { w.int8(1); ${e}(w, ${x}); }`;
    return `${e}(w, ${x});`;
  }
  if (p.kind === 'array') {
    const bad = `H.bad(${g.constant(`${p.path} (${p.nullable ? 'nullable ' : ''}array)`)}, ${x})`;
    const len = flexible ? 'compactArrayLength' : 'arrayLength';
    const i = g.fresh('i');
    const y = g.fresh('y');
    const elem =
      p.element !== null ? primitiveWrite(g, p.element, flexible, false, y, `${p.path}[]`) : `${genEncodeStruct(g, p.struct as StructPlan)}(w, ${y});`;
    const nullCase = p.nullable ? `w.${len}(-1)` : bad;
    return (
      `if (${x} === null) ${nullCase}; else {\n` +
      `    if (!Array.isArray(${x})) ${bad};\n` +
      `    w.${len}(${x}.length);\n` +
      `    for (let ${i} = 0; ${i} < ${x}.length; ${i}++) { const ${y} = ${x}[${i}]; ${elem} }\n` +
      `  }`
    );
  }
  return primitiveWrite(g, p.kind, flexible, p.nullable, x, p.path);
}

function genEncodeStruct(g: Gen, s: StructPlan): string {
  const fn = g.fresh('e');
  const body: string[] = [`  if (typeof v !== 'object' || v === null) H.bad(${g.constant(s.path.trim() || 'struct')}, v);`];
  const tagged: FieldPlan[] = [];
  for (const p of s.fields) {
    if (p.mode === 'absent') continue;
    if (p.mode === 'tagged') {
      tagged.push(p);
      continue;
    }
    const x = g.fresh('x');
    body.push(`  let ${x} = v[${q(p.name)}];`);
    body.push(`  if (${x} === undefined) ${x} = ${literal(g, encodeDefault(p))};`);
    body.push(`  ${valueWrite(g, p, s.flexible, x)}`);
  }
  if (s.flexible) {
    const entries: string[] = [];
    const defaultChecks: string[] = [];
    for (const p of tagged) {
      const wfn = g.fresh('t');
      g.functions.push(`function ${wfn}(w, x) {\n  ${valueWrite(g, p, true, 'x')}\n}`);
      const zfn = g.fresh('z');
      g.functions.push(`function ${zfn}(x) { return x === undefined || H.isDefault(x, ${g.constant(p.spec)}); }`);
      defaultChecks.push(`${zfn}(v[${q(p.name)}])`);
      entries.push(`{ tag: ${p.tag}, name: ${q(p.name)}, write: ${wfn}, isDefault: ${zfn} }`);
    }
    const list = g.fresh('T');
    g.functions.push(`const ${list} = [${entries.join(', ')}];`);
    const quiet = [`v[${q(UNKNOWN_TAGGED_FIELDS)}] === undefined`, ...defaultChecks].join(' && ');
    body.push(`  if (${quiet}) w.uvarint(0); else H.writeTagged(w, v, ${list}, ${g.constant(s.path)});`);
  }
  g.functions.push(`function ${fn}(w, v) {\n${body.join('\n')}\n}`);
  return fn;
}

// --- compiled codecs -----------------------------------------------------------------------------

export interface MessageCodec {
  readonly plan: MessagePlan;
  /** Decodes the body from r.pos, reading no further than r.end; leaves r.pos where it ended. */
  decode(r: Reader): Record<string, unknown>;
  encode(w: Writer, value: unknown): void;
  /** The generated source, for debugging and the README. */
  readonly source: string;
}

function compile(plan: MessagePlan): MessageCodec {
  const g = new Gen();
  const decodeFn = genDecodeStruct(g, plan);
  const encodeFn = genEncodeStruct(g, plan);
  const source = `'use strict';\n${g.functions.join('\n')}\nreturn { decode: ${decodeFn}, encode: ${encodeFn} };`;
  const factory = new Function('H', 'C', source) as (
    h: typeof runtime,
    c: unknown[],
  ) => { decode: (r: Reader) => Record<string, unknown>; encode: (w: Writer, v: unknown) => void };
  const built = factory(runtime, g.constants);
  return { plan, decode: built.decode, encode: built.encode, source };
}

const cache = new WeakMap<MessageSpec, Map<number, MessageCodec>>();

/** The compiled codec for (spec, version), built on first use. The version must be valid. */
export function codecFor(spec: MessageSpec, version: number): MessageCodec {
  let byVersion = cache.get(spec);
  if (byVersion === undefined) cache.set(spec, (byVersion = new Map()));
  let codec = byVersion.get(version);
  if (codec === undefined) {
    codec = compile(planMessage(spec, version));
    byVersion.set(version, codec);
  }
  return codec;
}

// --- entry points --------------------------------------------------------------------------------

/**
 * Decodes a message body occupying exactly buf[start, end). Every failure is a ProtocolError:
 * anything else thrown while decoding would be our bug, and is wrapped so that no other exception
 * type escapes to the connection loop. Bytes left after the body are TRAILING_BYTES (responses,
 * tests); requests go through decodeBodyPrefix, which serves them as Kafka does.
 */
export function decodeBody<T extends object = Record<string, unknown>>(spec: MessageSpec, version: number, buf: Uint8Array, start: number, end: number): T;
// The typed signature above is where the generated types (src/generated/messages.ts) meet the
// compiled decoder: the decoder builds exactly the description's shape, which is what the type
// generated from that description says (src/generated-types.test.ts keeps the two in step).
export function decodeBody(spec: MessageSpec, version: number, buf: Uint8Array, start: number, end: number): Record<string, unknown> {
  const { body, trailingBytes } = decodeBodyPrefix(spec, version, buf, start, end);
  if (trailingBytes > 0) {
    const path = codecFor(spec, version).plan.path.trim();
    throw new ProtocolError('TRAILING_BYTES', `${path}: ${trailingBytes} bytes left after the body`, end - trailingBytes);
  }
  return body;
}

/** A body decoded from the front of its range, and how many bytes of the range followed it. */
export interface DecodedPrefix<T extends object = Record<string, unknown>> {
  readonly body: T;
  readonly trailingBytes: number;
}

/**
 * Decodes a message body that starts at buf[start] and must end at or before `end`; bytes between
 * the body's end and `end` are not read, only counted. This is how Kafka parses a request: its
 * generated readers read the fields of the version and stop, and nothing checks what remains of
 * the frame (librdkafka ≥ 2.1 relies on it: its Metadata v9+ "all topics" request carries 3 bytes
 * past the schema). A body that needs more bytes than the range holds is still a ProtocolError
 * (TRUNCATED, INVALID_LENGTH, ...): only a complete body is ever returned.
 */
export function decodeBodyPrefix<T extends object = Record<string, unknown>>(
  spec: MessageSpec,
  version: number,
  buf: Uint8Array,
  start: number,
  end: number,
): DecodedPrefix<T>;
// Typed as decodeBody is (see there): the compiled decoder builds the description's shape.
export function decodeBodyPrefix(spec: MessageSpec, version: number, buf: Uint8Array, start: number, end: number): DecodedPrefix {
  const codec = codecFor(spec, version);
  const r = new Reader(buf, start, end);
  try {
    const body = codec.decode(r);
    return { body, trailingBytes: end - r.pos };
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('MALFORMED', `${codec.plan.path.trim()}: ${(e as Error)?.message ?? String(e)}`, r.pos, { cause: e });
  }
}

export function encodeBody(spec: MessageSpec, version: number, w: Writer, body: unknown): void {
  codecFor(spec, version).encode(w, body);
}
