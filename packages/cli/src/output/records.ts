// How `sluice consume` prints a record, one per line:
//   value      the value as UTF-8 (Kafka's console consumer default); a null value prints "null"
//   key-value  key, the separator (a tab by default, as print.key=true), value
//   json       one JSON object: topic, partition, offset, timestamp, timestampType, key, value,
//              headers [{key, value}]; bytes that are not valid UTF-8 become {"base64": "…"}

import type { FetchedRecord } from '@sluice/client';

export const RECORD_FORMATS = ['value', 'key-value', 'json'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

function asText(b: Uint8Array | null): string {
  return b === null ? 'null' : lenientUtf8.decode(b);
}

function asJsonValue(b: Uint8Array | null): string | null | { base64: string } {
  if (b === null) return null;
  try {
    return strictUtf8.decode(b);
  } catch {
    return { base64: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64') };
  }
}

export function formatRecord(r: FetchedRecord, format: RecordFormat, keySeparator = '\t'): string {
  switch (format) {
    case 'value':
      return asText(r.value);
    case 'key-value':
      return `${asText(r.key)}${keySeparator}${asText(r.value)}`;
    case 'json':
      return JSON.stringify({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestampType: r.timestampType,
        key: asJsonValue(r.key),
        value: asJsonValue(r.value),
        headers: r.headers.map((h) => ({ key: h.key, value: asJsonValue(h.value) })),
      });
  }
}
