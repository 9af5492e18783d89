import { ApiKey, ErrorCode } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { errorScanFor } from './response-errors.ts';

function codes(apiKey: number, body: unknown): number[] {
  const found: number[] = [];
  errorScanFor(apiKey)(body, (code) => found.push(code));
  return found;
}

describe('errorScanFor', () => {
  it('finds per-partition errors in a Produce response, skipping successes', () => {
    const body = {
      responses: [
        {
          name: 'a',
          partitionResponses: [
            { index: 0, errorCode: 0 },
            { index: 1, errorCode: ErrorCode.CORRUPT_MESSAGE },
          ],
        },
        { name: 'b', partitionResponses: [{ index: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      ],
      throttleTimeMs: 0,
    };
    expect(codes(ApiKey.Produce, body)).toEqual([ErrorCode.CORRUPT_MESSAGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  it('finds top-level and nested errors in one response (Fetch)', () => {
    const body = {
      errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: new Uint8Array(4) }] }],
    };
    expect(codes(ApiKey.Fetch, body)).toEqual([ErrorCode.FETCH_SESSION_ID_NOT_FOUND, ErrorCode.OFFSET_OUT_OF_RANGE]);
  });

  it('finds topic- and partition-level errors in Metadata', () => {
    const body = {
      brokers: [],
      topics: [
        { name: 'x', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] },
        { name: 'y', errorCode: 0, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.LEADER_NOT_AVAILABLE }] },
      ],
    };
    expect(codes(ApiKey.Metadata, body)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.LEADER_NOT_AVAILABLE]);
  });

  it('tolerates missing or null arrays and an API it does not know', () => {
    expect(codes(ApiKey.Produce, { responses: null })).toEqual([]);
    expect(codes(ApiKey.Produce, {})).toEqual([]);
    expect(codes(9999, { errorCode: 3 })).toEqual([]);
  });
});
