import { ACL_OPERATIONS, UsageError } from '@sluice/client';
import { describe, expect, test } from 'vitest';
import { aclRows, parseOperation } from './acls.ts';

describe('sluice acls', () => {
  test.each([
    ['Read', ACL_OPERATIONS.READ],
    ['DescribeConfigs', ACL_OPERATIONS.DESCRIBE_CONFIGS],
    ['describe_configs', ACL_OPERATIONS.DESCRIBE_CONFIGS],
    ['IDEMPOTENTWRITE', ACL_OPERATIONS.IDEMPOTENT_WRITE],
    ['All', ACL_OPERATIONS.ALL],
  ])('operation names as kafka-acls spells them: %s', (text, code) => {
    expect(parseOperation(text)).toBe(code);
  });

  test('unknown operations and ANY are usage errors', () => {
    expect(() => parseOperation('Any')).toThrow(UsageError);
    expect(() => parseOperation('Reed')).toThrow(/unknown operation/);
  });

  test("rows print Kafka's names", () => {
    expect(aclRows([{ resourceType: 2, resourceName: 'orders', patternType: 4, principal: 'User:alice', host: '*', operation: 4, permissionType: 3 }])).toEqual(
      [['TOPIC', 'orders', 'PREFIXED', 'User:alice', '*', 'WRITE', 'ALLOW']],
    );
  });
});
