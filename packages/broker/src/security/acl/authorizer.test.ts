// The authorizer against Kafka's documented StandardAuthorizer semantics, as tables: each row is a
// set of ACLs, a session, an operation on a resource, and the answer Kafka gives.
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '@sluice/protocol';
import { acl, filter } from './acl-test-helpers.ts';
import type { AclBinding } from './acl-types.ts';
import { AclOperation, AclPermissionType, CLUSTER_NAME, PatternType, ResourceType } from './acl-types.ts';
import { MemoryAclStore } from './acl-store.ts';
import { type Session, StandardAuthorizer } from './authorizer.ts';

const ALICE: Session = { principal: 'User:alice', host: '10.0.0.1' };
const ALICE_ELSEWHERE: Session = { principal: 'User:alice', host: '10.0.0.2' };
const BOB: Session = { principal: 'User:bob', host: '10.0.0.1' };
const ADMIN: Session = { principal: 'User:admin', host: '10.0.0.9' };
const ANONYMOUS: Session = { principal: 'User:ANONYMOUS', host: '127.0.0.1' };

function authorizer(acls: AclBinding[], opts: { superUsers?: string[]; allowEveryoneIfNoAclFound?: boolean } = {}): StandardAuthorizer {
  const store = new MemoryAclStore();
  store.apply(acls, []);
  return new StandardAuthorizer(store, opts);
}

type Op = keyof typeof AclOperation;
type Rt = keyof typeof ResourceType;

// [case, ACLs, session, operation, resource type, resource name, allowed?]
const T = 'TOPIC' as const;
const cases: Array<[string, AclBinding[], Session, Op, Rt, string, boolean]> = [
  // no ACL found
  ['no ACLs at all: denied by default', [], ALICE, 'READ', T, 'orders', false],
  [
    'ACLs only on another topic: "no ACL found" for this one, denied by default',
    [acl(T, 'LITERAL', 'payments', 'User:alice', '*', 'ALL', 'ALLOW')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  [
    'ACLs only on a GROUP of the same name: none for the topic',
    [acl('GROUP', 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'ALLOW')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  // literal allow and the implied operations
  ['literal ALLOW READ: READ', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', true],
  ['literal ALLOW READ: not WRITE', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'WRITE', T, 'orders', false],
  ['ALLOW READ implies DESCRIBE', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'DESCRIBE', T, 'orders', true],
  ['ALLOW WRITE implies DESCRIBE', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'WRITE', 'ALLOW')], ALICE, 'DESCRIBE', T, 'orders', true],
  ['ALLOW DELETE implies DESCRIBE', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'DELETE', 'ALLOW')], ALICE, 'DESCRIBE', T, 'orders', true],
  ['ALLOW ALTER implies DESCRIBE', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALTER', 'ALLOW')], ALICE, 'DESCRIBE', T, 'orders', true],
  ['ALLOW CREATE does not imply DESCRIBE', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'CREATE', 'ALLOW')], ALICE, 'DESCRIBE', T, 'orders', false],
  [
    'ALLOW ALTER_CONFIGS does not imply DESCRIBE',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALTER_CONFIGS', 'ALLOW')],
    ALICE,
    'DESCRIBE',
    T,
    'orders',
    false,
  ],
  [
    'ALLOW ALTER_CONFIGS implies DESCRIBE_CONFIGS',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALTER_CONFIGS', 'ALLOW')],
    ALICE,
    'DESCRIBE_CONFIGS',
    T,
    'orders',
    true,
  ],
  [
    'ALLOW READ does not imply DESCRIBE_CONFIGS',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')],
    ALICE,
    'DESCRIBE_CONFIGS',
    T,
    'orders',
    false,
  ],
  ['ALLOW DESCRIBE does not imply READ', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'DESCRIBE', 'ALLOW')], ALICE, 'READ', T, 'orders', false],
  [
    'ALLOW DESCRIBE_CONFIGS does not imply ALTER_CONFIGS',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'DESCRIBE_CONFIGS', 'ALLOW')],
    ALICE,
    'ALTER_CONFIGS',
    T,
    'orders',
    false,
  ],
  ['ALLOW ALL allows READ', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'ALLOW')], ALICE, 'READ', T, 'orders', true],
  ['ALLOW ALL allows ALTER_CONFIGS', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'ALLOW')], ALICE, 'ALTER_CONFIGS', T, 'orders', true],
  ['ALLOW ALL allows DELETE', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'ALLOW')], ALICE, 'DELETE', T, 'orders', true],
  // DENY wins, and is never widened
  [
    'DENY READ beats ALLOW READ',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  [
    'DENY READ beats ALLOW ALL for READ',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  [
    'DENY READ leaves WRITE to ALLOW ALL',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'WRITE',
    T,
    'orders',
    true,
  ],
  [
    'DENY READ does not deny the DESCRIBE that ALLOW READ implies',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'DESCRIBE',
    T,
    'orders',
    true,
  ],
  [
    'DENY ALTER_CONFIGS does not deny DESCRIBE_CONFIGS',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALTER_CONFIGS', 'DENY')],
    ALICE,
    'DESCRIBE_CONFIGS',
    T,
    'orders',
    true,
  ],
  [
    'DENY ALL denies everything',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALL', 'DENY')],
    ALICE,
    'DESCRIBE',
    T,
    'orders',
    false,
  ],
  [
    'DENY for User:* denies alice despite her ALLOW',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:*', '*', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  [
    'DENY on the wildcard topic denies a literal ALLOW',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', '*', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  [
    'DENY on a prefix denies a literal ALLOW',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'PREFIXED', 'ord', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  [
    'DENY on a literal name denies a prefix ALLOW',
    [acl(T, 'PREFIXED', 'ord', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'orders',
    false,
  ],
  // principals
  ['ALLOW for User:* allows alice', [acl(T, 'LITERAL', 'orders', 'User:*', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', true],
  ['ALLOW for User:* allows ANONYMOUS', [acl(T, 'LITERAL', 'orders', 'User:*', '*', 'READ', 'ALLOW')], ANONYMOUS, 'READ', T, 'orders', true],
  ["alice's ALLOW does not allow bob", [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], BOB, 'READ', T, 'orders', false],
  ['principal names are case-sensitive', [acl(T, 'LITERAL', 'orders', 'User:Alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', false],
  ['principal type matters', [acl(T, 'LITERAL', 'orders', 'Group:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', false],
  // hosts
  ['ALLOW from the client host', [acl(T, 'LITERAL', 'orders', 'User:alice', '10.0.0.1', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', true],
  [
    'ALLOW from another host does not apply',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '10.0.0.1', 'READ', 'ALLOW')],
    ALICE_ELSEWHERE,
    'READ',
    T,
    'orders',
    false,
  ],
  [
    'DENY from another host does not apply',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '10.0.0.2', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'orders',
    true,
  ],
  [
    'DENY from the client host applies',
    [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'LITERAL', 'orders', 'User:alice', '10.0.0.2', 'READ', 'DENY')],
    ALICE_ELSEWHERE,
    'READ',
    T,
    'orders',
    false,
  ],
  // resource patterns
  ['LITERAL * matches every topic', [acl(T, 'LITERAL', '*', 'User:alice', '*', 'WRITE', 'ALLOW')], ALICE, 'WRITE', T, 'anything', true],
  ['LITERAL name is not a prefix', [acl(T, 'LITERAL', 'ord', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', false],
  ['PREFIXED matches names that start with it', [acl(T, 'PREFIXED', 'ord', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', true],
  ['PREFIXED matches its own name exactly', [acl(T, 'PREFIXED', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', true],
  ['PREFIXED does not match a shorter name', [acl(T, 'PREFIXED', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'order', false],
  ['PREFIXED does not match in the middle', [acl(T, 'PREFIXED', 'ord', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'xorders', false],
  ['PREFIXED * is a literal asterisk prefix, not a wildcard', [acl(T, 'PREFIXED', '*', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, 'orders', false],
  ['PREFIXED * matches names starting with *', [acl(T, 'PREFIXED', '*', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', T, '*x', true],
  [
    'nested prefixes: DENY on the middle one wins',
    [
      acl(T, 'PREFIXED', 'a', 'User:alice', '*', 'READ', 'ALLOW'),
      acl(T, 'PREFIXED', 'ab', 'User:alice', '*', 'READ', 'DENY'),
      acl(T, 'PREFIXED', 'abc', 'User:alice', '*', 'READ', 'ALLOW'),
    ],
    ALICE,
    'READ',
    T,
    'abcd',
    false,
  ],
  [
    'nested prefixes: a name outside the DENY',
    [acl(T, 'PREFIXED', 'a', 'User:alice', '*', 'READ', 'ALLOW'), acl(T, 'PREFIXED', 'ab', 'User:alice', '*', 'READ', 'DENY')],
    ALICE,
    'READ',
    T,
    'ac',
    true,
  ],
  ['resource types are separate', [acl('GROUP', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', 'GROUP', 'orders', true],
  ['a TOPIC ACL does not allow the GROUP', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], ALICE, 'READ', 'GROUP', 'orders', false],
  // other resource types
  [
    'CLUSTER IDEMPOTENT_WRITE',
    [acl('CLUSTER', 'LITERAL', CLUSTER_NAME, 'User:alice', '*', 'IDEMPOTENT_WRITE', 'ALLOW')],
    ALICE,
    'IDEMPOTENT_WRITE',
    'CLUSTER',
    CLUSTER_NAME,
    true,
  ],
  [
    'CLUSTER CREATE does not give ALTER',
    [acl('CLUSTER', 'LITERAL', CLUSTER_NAME, 'User:alice', '*', 'CREATE', 'ALLOW')],
    ALICE,
    'ALTER',
    'CLUSTER',
    CLUSTER_NAME,
    false,
  ],
  [
    'CLUSTER ALTER implies DESCRIBE',
    [acl('CLUSTER', 'LITERAL', CLUSTER_NAME, 'User:alice', '*', 'ALTER', 'ALLOW')],
    ALICE,
    'DESCRIBE',
    'CLUSTER',
    CLUSTER_NAME,
    true,
  ],
  [
    'TRANSACTIONAL_ID WRITE',
    [acl('TRANSACTIONAL_ID', 'PREFIXED', 'tx-', 'User:alice', '*', 'WRITE', 'ALLOW')],
    ALICE,
    'WRITE',
    'TRANSACTIONAL_ID',
    'tx-1',
    true,
  ],
  [
    'DELEGATION_TOKEN DESCRIBE',
    [acl('DELEGATION_TOKEN', 'LITERAL', 'token1', 'User:alice', '*', 'DESCRIBE', 'ALLOW')],
    ALICE,
    'DESCRIBE',
    'DELEGATION_TOKEN',
    'token1',
    true,
  ],
  ['USER CREATE_TOKENS', [acl('USER', 'LITERAL', 'User:bob', 'User:alice', '*', 'CREATE_TOKENS', 'ALLOW')], ALICE, 'CREATE_TOKENS', 'USER', 'User:bob', true],
  [
    'USER DESCRIBE_TOKENS is not CREATE_TOKENS',
    [acl('USER', 'LITERAL', 'User:bob', 'User:alice', '*', 'DESCRIBE_TOKENS', 'ALLOW')],
    ALICE,
    'CREATE_TOKENS',
    'USER',
    'User:bob',
    false,
  ],
];

describe('authorize: StandardAuthorizer semantics', () => {
  test.each(cases)('%s', (_name, acls, session, op, rt, name, expected) => {
    expect(authorizer(acls).authorize(session, AclOperation[op], ResourceType[rt], name)).toBe(expected);
  });
});

describe('allow.everyone.if.no.acl.found', () => {
  // [case, ACLs, allowed with the flag on]
  const rows: Array<[string, AclBinding[], boolean]> = [
    ['no ACLs at all', [], true],
    ['ACLs only on other topics', [acl(T, 'LITERAL', 'payments', 'User:bob', '*', 'READ', 'ALLOW')], true],
    ['ACLs only on other resource types', [acl('GROUP', 'LITERAL', 'orders', 'User:bob', '*', 'READ', 'ALLOW')], true],
    ['a PREFIXED ACL for another topic prefix', [acl(T, 'PREFIXED', 'pay', 'User:bob', '*', 'READ', 'ALLOW')], true],
    // "No ACL found" means no ACL applies to the resource at all, for anyone:
    ['an ACL on the topic for another principal', [acl(T, 'LITERAL', 'orders', 'User:bob', '*', 'READ', 'ALLOW')], false],
    ['an ACL on the topic for another operation', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'WRITE', 'ALLOW')], false],
    ['an ACL on the topic from another host', [acl(T, 'LITERAL', 'orders', 'User:alice', '10.9.9.9', 'READ', 'ALLOW')], false],
    ['a wildcard-topic ACL for another principal', [acl(T, 'LITERAL', '*', 'User:bob', '*', 'READ', 'ALLOW')], false],
    ['a matching PREFIXED ACL for another principal', [acl(T, 'PREFIXED', 'ord', 'User:bob', '*', 'READ', 'ALLOW')], false],
    ['a matching DENY', [acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'DENY')], false],
  ];
  test.each(rows)('%s', (_name, acls, expected) => {
    expect(authorizer(acls, { allowEveryoneIfNoAclFound: true }).authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(expected);
    // Off (the default), nothing without a matching ALLOW is allowed.
    expect(authorizer(acls).authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(false);
  });
});

describe('super.users', () => {
  const denyAll = [acl(T, 'LITERAL', '*', 'User:*', '*', 'ALL', 'DENY'), acl('CLUSTER', 'LITERAL', CLUSTER_NAME, 'User:*', '*', 'ALL', 'DENY')];
  test('a super user is allowed everything, DENY ACLs notwithstanding', () => {
    const a = authorizer(denyAll, { superUsers: ['User:admin', 'User:ANONYMOUS'] });
    for (const op of [AclOperation.READ, AclOperation.WRITE, AclOperation.ALTER, AclOperation.CLUSTER_ACTION]) {
      expect(a.authorize(ADMIN, op, ResourceType.TOPIC, 'orders')).toBe(true);
      expect(a.authorize(ADMIN, op, ResourceType.CLUSTER, CLUSTER_NAME)).toBe(true);
    }
    expect(a.authorize(ANONYMOUS, AclOperation.READ, ResourceType.TOPIC, 'x')).toBe(true);
    expect(a.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(false);
    expect(a.isSuperUser('User:admin')).toBe(true);
  });
  test('exact strings: no case folding, no wildcard', () => {
    const a = authorizer([], { superUsers: ['user:admin', 'User:*'] });
    expect(a.authorize(ADMIN, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(false);
  });
});

describe('authorizeByResourceType (Kafka Authorizer default method)', () => {
  const W = 'WRITE' as const;
  const rows: Array<[string, AclBinding[], boolean, { superUsers?: string[]; allowEveryoneIfNoAclFound?: boolean }?]> = [
    ['no ACLs', [], false],
    ['no ACLs, allow.everyone.if.no.acl.found', [], true, { allowEveryoneIfNoAclFound: true }],
    ['super user', [], true, { superUsers: ['User:alice'] }],
    ['ALLOW WRITE on one literal topic', [acl(T, 'LITERAL', 'a', 'User:alice', '*', W, 'ALLOW')], true],
    ['ALLOW WRITE on a prefix', [acl(T, 'PREFIXED', 'a', 'User:alice', '*', W, 'ALLOW')], true],
    ['ALLOW ALL', [acl(T, 'LITERAL', 'a', 'User:alice', '*', 'ALL', 'ALLOW')], true],
    ['ALLOW for User:*', [acl(T, 'LITERAL', 'a', 'User:*', '*', W, 'ALLOW')], true],
    ['ALLOW READ only: no implication here', [acl(T, 'LITERAL', 'a', 'User:alice', '*', 'READ', 'ALLOW')], false],
    ["bob's ALLOW", [acl(T, 'LITERAL', 'a', 'User:bob', '*', W, 'ALLOW')], false],
    ['ALLOW from another host', [acl(T, 'LITERAL', 'a', 'User:alice', '10.9.9.9', W, 'ALLOW')], false],
    [
      'literal ALLOW and literal DENY of the same name',
      [acl(T, 'LITERAL', 'a', 'User:alice', '*', W, 'ALLOW'), acl(T, 'LITERAL', 'a', 'User:alice', '*', W, 'DENY')],
      false,
    ],
    [
      'literal ALLOW and DENY of another name',
      [acl(T, 'LITERAL', 'a', 'User:alice', '*', W, 'ALLOW'), acl(T, 'LITERAL', 'b', 'User:alice', '*', W, 'DENY')],
      true,
    ],
    [
      'literal ALLOW dominated by a prefix DENY',
      [acl(T, 'LITERAL', 'abc', 'User:alice', '*', W, 'ALLOW'), acl(T, 'PREFIXED', 'ab', 'User:alice', '*', W, 'DENY')],
      false,
    ],
    [
      'prefix ALLOW dominated by a shorter prefix DENY',
      [acl(T, 'PREFIXED', 'abc', 'User:alice', '*', W, 'ALLOW'), acl(T, 'PREFIXED', 'a', 'User:alice', '*', W, 'DENY')],
      false,
    ],
    [
      'prefix ALLOW with a longer prefix DENY inside it',
      [acl(T, 'PREFIXED', 'a', 'User:alice', '*', W, 'ALLOW'), acl(T, 'PREFIXED', 'abc', 'User:alice', '*', W, 'DENY')],
      true,
    ],
    ['LITERAL * DENY denies all', [acl(T, 'LITERAL', 'a', 'User:alice', '*', W, 'ALLOW'), acl(T, 'LITERAL', '*', 'User:alice', '*', W, 'DENY')], false],
    ['LITERAL * ALLOW', [acl(T, 'LITERAL', '*', 'User:alice', '*', W, 'ALLOW')], true],
    [
      'LITERAL * ALLOW with a literal DENY',
      [acl(T, 'LITERAL', '*', 'User:alice', '*', W, 'ALLOW'), acl(T, 'LITERAL', 'a', 'User:alice', '*', W, 'DENY')],
      true,
    ],
    ['ALLOW on another resource type', [acl('GROUP', 'LITERAL', 'a', 'User:alice', '*', W, 'ALLOW')], false],
  ];
  test.each(rows)('%s', (_name, acls, expected, opts) => {
    expect(authorizer(acls, opts).authorizeByResourceType(ALICE, AclOperation.WRITE, ResourceType.TOPIC)).toBe(expected);
  });
});

describe('authorizedOperations bit field', () => {
  test('topic: READ implies DESCRIBE; bits are 1 << operation code', () => {
    const a = authorizer([
      acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'),
      acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'ALTER_CONFIGS', 'ALLOW'),
    ]);
    expect(a.authorizedOperations(ALICE, ResourceType.TOPIC, 'orders')).toBe((1 << 3) | (1 << 8) | (1 << 10) | (1 << 11));
    expect(a.authorizedOperations(BOB, ResourceType.TOPIC, 'orders')).toBe(0);
  });
  test('super user: every supported operation of the type, never ALL or ANY', () => {
    const a = authorizer([], { superUsers: ['User:admin'] });
    expect(a.authorizedOperations(ADMIN, ResourceType.GROUP, 'g')).toBe((1 << 3) | (1 << 8) | (1 << 6));
    expect(a.authorizedOperations(ADMIN, ResourceType.CLUSTER, CLUSTER_NAME)).toBe(
      (1 << 5) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 7) | (1 << 8),
    );
    expect(a.authorizedOperations(ADMIN, ResourceType.TOPIC, 't')).toBe([3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0)); // not CLUSTER_ACTION (9)
  });
});

describe('CreateAcls / DescribeAcls / DeleteAcls', () => {
  test('create: per-binding results in order, invalid ones with Kafka messages', async () => {
    const a = authorizer([]);
    const bad = (over: Partial<{ rt: number; pt: number; op: number; perm: number; name: string; principal: string }>) => ({
      pattern: { resourceType: over.rt ?? ResourceType.TOPIC, name: over.name ?? 'x', patternType: over.pt ?? PatternType.LITERAL },
      entry: {
        principal: over.principal ?? 'User:a',
        host: '*',
        operation: over.op ?? AclOperation.READ,
        permissionType: over.perm ?? AclPermissionType.ALLOW,
      },
    });
    const results = await a.createAcls([
      acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'),
      bad({ rt: ResourceType.ANY }),
      bad({ rt: 42 }),
      bad({ pt: PatternType.MATCH }),
      bad({ pt: PatternType.ANY }),
      bad({ op: AclOperation.ANY }),
      bad({ op: 99 }),
      bad({ perm: AclPermissionType.ANY }),
      bad({ name: '' }),
      bad({ rt: ResourceType.CLUSTER, name: 'my-cluster' }),
      bad({ principal: 'alice' }),
      acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'), // duplicate in the same request
    ]);
    expect(results.map((r) => r.errorMessage)).toEqual([
      null,
      'Invalid resourceType ANY',
      'Invalid resourceType UNKNOWN',
      'Invalid patternType MATCH',
      'Invalid patternType ANY',
      'Invalid operation ANY',
      'Invalid operation UNKNOWN',
      'Invalid permissionType ANY',
      'Resource name should not be empty',
      'The only valid name for the CLUSTER resource is kafka-cluster',
      'Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)',
      null,
    ]);
    expect(results.map((r) => r.errorCode)).toEqual([0, ...Array(10).fill(ErrorCode.INVALID_REQUEST), 0]);
    expect(a.aclCount).toBe(1);
    // Creating it again succeeds and keeps one copy.
    expect(await a.createAcls([acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')])).toEqual([{ errorCode: 0, errorMessage: null }]);
    expect(a.aclCount).toBe(1);
  });

  test('describe with MATCH returns what applies to a name; ANY compares names exactly', () => {
    const all = [
      acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'),
      acl(T, 'LITERAL', '*', 'User:bob', '*', 'READ', 'ALLOW'),
      acl(T, 'PREFIXED', 'ord', 'User:carol', '*', 'WRITE', 'DENY'),
      acl(T, 'PREFIXED', 'pay', 'User:carol', '*', 'WRITE', 'DENY'),
      acl('GROUP', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'),
    ];
    const a = authorizer(all);
    expect(a.acls(filter(T, 'MATCH', 'orders'))).toEqual([all[0], all[1], all[2]]);
    expect(a.acls(filter(T, 'ANY', 'orders'))).toEqual([all[0]]);
    expect(a.acls(filter('ANY', 'ANY', 'orders'))).toEqual([all[0], all[4]]);
    expect(a.acls(filter('ANY', 'PREFIXED', null))).toEqual([all[2], all[3]]);
    expect(a.acls(filter('ANY', 'ANY', null, 'User:carol', null, 'WRITE', 'DENY'))).toEqual([all[2], all[3]]);
  });

  test('delete: per-filter results listing what each removed; a binding matched twice is deleted once', async () => {
    const all = [
      acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW'),
      acl(T, 'PREFIXED', 'ord', 'User:alice', '*', 'READ', 'ALLOW'),
      acl('GROUP', 'LITERAL', 'g', 'User:alice', '*', 'READ', 'ALLOW'),
    ];
    const a = authorizer(all);
    expect(a.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(true);
    const results = await a.deleteAcls([
      filter(T, 'MATCH', 'orders'),
      filter(T, 'LITERAL', 'orders'),
      filter('UNKNOWN', 'ANY', null),
      filter(T, 'ANY', 'nothing'),
    ]);
    expect(results).toEqual([
      { errorCode: 0, errorMessage: null, deleted: [all[0], all[1]] },
      { errorCode: 0, errorMessage: null, deleted: [all[0]] },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown patternFilter.', deleted: [] },
      { errorCode: 0, errorMessage: null, deleted: [] },
    ]);
    expect(a.acls(filter('ANY', 'ANY', null))).toEqual([all[2]]);
    // The index follows: no topic ACLs are left, so "no ACL found" applies again.
    expect(a.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(false);
    expect(authorizer([], { allowEveryoneIfNoAclFound: true }).authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(true);
  });

  test('a store that fails to write changes nothing and answers UNKNOWN_SERVER_ERROR', async () => {
    const store = new MemoryAclStore();
    const a = new StandardAuthorizer(store);
    store.apply = () => {
      throw new Error('ENOSPC: no space left on device');
    };
    const [r] = await a.createAcls([acl(T, 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')]);
    expect(r).toEqual({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'Failed to store ACLs: ENOSPC: no space left on device' });
    expect(a.aclCount).toBe(0);
    expect(a.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(false);
  });
});

describe('the index agrees with a direct reading of the rules (randomized)', () => {
  // Reference: every binding examined, no index. Written from the rules in authorizer.ts's header.
  function reference(bindings: AclBinding[], s: Session, op: number, rt: number, name: string, allowEveryone: boolean): boolean {
    let applies = false;
    let allow = false;
    for (const b of bindings) {
      const p = b.pattern;
      if (p.resourceType !== rt) continue;
      const resourceMatch = p.patternType === PatternType.LITERAL ? p.name === name || p.name === '*' : name.startsWith(p.name);
      if (!resourceMatch) continue;
      applies = true;
      const e = b.entry;
      if (e.principal !== s.principal && e.principal !== 'User:*') continue;
      if (e.host !== '*' && e.host !== s.host) continue;
      const isAllow = e.permissionType === AclPermissionType.ALLOW;
      let opMatch = e.operation === AclOperation.ALL || e.operation === op;
      if (!opMatch && isAllow && op === AclOperation.DESCRIBE)
        opMatch = [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER].includes(e.operation as never);
      if (!opMatch && isAllow && op === AclOperation.DESCRIBE_CONFIGS) opMatch = e.operation === AclOperation.ALTER_CONFIGS;
      if (!opMatch) continue;
      if (!isAllow) return false;
      allow = true;
    }
    return allow || (!applies && allowEveryone);
  }

  test('2000 random checks over 300 random ACLs, with deletions', async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pick = <V>(xs: readonly V[]) => xs[rnd(xs.length)] as V;
    const names = ['a', 'ab', 'abc', 'abcd', 'b', 'ba', '*', 'orders', 'ord', 'o'];
    const principals = ['User:alice', 'User:bob', 'User:*'];
    const hosts = ['*', '10.0.0.1', '10.0.0.2'];
    const ops = [
      AclOperation.ALL,
      AclOperation.READ,
      AclOperation.WRITE,
      AclOperation.DESCRIBE,
      AclOperation.ALTER,
      AclOperation.DELETE,
      AclOperation.ALTER_CONFIGS,
      AclOperation.DESCRIBE_CONFIGS,
      AclOperation.CREATE,
    ];
    const bindings: AclBinding[] = [];
    for (let i = 0; i < 300; i++) {
      bindings.push({
        pattern: {
          resourceType: pick([ResourceType.TOPIC, ResourceType.GROUP]),
          name: pick(names),
          patternType: pick([PatternType.LITERAL, PatternType.PREFIXED]),
        },
        entry: {
          principal: pick(principals),
          host: pick(hosts),
          operation: pick(ops),
          permissionType: rnd(5) === 0 ? AclPermissionType.DENY : AclPermissionType.ALLOW,
        },
      });
    }
    for (const allowEveryone of [false, true]) {
      const store = new MemoryAclStore();
      const a = new StandardAuthorizer(store, { allowEveryoneIfNoAclFound: allowEveryone });
      await a.createAcls(bindings.slice(0, 200));
      let live = store.bindings().slice();
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 1000; i++) {
          const s = { principal: pick(['User:alice', 'User:bob', 'User:carol']), host: pick(['10.0.0.1', '10.0.0.2']) };
          const op = pick(ops.slice(1));
          const rt = pick([ResourceType.TOPIC, ResourceType.GROUP]);
          const name = pick([...names.filter((n) => n !== '*'), 'abcde', 'orders-1', 'zzz']);
          expect(a.authorize(s, op, rt, name), `${s.principal}@${s.host} ${op} ${rt}:${name}`).toBe(reference(live, s, op, rt, name, allowEveryone));
        }
        // Mutate: delete everything about one name, add the rest.
        await a.deleteAcls([filter('ANY', 'ANY', 'ab')]);
        await a.createAcls(bindings.slice(200));
        live = store.bindings().slice();
      }
    }
  });
});
