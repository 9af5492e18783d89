import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { ApiKey, apiKeyName, ErrorCode, errorByCode, kafkaErrors } from './index.ts';

const require = createRequire(import.meta.url);

// Kafka renamed a few errors since kafkajs copied the table; the codes are what travels.
const RENAMED_SINCE_KAFKAJS: Record<string, string> = {
  UNKNOWN: 'UNKNOWN_SERVER_ERROR',
  NOT_LEADER_FOR_PARTITION: 'NOT_LEADER_OR_FOLLOWER',
  GROUP_LOAD_IN_PROGRESS: 'COORDINATOR_LOAD_IN_PROGRESS',
  GROUP_COORDINATOR_NOT_AVAILABLE: 'COORDINATOR_NOT_AVAILABLE',
  NOT_COORDINATOR_FOR_GROUP: 'NOT_COORDINATOR',
};

describe('Kafka error table', () => {
  test('codes are contiguous from -1, names and codes unique', () => {
    const codes = kafkaErrors.map((e) => e.code);
    expect(codes).toEqual(Array.from({ length: codes.length }, (_, i) => i - 1));
    expect(new Set(kafkaErrors.map((e) => e.name)).size).toBe(kafkaErrors.length);
    expect(kafkaErrors.every((e) => e.message.length > 0)).toBe(true);
  });

  test('well-known codes', () => {
    expect(ErrorCode.NONE).toBe(0);
    expect(ErrorCode.UNKNOWN_SERVER_ERROR).toBe(-1);
    expect(ErrorCode.OFFSET_OUT_OF_RANGE).toBe(1);
    expect(ErrorCode.CORRUPT_MESSAGE).toBe(2);
    expect(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).toBe(3);
    expect(ErrorCode.UNSUPPORTED_VERSION).toBe(35);
    expect(ErrorCode.TOPIC_ALREADY_EXISTS).toBe(36);
    expect(ErrorCode.UNKNOWN_TOPIC_ID).toBe(100);
    expect(errorByCode(3)).toMatchObject({ name: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
    expect(errorByCode(35)).toMatchObject({ name: 'UNSUPPORTED_VERSION', retriable: false });
    expect(errorByCode(9999)).toBeUndefined();
  });

  test('agrees with kafkajs on every code kafkajs knows: name and retriable flag', () => {
    const { errorCodes } = require('kafkajs/src/protocol/error.js');
    for (const k of errorCodes as Array<{ type: string; code: number; retriable: boolean }>) {
      if (k.code === -99) continue; // kafkajs's own "unknown" placeholder, not a wire code
      const ours = errorByCode(k.code);
      expect(ours, `code ${k.code}`).toBeDefined();
      expect(ours?.name).toBe(RENAMED_SINCE_KAFKAJS[k.type] ?? k.type);
      expect(ours?.retriable, k.type).toBe(k.retriable);
    }
  });
});

describe('API keys', () => {
  test('agree with kafkajs for every key it names (modulo renames)', () => {
    const keys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
    const renamed: Record<string, string> = { GroupCoordinator: 'FindCoordinator', ElectPreferredLeaders: 'ElectLeaders' };
    for (const [name, key] of Object.entries(keys)) {
      expect(apiKeyName(key)).toBe(renamed[name] ?? name);
    }
  });

  test('names unknown keys without throwing', () => {
    expect(apiKeyName(ApiKey.Produce)).toBe('Produce');
    expect(apiKeyName(12345)).toBe('Unknown(12345)');
  });
});
