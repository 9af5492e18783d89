// The alternative the codec was measured against: an interpreter that walks the same per-version
// plan (src/codec.ts planMessage) at run time, switching on each field's kind, instead of running
// code generated from it. Kept here as the benchmark's baseline; it does the same validation and
// produces the same objects and bytes (the benchmark checks that before timing anything).

import type { MessageSpec, PrimitiveType } from '../src/spec.ts';
import { defaultValue, type FieldPlan, isDefault, planMessage, primitiveMinBytes, type StructPlan } from '../src/codec.ts';
import { ProtocolError } from '../src/errors.ts';
import type { Reader } from '../src/primitives/reader.ts';
import type { Writer } from '../src/primitives/writer.ts';

function bad(f: FieldPlan, x: unknown): never {
  throw new ProtocolError('INVALID_VALUE', `${f.path}: cannot encode ${String(x)}`);
}

function readPrimitive(r: Reader, kind: PrimitiveType, flexible: boolean, nullable: boolean): unknown {
  switch (kind) {
    case 'bool':
      return r.bool();
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'uint16':
      return r.uint16();
    case 'int32':
      return r.int32();
    case 'uint32':
      return r.uint32();
    case 'int64':
      return r.int64();
    case 'float64':
      return r.float64();
    case 'uuid':
      return r.uuid();
    case 'string':
      return flexible ? (nullable ? r.compactNullableString() : r.compactString()) : nullable ? r.nullableString() : r.string();
    case 'bytes':
      return flexible ? (nullable ? r.compactNullableBytes() : r.compactBytes()) : nullable ? r.nullableBytes() : r.bytes();
    case 'records':
      return flexible ? r.compactRecords() : r.records();
  }
}

function readField(r: Reader, f: FieldPlan, flexible: boolean): unknown {
  if (f.kind === 'struct') {
    if (f.nullable && r.int8() < 0) return null;
    return decodeStruct(r, f.struct as StructPlan);
  }
  if (f.kind === 'array') {
    const min = f.element !== null ? primitiveMinBytes(f.element, flexible) : (f.struct as StructPlan).minBytes;
    const n = flexible ? r.compactArrayLength(f.nullable, min) : r.arrayLength(f.nullable, min);
    if (n < 0) return null;
    const a = new Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = f.element !== null ? readPrimitive(r, f.element, flexible, false) : decodeStruct(r, f.struct as StructPlan);
    }
    return a;
  }
  return readPrimitive(r, f.kind, flexible, f.nullable);
}

function decodeStruct(r: Reader, s: StructPlan): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of s.fields) o[f.name] = f.mode === 'wire' ? readField(r, f, s.flexible) : defaultValue(f.spec);
  if (s.flexible) {
    for (let n = r.uvarint(); n > 0; n--) {
      const tag = r.uvarint();
      const size = r.uvarint();
      if (size > r.remaining) throw new ProtocolError('INVALID_LENGTH', 'tagged field exceeds the frame', r.pos);
      const f = s.fields.find((x) => x.mode === 'tagged' && x.tag === tag);
      if (f === undefined) {
        const list = (o._unknownTaggedFields ??= []) as Array<{ tag: number; data: Uint8Array }>;
        list.push({ tag, data: r.buf.slice(r.pos, r.pos + size) });
        r.pos += size;
        continue;
      }
      const end = r.end;
      r.end = r.pos + size;
      o[f.name] = readField(r, f, true);
      if (r.pos !== r.end) throw new ProtocolError('INVALID_TAGGED_FIELD', `tagged field ${tag} has bytes left over`, r.pos);
      r.end = end;
    }
  }
  return o;
}

function writePrimitive(w: Writer, f: FieldPlan, kind: PrimitiveType, flexible: boolean, nullable: boolean, x: any): void {
  switch (kind) {
    case 'bool':
      if (typeof x !== 'boolean') bad(f, x);
      return w.bool(x);
    case 'int8':
      if ((x << 24) >> 24 !== x) bad(f, x);
      return w.int8(x);
    case 'int16':
      if ((x << 16) >> 16 !== x) bad(f, x);
      return w.int16(x);
    case 'uint16':
      if ((x & 0xffff) !== x) bad(f, x);
      return w.uint16(x);
    case 'int32':
      if ((x | 0) !== x) bad(f, x);
      return w.int32(x);
    case 'uint32':
      if (x >>> 0 !== x) bad(f, x);
      return w.uint32(x);
    case 'int64':
      if (!Number.isInteger(x) || x < -(2 ** 63) || x > 2 ** 63) bad(f, x);
      return w.int64(x);
    case 'float64':
      if (typeof x !== 'number') bad(f, x);
      return w.float64(x);
    case 'uuid':
      if (typeof x !== 'string') bad(f, x);
      return w.uuid(x);
    case 'string':
      if (nullable ? x !== null && typeof x !== 'string' : typeof x !== 'string') bad(f, x);
      return flexible ? w.compactString(x) : w.string(x);
    case 'bytes':
      if (nullable ? x !== null && !(x instanceof Uint8Array) : !(x instanceof Uint8Array)) bad(f, x);
      return flexible ? w.compactBytes(x) : w.bytes(x);
    case 'records':
      return w.records(x, flexible);
  }
}

function writeField(w: Writer, f: FieldPlan, flexible: boolean, x: any): void {
  if (x === undefined) {
    x = defaultValue(f.spec);
    if (x === null && !f.nullable) x = f.kind === 'array' ? [] : f.kind === 'string' ? '' : x;
  }
  if (f.kind === 'struct') {
    if (f.nullable) {
      if (x === null) return w.int8(-1);
      w.int8(1);
    }
    return encodeStruct(w, f.struct as StructPlan, x);
  }
  if (f.kind === 'array') {
    if (x === null) {
      if (!f.nullable) bad(f, x);
      return flexible ? w.compactArrayLength(-1) : w.arrayLength(-1);
    }
    if (!Array.isArray(x)) bad(f, x);
    if (flexible) w.compactArrayLength(x.length);
    else w.arrayLength(x.length);
    for (const y of x) {
      if (f.element !== null) writePrimitive(w, f, f.element, flexible, false, y);
      else encodeStruct(w, f.struct as StructPlan, y);
    }
    return;
  }
  writePrimitive(w, f, f.kind, flexible, f.nullable, x);
}

function encodeStruct(w: Writer, s: StructPlan, v: any): void {
  if (typeof v !== 'object' || v === null) throw new ProtocolError('INVALID_VALUE', `${s.path}: not an object`);
  for (const f of s.fields) if (f.mode === 'wire') writeField(w, f, s.flexible, v[f.name]);
  if (!s.flexible) return;
  const tagged = s.fields.filter((f) => f.mode === 'tagged' && v[f.name] !== undefined && !isDefault(v[f.name], f.spec));
  const unknown: Array<{ tag: number; data: Uint8Array }> = v._unknownTaggedFields ?? [];
  const entries = [...tagged.map((f) => ({ tag: f.tag, f, data: null as Uint8Array | null })), ...unknown.map((u) => ({ tag: u.tag, f: null, data: u.data }))];
  entries.sort((a, b) => a.tag - b.tag);
  w.uvarint(entries.length);
  for (const e of entries) {
    w.uvarint(e.tag);
    if (e.f === null) {
      w.uvarint((e.data as Uint8Array).length);
      w.raw(e.data as Uint8Array);
      continue;
    }
    // Encode into a side writer to learn the size (tagged fields are rare and small).
    const start = w.pos;
    writeField(w, e.f, true, v[e.f.name]);
    const body = w.buf.slice(start, w.pos);
    w.pos = start;
    w.uvarint(body.length);
    w.raw(body);
  }
}

/** The interpreted codec for (spec, version), with the compiled codec's decode/encode shape. */
export function interpreterFor(spec: MessageSpec, version: number): { decode(r: Reader): Record<string, unknown>; encode(w: Writer, v: unknown): void } {
  const plan = planMessage(spec, version);
  return {
    decode: (r) => decodeStruct(r, plan),
    encode: (w, v) => encodeStruct(w, plan, v),
  };
}
