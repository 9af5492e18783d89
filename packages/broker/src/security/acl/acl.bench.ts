// Micro-benchmark of StandardAuthorizer.authorize, the check every request makes once wired.
// 10,000 ACLs spread as a real deployment would have them: 2,000 principals, each with LITERAL
// topic ACLs, PREFIXED topic ACLs (several prefix lengths) and a GROUP ACL, plus a few `User:*`
// and `*` ACLs. Measures ns per check for: an allowed literal hit, an allowed prefix hit, a
// denied check (no matching ACL, but ACLs on the resource), a "no ACL found" check, a super user,
// and the baseline of a Map lookup (what any check costs at least), all in the same run.
//
// Run: pnpm exec node packages/broker/src/security/acl/acl.bench.ts

import { MemoryAclStore } from './acl-store.ts';
import type { AclBinding } from './acl-types.ts';
import { AclOperation, AclPermissionType, PatternType, ResourceType } from './acl-types.ts';
import { StandardAuthorizer } from './authorizer.ts';

const PRINCIPALS = 2000;

function binding(rt: number, pt: number, name: string, principal: string, op: number, perm: number = AclPermissionType.ALLOW): AclBinding {
  return { pattern: { resourceType: rt, name, patternType: pt }, entry: { principal, host: '*', operation: op, permissionType: perm } };
}

const acls: AclBinding[] = [];
for (let i = 0; i < PRINCIPALS; i++) {
  const p = `User:service-${i}`;
  acls.push(binding(ResourceType.TOPIC, PatternType.LITERAL, `orders-${i}`, p, AclOperation.READ));
  acls.push(binding(ResourceType.TOPIC, PatternType.LITERAL, `events-${i}`, p, AclOperation.WRITE));
  acls.push(binding(ResourceType.TOPIC, PatternType.PREFIXED, `team-${i % 50}.app-${i}.`, p, AclOperation.READ));
  acls.push(binding(ResourceType.TOPIC, PatternType.PREFIXED, `t${i % 7}-`, p, AclOperation.DESCRIBE));
  acls.push(binding(ResourceType.GROUP, PatternType.LITERAL, `group-${i}`, p, AclOperation.READ));
}
acls.push(binding(ResourceType.TOPIC, PatternType.LITERAL, '*', 'User:monitor', AclOperation.DESCRIBE));
acls.push(binding(ResourceType.TOPIC, PatternType.PREFIXED, 'secret-', 'User:*', AclOperation.ALL, AclPermissionType.DENY));

const store = new MemoryAclStore();
store.apply(acls, []);
const auth = new StandardAuthorizer(store, { superUsers: ['User:admin'] });
if (auth.aclCount !== acls.length) throw new Error(`expected ${acls.length} ACLs, got ${auth.aclCount}`);

const s1234 = { principal: 'User:service-1234', host: '10.1.2.3' };
const cases: Array<[string, () => boolean, boolean]> = [
  ['allowed, literal topic', () => auth.authorize(s1234, AclOperation.READ, ResourceType.TOPIC, 'orders-1234'), true],
  ['allowed, prefixed topic', () => auth.authorize(s1234, AclOperation.READ, ResourceType.TOPIC, 'team-34.app-1234.clicks'), true],
  ['allowed, implied DESCRIBE', () => auth.authorize(s1234, AclOperation.DESCRIBE, ResourceType.TOPIC, 'events-1234'), true],
  ['denied, ACLs on the topic for others', () => auth.authorize(s1234, AclOperation.READ, ResourceType.TOPIC, 'orders-999'), false],
  ['denied, prefix DENY for User:*', () => auth.authorize(s1234, AclOperation.READ, ResourceType.TOPIC, 'secret-payroll'), false],
  ['denied, no ACL found', () => auth.authorize(s1234, AclOperation.READ, ResourceType.TOPIC, 'zzz-unrelated-topic'), false],
  ['allowed, group', () => auth.authorize(s1234, AclOperation.READ, ResourceType.GROUP, 'group-1234'), true],
  ['super user', () => auth.authorize({ principal: 'User:admin', host: '10.0.0.1' }, AclOperation.ALTER, ResourceType.CLUSTER, 'kafka-cluster'), true],
];

// Baseline: one Map.get on a topic name (rotating keys, so the lookup cannot be hoisted), the least
// a per-resource check can cost.
const baselineMap = new Map(acls.map((b) => [b.pattern.name, b]));
const baselineKeys = Array.from({ length: 1024 }, (_, i) => `orders-${i}`);
let k = 0;

function measure(fn: () => unknown, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

const ITER = 1_000_000;
const baseline = measure(() => baselineMap.get(baselineKeys[k++ & 1023] as string), ITER);
console.log(`StandardAuthorizer.authorize with ${auth.aclCount} ACLs (${PRINCIPALS} principals), ${ITER} checks per case`);
console.log(`${'baseline: one Map.get'.padEnd(42)} ${baseline.toFixed(1).padStart(7)} ns`);
for (const [name, fn, expected] of cases) {
  if (fn() !== expected) throw new Error(`${name}: expected ${expected}`);
  measure(fn, ITER / 10); // warm-up
  const ns = measure(fn, ITER);
  console.log(`${name.padEnd(42)} ${ns.toFixed(1).padStart(7)} ns   ${(ns / baseline).toFixed(1)}x baseline`);
}
