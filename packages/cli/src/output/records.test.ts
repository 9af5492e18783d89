import { describe, expect, it } from 'vitest';
import type { FetchedRecord } from '@sluice/client';
import { formatRecord } from './records.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const record: FetchedRecord = {
  topic: 'orders',
  partition: 2,
  offset: 41,
  timestamp: 1700000000000,
  timestampType: 'CreateTime',
  key: utf8('k1'),
  value: utf8('héllo'),
  headers: [
    { key: 'trace', value: utf8('abc') },
    { key: 'bin', value: new Uint8Array([0xff, 0x00]) },
  ],
};

describe('formatRecord', () => {
  it('prints the value only by default', () => {
    expect(formatRecord(record, 'value')).toBe('héllo');
    expect(formatRecord({ ...record, value: null }, 'value')).toBe('null');
  });

  it('prints key, separator, value', () => {
    expect(formatRecord(record, 'key-value')).toBe('k1\théllo');
    expect(formatRecord({ ...record, key: null }, 'key-value', ':')).toBe('null:héllo');
  });

  it('prints one JSON object with base64 for bytes that are not UTF-8', () => {
    expect(JSON.parse(formatRecord(record, 'json'))).toEqual({
      topic: 'orders',
      partition: 2,
      offset: 41,
      timestamp: 1700000000000,
      timestampType: 'CreateTime',
      key: 'k1',
      value: 'héllo',
      headers: [
        { key: 'trace', value: 'abc' },
        { key: 'bin', value: { base64: '/wA=' } },
      ],
    });
  });
});
