import { ApiKey, ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { errorForVersion } from './versioned-errors.ts';

describe('errors newer than the request version', () => {
  test.each([
    [ApiKey.InitProducerId, 3, 4],
    [ApiKey.AddPartitionsToTxn, 1, 2],
    [ApiKey.AddOffsetsToTxn, 1, 2],
    [ApiKey.EndTxn, 1, 2],
  ])('PRODUCER_FENCED to API %i: INVALID_PRODUCER_EPOCH at v%i, itself from v%i', (apiKey, older, since) => {
    expect(errorForVersion(apiKey, older, ErrorCode.PRODUCER_FENCED)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(errorForVersion(apiKey, since, ErrorCode.PRODUCER_FENCED)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  test('a fenced transactional produce or offset commit is INVALID_PRODUCER_EPOCH at every version', () => {
    expect(errorForVersion(ApiKey.Produce, 12, ErrorCode.PRODUCER_FENCED)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(errorForVersion(ApiKey.TxnOffsetCommit, 5, ErrorCode.PRODUCER_FENCED)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  test.each([
    [ApiKey.Produce, 10, 11],
    [ApiKey.AddPartitionsToTxn, 4, 5],
    [ApiKey.AddOffsetsToTxn, 3, 4],
    [ApiKey.EndTxn, 3, 4],
    [ApiKey.TxnOffsetCommit, 3, 4],
    [ApiKey.InitProducerId, 4, 5],
    [ApiKey.FindCoordinator, 4, 5],
  ])('TRANSACTION_ABORTABLE to API %i: INVALID_TXN_STATE at v%i, itself from v%i', (apiKey, older, since) => {
    expect(errorForVersion(apiKey, older, ErrorCode.TRANSACTION_ABORTABLE)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(errorForVersion(apiKey, since, ErrorCode.TRANSACTION_ABORTABLE)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
  });

  test('other errors and other APIs pass through', () => {
    expect(errorForVersion(ApiKey.EndTxn, 0, ErrorCode.CONCURRENT_TRANSACTIONS)).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(errorForVersion(ApiKey.Fetch, 4, ErrorCode.PRODUCER_FENCED)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(errorForVersion(ApiKey.Fetch, 4, ErrorCode.TRANSACTION_ABORTABLE)).toBe(ErrorCode.INVALID_TXN_STATE);
  });
});
