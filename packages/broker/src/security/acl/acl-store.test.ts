import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { acl, filter } from './acl-test-helpers.ts';
import { ACLS_FILE, FileAclStore, MemoryAclStore } from './acl-store.ts';
import { AclOperation, ResourceType } from './acl-types.ts';
import { StandardAuthorizer } from './authorizer.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-acls-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const a1 = acl('TOPIC', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW');
const a2 = acl('GROUP', 'PREFIXED', 'app-', 'User:alice', '10.0.0.1', 'ALL', 'DENY');
const a3 = acl('CLUSTER', 'LITERAL', 'kafka-cluster', 'User:*', '*', 'IDEMPOTENT_WRITE', 'ALLOW');

describe.each([
  ['memory', () => new MemoryAclStore()],
  ['file', () => new FileAclStore(dir)],
] as const)('%s store', (_kind, make) => {
  test('add, de-duplicate, remove, in insertion order', () => {
    const s = make();
    s.apply([a1, a2, a1], []);
    expect(s.bindings()).toEqual([a1, a2]);
    s.apply([a3], [a1]);
    expect(s.bindings()).toEqual([a2, a3]);
  });

  test('an invalid binding fails the whole change', () => {
    const s = make();
    expect(() => s.apply([a1, acl('TOPIC', 'MATCH', 'x', 'User:a', '*', 'READ', 'ALLOW')], [])).toThrow(/Invalid patternType MATCH/);
    expect(s.bindings()).toEqual([]);
  });
});

describe('file store', () => {
  test('ACLs survive a restart and the authorizer enforces them after it', async () => {
    const auth = new StandardAuthorizer(new FileAclStore(dir));
    await auth.createAcls([a1, a2, a3]);
    await auth.deleteAcls([filter('GROUP', 'ANY', null)]);
    const reopened = new StandardAuthorizer(new FileAclStore(dir));
    expect(reopened.acls(filter('ANY', 'ANY', null))).toEqual([a1, a3]);
    expect(reopened.authorize({ principal: 'User:alice', host: '1.2.3.4' }, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(true);
    expect(reopened.authorize({ principal: 'User:bob', host: '1.2.3.4' }, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(false);
  });

  test("the file uses Kafka's names, readable and stable", () => {
    new FileAclStore(dir).apply([a2], []);
    expect(JSON.parse(readFileSync(join(dir, ACLS_FILE), 'utf8'))).toEqual({
      version: 1,
      acls: [
        { resourceType: 'GROUP', patternType: 'PREFIXED', name: 'app-', principal: 'User:alice', host: '10.0.0.1', operation: 'ALL', permissionType: 'DENY' },
      ],
    });
  });

  test('a failed write changes nothing', () => {
    const s = new FileAclStore(dir);
    s.apply([a1], []);
    rmSync(dir, { recursive: true, force: true });
    expect(() => s.apply([a2], [a1])).toThrow();
    expect(s.bindings()).toEqual([a1]);
  });

  test.each([
    ['not JSON', '[', /JSON|Unexpected|Expected/],
    ['unknown version', '{"version":7,"acls":[]}', /unsupported ACL file/],
    [
      'unknown operation',
      '{"version":1,"acls":[{"resourceType":"TOPIC","patternType":"LITERAL","name":"x","principal":"User:a","host":"*","operation":"FLY","permissionType":"ALLOW"}]}',
      /ACL #0 .*Invalid operation UNKNOWN/,
    ],
    [
      'missing principal',
      '{"version":1,"acls":[{"resourceType":"TOPIC","patternType":"LITERAL","name":"x","host":"*","operation":"READ","permissionType":"ALLOW"}]}',
      /must be strings/,
    ],
  ])('a corrupt file (%s) is an error, never an empty ACL set', (_what, text, error) => {
    writeFileSync(join(dir, ACLS_FILE), text);
    expect(() => new FileAclStore(dir)).toThrow(error);
  });
});
