import { describe, expect, it } from 'vitest';
import { jsonKey, tableRecords } from './format.ts';

describe('--output json keys', () => {
  it("camelCases the column headers of both of Kafka tools' styles", () => {
    expect(['CURRENT-OFFSET', 'LOG-END-OFFSET', 'CLIENT-ID', '#MEMBERS', 'GROUP', 'TransactionalId', 'LatestCoordinatorEpoch', 'USER'].map(jsonKey)).toEqual([
      'currentOffset',
      'logEndOffset',
      'clientId',
      'members',
      'group',
      'transactionalId',
      'latestCoordinatorEpoch',
      'user',
    ]);
  });

  it('keeps numbers as numbers and empty cells as null', () => {
    expect(tableRecords(['GROUP', 'LAG', 'CONSUMER-ID'], [['g', 3, null]])).toEqual([{ group: 'g', lag: 3, consumerId: null }]);
  });
});
