// The error codes a response body carries, found through the response's message description
// (packages/protocol: every `errorCode` field at any depth), as Kafka's `errorCounts()` does per
// response type. The walk is compiled once per API key from the description, so it visits only
// the arrays and structs that can hold an error code: a Produce response costs one step per
// partition, a Metadata response one per topic and partition.
//
// Versions are not consulted: the broker builds one body shape for all versions of an API and a
// field absent from the encoded version holds its default (0, no error).

import { type FieldSpec, responseSpecs } from '@sluice/protocol';

/** Calls `found(code)` for every non-zero error code in `body`. */
export type ErrorScan = (body: unknown, found: (code: number) => void) => void;

interface ScanNode {
  /** The object has an int16 `errorCode` field. */
  readonly hasErrorCode: boolean;
  /** Fields to descend into: arrays of structs or single structs that lead to an error code. */
  readonly children: ReadonlyArray<{ readonly name: string; readonly isArray: boolean; readonly node: ScanNode }>;
}

function compile(fields: readonly FieldSpec[]): ScanNode | null {
  let hasErrorCode = false;
  const children: Array<{ name: string; isArray: boolean; node: ScanNode }> = [];
  for (const field of fields) {
    const type = field.type;
    if (field.name === 'errorCode' && type === 'int16') {
      hasErrorCode = true;
    } else if (typeof type === 'object' && 'arrayOfStruct' in type) {
      const node = compile(type.arrayOfStruct);
      if (node !== null) children.push({ name: field.name, isArray: true, node });
    } else if (typeof type === 'object' && 'struct' in type) {
      const node = compile(type.struct);
      if (node !== null) children.push({ name: field.name, isArray: false, node });
    }
  }
  return hasErrorCode || children.length > 0 ? { hasErrorCode, children } : null;
}

function walk(node: ScanNode, value: unknown, found: (code: number) => void): void {
  if (value === null || typeof value !== 'object') return;
  // Any response body: its fields are read by the names the description gives, and checked.
  const fields = value as Readonly<Record<string, unknown>>;
  if (node.hasErrorCode) {
    const code = fields.errorCode;
    if (typeof code === 'number' && code !== 0) found(code);
  }
  for (const child of node.children) {
    const v = fields[child.name];
    if (child.isArray) {
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) walk(child.node, v[i], found);
    } else {
      walk(child.node, v, found);
    }
  }
}

const NO_ERRORS: ErrorScan = () => {};

const scans = new Map<number, ErrorScan>();
for (const [apiKey, spec] of responseSpecs) {
  const node = compile(spec.fields);
  scans.set(apiKey, node === null ? NO_ERRORS : (body, found) => walk(node, body, found));
}

/** The scan for one API's responses (no-op for an API whose responses carry no error code). */
export function errorScanFor(apiKey: number): ErrorScan {
  return scans.get(apiKey) ?? NO_ERRORS;
}
