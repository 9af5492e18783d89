// Which quota applies to whom (Kafka's precedence), who shares a rate, and that changes apply at once.

import { describe, expect, test } from 'vitest';
import type { ClientQuotaEntity } from './client-quota-entity.ts';
import { ClientQuotas, quotaUser } from './client-quota-manager.ts';
import { MemoryClientQuotaStore } from './client-quota-store.ts';

const WINDOW = { samples: 11, windowMs: 1000 };
const user = (name: string | null) => ({ type: 'user' as const, name });
const client = (name: string | null) => ({ type: 'client-id' as const, name });

function setup() {
  let now = 1_000_000;
  const store = new MemoryClientQuotaStore();
  const quotas = new ClientQuotas(store, WINDOW, WINDOW, () => now);
  const set = (entity: ClientQuotaEntity, key: string, value: number | undefined) => store.apply([{ entity, key, value }]);
  return { store, quotas, set, advance: (ms: number) => (now += ms) };
}

/** The bytes a client may send at once before being throttled (10 windows of its quota). */
function burstThrottled(quotas: ClientQuotas, u: string, c: string, bytes: number): number {
  return quotas.produce.recordAndGetThrottleTimeMs(u, c, bytes);
}

describe('client quota precedence', () => {
  test('user + client-id beats user, which beats default user, which beats client-id', () => {
    const { quotas, set } = setup();
    set([client('app')], 'producer_byte_rate', 100);
    set([user(null)], 'producer_byte_rate', 200);
    set([user('alice')], 'producer_byte_rate', 300);
    set([user('alice'), client('app')], 'producer_byte_rate', 400);
    expect(quotas.produce.maxValueInQuotaWindow('alice', 'app')).toBe(4000);
    expect(quotas.produce.maxValueInQuotaWindow('alice', 'other')).toBe(3000);
    expect(quotas.produce.maxValueInQuotaWindow('bob', 'app')).toBe(2000);
    set([user(null)], 'producer_byte_rate', undefined);
    expect(quotas.produce.maxValueInQuotaWindow('bob', 'app')).toBe(1000);
    expect(quotas.produce.maxValueInQuotaWindow('bob', 'x')).toBe(Number.POSITIVE_INFINITY);
  });

  test('a default-client-id quota under a user, and the all-defaults entity', () => {
    const { quotas, set } = setup();
    set([user('alice'), client(null)], 'consumer_byte_rate', 10);
    set([user(null), client(null)], 'consumer_byte_rate', 20);
    expect(quotas.fetch.maxValueInQuotaWindow('alice', 'x')).toBe(100);
    expect(quotas.fetch.maxValueInQuotaWindow('bob', 'x')).toBe(200);
    // Another quota type is not affected.
    expect(quotas.produce.anyQuota).toBe(false);
    expect(quotas.fetch.anyQuota).toBe(true);
  });

  test('a user quota is shared by all its client ids; a default-user quota applies to each user separately', () => {
    const { quotas, set } = setup();
    set([user('alice')], 'producer_byte_rate', 1000);
    set([user(null)], 'producer_byte_rate', 1000);
    // Ten windows' worth is the burst: alice's two clients share it.
    expect(burstThrottled(quotas, 'alice', 'a', 6000)).toBe(0);
    expect(burstThrottled(quotas, 'alice', 'b', 6000)).toBeGreaterThan(0);
    // bob and carol each get their own.
    expect(burstThrottled(quotas, 'bob', 'a', 9000)).toBe(0);
    expect(burstThrottled(quotas, 'carol', 'a', 9000)).toBe(0);
    const tags = quotas.sensorInfos().map((s) => `${s.user}/${s.clientId}`);
    expect(tags.sort()).toEqual(['alice/', 'bob/', 'carol/']);
  });

  test('a client id quota: every user of that client id shares it', () => {
    const { quotas, set } = setup();
    set([client('batch')], 'producer_byte_rate', 100);
    expect(burstThrottled(quotas, 'u1', 'batch', 800)).toBe(0);
    expect(burstThrottled(quotas, 'u2', 'batch', 800)).toBe(6000); // 1600 over 10 s against 100/s
  });

  test('the throttle time is the excess over the measured window; the rate falls as samples age out', () => {
    const { quotas, set, advance } = setup();
    set([client('p')], 'producer_byte_rate', 1000);
    expect(quotas.produce.recordAndGetThrottleTimeMs('', 'p', 11_000)).toBe(1000);
    // As in Kafka, the window counts as 10 s until 10 full windows have passed: still over.
    advance(1000);
    expect(quotas.produce.recordAndGetThrottleTimeMs('', 'p', 0)).toBe(1000);
    // Once the first sample is older than 11 windows it is dropped.
    advance(10_000);
    expect(quotas.produce.recordAndGetThrottleTimeMs('', 'p', 0)).toBe(0);
  });

  test('a quota set while a client is running applies to its next request', () => {
    const { quotas, set } = setup();
    expect(quotas.produce.recordAndGetThrottleTimeMs('', 'p', 1_000_000)).toBe(0);
    set([client('p')], 'producer_byte_rate', 1000);
    expect(quotas.produce.recordAndGetThrottleTimeMs('', 'p', 1)).toBeGreaterThan(0);
  });

  test('request quotas are bounded by one window', () => {
    const { quotas, set } = setup();
    set([client('busy')], 'request_percentage', 1);
    expect(quotas.request.recordAndGetThrottleTimeMs('', 'busy', 1000)).toBe(1000);
  });

  test('controller mutations: a bucket of quota × 11 s, in debt after a large creation', () => {
    const { quotas, set, advance } = setup();
    set([user('ops')], 'controller_mutation_rate', 1);
    expect(quotas.controllerMutation.mutationThrottleTimeMs('ops', 'c')).toBe(0);
    expect(quotas.controllerMutation.recordMutations('ops', 'c', 20)).toBe(9000);
    expect(quotas.controllerMutation.mutationThrottleTimeMs('ops', 'c')).toBe(9000);
    advance(9000);
    expect(quotas.controllerMutation.mutationThrottleTimeMs('ops', 'c')).toBe(0);
  });

  test('quotaUser strips the principal type', () => {
    expect(quotaUser('User:alice')).toBe('alice');
    expect(quotaUser('User:CN=a,O=b')).toBe('CN=a,O=b');
    expect(quotaUser('ANONYMOUS')).toBe('ANONYMOUS');
  });
});

describe('connection_creation_rate', () => {
  test('an address over its rate is refused for the throttle time; the default ip entity covers the others', () => {
    const { quotas, set } = setup();
    set([{ type: 'ip', name: '10.0.0.1' }], 'connection_creation_rate', 1);
    // A burst of 10 windows' worth, then throttled; a refused connection is not counted.
    for (let i = 0; i < 10; i++) expect(quotas.ipConnections.recordConnection('10.0.0.1')).toBe(0);
    expect(quotas.ipConnections.recordConnection('10.0.0.1')).toBe(1000);
    expect(quotas.ipConnections.recordConnection('10.0.0.1')).toBe(1000);
    expect(quotas.ipConnections.recordConnection('10.0.0.2')).toBe(0);
    set([{ type: 'ip', name: null }], 'connection_creation_rate', 0.1);
    expect(quotas.ipConnections.recordConnection('10.0.0.2')).toBe(0);
    expect(quotas.ipConnections.recordConnection('10.0.0.2')).toBeGreaterThan(0);
  });
});
