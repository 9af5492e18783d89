// AclBindingFilter matching, as Kafka's ResourcePatternFilter / AccessControlEntryFilter define it.
import { describe, expect, test } from 'vitest';
import { entryMatches, patternMatches } from './acl-filter.ts';
import { acl, filter } from './acl-test-helpers.ts';
import { invalidFilterReason } from './acl-types.ts';

const topicLiteral = acl('TOPIC', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW');
const topicWildcard = acl('TOPIC', 'LITERAL', '*', 'User:alice', '*', 'READ', 'ALLOW');
const topicPrefixed = acl('TOPIC', 'PREFIXED', 'ord', 'User:alice', '*', 'READ', 'ALLOW');
const groupLiteral = acl('GROUP', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW');

describe('resource pattern filter', () => {
  // [filter, [matches topicLiteral, topicWildcard, topicPrefixed, groupLiteral]]
  const rows: Array<[string, ReturnType<typeof filter>, [boolean, boolean, boolean, boolean]]> = [
    ['ANY type, ANY pattern, any name', filter('ANY', 'ANY', null), [true, true, true, true]],
    ['TOPIC, ANY pattern, any name', filter('TOPIC', 'ANY', null), [true, true, true, false]],
    ['ANY type, ANY pattern, name "orders" (exact)', filter('ANY', 'ANY', 'orders'), [true, false, false, true]],
    ['TOPIC LITERAL "orders"', filter('TOPIC', 'LITERAL', 'orders'), [true, false, false, false]],
    ['TOPIC LITERAL "*" (the wildcard binding only)', filter('TOPIC', 'LITERAL', '*'), [false, true, false, false]],
    ['TOPIC LITERAL any name', filter('TOPIC', 'LITERAL', null), [true, true, false, false]],
    ['TOPIC PREFIXED "ord" (exact)', filter('TOPIC', 'PREFIXED', 'ord'), [false, false, true, false]],
    ['TOPIC PREFIXED "orders" (not a prefix match)', filter('TOPIC', 'PREFIXED', 'orders'), [false, false, false, false]],
    ['TOPIC MATCH "orders": literal, wildcard and prefix', filter('TOPIC', 'MATCH', 'orders'), [true, true, true, false]],
    ['TOPIC MATCH "ordinal": wildcard and prefix', filter('TOPIC', 'MATCH', 'ordinal'), [false, true, true, false]],
    ['TOPIC MATCH "payments": wildcard only', filter('TOPIC', 'MATCH', 'payments'), [false, true, false, false]],
    ['TOPIC MATCH any name: everything of the type', filter('TOPIC', 'MATCH', null), [true, true, true, false]],
    ['ANY type MATCH "orders"', filter('ANY', 'MATCH', 'orders'), [true, true, true, true]],
    ['GROUP ANY pattern "orders"', filter('GROUP', 'ANY', 'orders'), [false, false, false, true]],
  ];
  test.each(rows)('%s', (_name, f, expected) => {
    expect([topicLiteral, topicWildcard, topicPrefixed, groupLiteral].map((b) => patternMatches(f.pattern, b.pattern))).toEqual(expected);
  });
});

describe('entry filter', () => {
  const entry = acl('TOPIC', 'LITERAL', 'x', 'User:alice', '10.0.0.1', 'READ', 'ALLOW').entry;
  const wildEntry = acl('TOPIC', 'LITERAL', 'x', 'User:*', '*', 'ALL', 'DENY').entry;
  const rows: Array<[string, ReturnType<typeof filter>['entry'], boolean, boolean]> = [
    ['all null / ANY', filter('ANY', 'ANY', null).entry, true, true],
    ['principal User:alice (exact: not User:*)', filter('ANY', 'ANY', null, 'User:alice').entry, true, false],
    ['principal User:* (exact)', filter('ANY', 'ANY', null, 'User:*').entry, false, true],
    ['host 10.0.0.1 (exact: not *)', filter('ANY', 'ANY', null, null, '10.0.0.1').entry, true, false],
    ['host * (exact)', filter('ANY', 'ANY', null, null, '*').entry, false, true],
    ['operation READ (not ALL)', filter('ANY', 'ANY', null, null, null, 'READ').entry, true, false],
    ['operation ALL (only ALL bindings)', filter('ANY', 'ANY', null, null, null, 'ALL').entry, false, true],
    ['permission ALLOW', filter('ANY', 'ANY', null, null, null, 'ANY', 'ALLOW').entry, true, false],
    ['permission DENY', filter('ANY', 'ANY', null, null, null, 'ANY', 'DENY').entry, false, true],
    ['operation DESCRIBE does not match READ (no implication in filters)', filter('ANY', 'ANY', null, null, null, 'DESCRIBE').entry, false, false],
  ];
  test.each(rows)('%s', (_name, f, matchesAlice, matchesWild) => {
    expect(entryMatches(f, entry)).toBe(matchesAlice);
    expect(entryMatches(f, wildEntry)).toBe(matchesWild);
  });
});

describe('filters Kafka refuses', () => {
  test.each([
    [filter('UNKNOWN', 'ANY', null), 'Unknown patternFilter.'],
    [filter('ANY', 'UNKNOWN', null), 'Unknown patternFilter.'],
    [filter('ANY', 'ANY', null, null, null, 'UNKNOWN'), 'Unknown entryFilter.'],
    [filter('ANY', 'ANY', null, null, null, 'ANY', 'UNKNOWN'), 'Unknown entryFilter.'],
    [{ ...filter('ANY', 'ANY', null), pattern: { resourceType: 99, name: null, patternType: 1 } }, 'Unknown patternFilter.'],
    [filter('ANY', 'ANY', null), null],
  ])('%#', (f, reason) => {
    expect(invalidFilterReason(f)).toBe(reason);
  });
});
