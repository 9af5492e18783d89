// The pure pieces of the commands: option interpretation that decides what a run does.
import { describe, expect, it } from 'vitest';
import { UsageError } from '@sluice/client';
import { startPosition } from './consume.ts';
import { parseDateTime, parseTopicSpec } from './groups.ts';
import { kafkaUuidString } from './topics.ts';
import { describeRow, escapeRegExp } from './transactions.ts';

describe('consume start position', () => {
  it('defaults to latest, like the console consumer', () => {
    expect(startPosition({})).toEqual({ kind: 'latest' });
  });

  it('maps each option to its start', () => {
    expect(startPosition({ fromBeginning: true })).toEqual({ kind: 'earliest' });
    expect(startPosition({ offset: '42' })).toEqual({ kind: 'offset', offset: 42 });
    expect(startPosition({ offset: 'earliest' })).toEqual({ kind: 'earliest' });
    expect(startPosition({ offset: 'latest' })).toEqual({ kind: 'latest' });
    expect(startPosition({ timestamp: 1700000000000 })).toEqual({ kind: 'timestamp', timestamp: 1700000000000 });
  });

  it('refuses combined starts and bad offsets as usage errors', () => {
    expect(() => startPosition({ fromBeginning: true, offset: '3' })).toThrow(UsageError);
    expect(() => startPosition({ offset: '3', timestamp: 5 })).toThrow(/--offset and --timestamp cannot be combined/);
    expect(() => startPosition({ offset: '-1' })).toThrow(UsageError);
    expect(() => startPosition({ offset: 'soon' })).toThrow(/not a non-negative integer/);
  });
});

describe('groups reset-offsets options', () => {
  it('reads topic specs with and without partitions', () => {
    expect(parseTopicSpec('orders')).toEqual({ topic: 'orders', partitions: null });
    expect(parseTopicSpec('orders:0,2')).toEqual({ topic: 'orders', partitions: [0, 2] });
    expect(() => parseTopicSpec('orders:x')).toThrow(UsageError);
    expect(() => parseTopicSpec(':1')).toThrow(/has no topic name/);
  });

  it('reads date-times in UTC, with offsets, and in local time without a zone', () => {
    expect(parseDateTime('2024-03-01T12:00:00.000Z')).toBe(Date.UTC(2024, 2, 1, 12));
    expect(parseDateTime('2024-03-01T12:00:00+02:00')).toBe(Date.UTC(2024, 2, 1, 10));
    expect(parseDateTime('2024-03-01T12:00')).toBe(new Date(2024, 2, 1, 12).getTime());
    expect(() => parseDateTime('yesterday')).toThrow(UsageError);
    expect(() => parseDateTime('2024-13-45T99:00:00')).toThrow(UsageError);
  });
});

describe('topic ids', () => {
  it('print as Kafka prints them: URL-safe base64 without padding', () => {
    expect(kafkaUuidString('00000000000000000000000000000000')).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    // 0xfb 0xff -> '-_' in the URL-safe alphabet; the last 4 bits pad to 'w'.
    expect(kafkaUuidString('fbffffffffffffffffffffffffffffff')).toBe('-____________________w');
  });
});

describe('transactions', () => {
  it('describe prints a row like kafka-transactions.sh: duration of an open transaction, partitions as topic-partition', () => {
    const open = {
      transactionalId: 'tx',
      state: 'Ongoing',
      producerId: 7,
      producerEpoch: 2,
      timeoutMs: 60000,
      startTimeMs: 1000,
      partitions: [
        { topic: 'a', partition: 0 },
        { topic: 'b', partition: 3 },
      ],
    };
    expect(describeRow(1, open, 4000)).toEqual([1, 'tx', 7, 2, 'Ongoing', 60000, 1000, 3000, 'a-0,b-3']);
    expect(describeRow(1, { ...open, state: 'Empty', startTimeMs: -1, partitions: [] }, 4000)).toEqual([1, 'tx', 7, 2, 'Empty', 60000, null, null, null]);
  });

  it('a transactional id used as a pattern matches only itself', () => {
    const re = new RegExp(`^(?:${escapeRegExp('app.tx-[1]')})$`);
    expect(re.test('app.tx-[1]')).toBe(true);
    expect(re.test('appXtx-1')).toBe(false);
  });
});
