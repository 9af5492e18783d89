// The etcd-backed ACL, SCRAM credential, client quota and dynamic broker config stores against a real etcd server:
// several "brokers" (each its own client, store and consumer) over one prefix, changes made
// through one seen by the others, concurrent read-modify-writes of one key that both land (the
// compare-and-swap conflict is forced, then retried), and the one-time import of local files.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type EtcdServer, startEtcd } from '../../../../../test/support/etcd-server.ts';
import { BrokerConfig } from '../../config.ts';
import { DynamicBrokerConfigs } from '../../dynamic-broker-configs.ts';
import { InvalidFeatureUpdate, UpgradeType } from '../../features.ts';
import { silentLogger } from '../../logger.ts';
import { MemoryKvStore } from '../etcd/memory-store.ts';
import { ClientQuotas } from '../../quotas/client-quota-manager.ts';
import { FileClientQuotaStore } from '../../quotas/client-quota-store.ts';
import { FileAclStore } from '../../security/acl/acl-store.ts';
import { acl, filter } from '../../security/acl/acl-test-helpers.ts';
import { StandardAuthorizer } from '../../security/acl/authorizer.ts';
import { AclOperation, ResourceType } from '../../security/acl/acl-types.ts';
import { alterUserScramCredentials } from '../../security/sasl/scram-admin.ts';
import { credentialFromPassword, SCRAM_SHA_256, SCRAM_SHA_512 } from '../../security/sasl/scram-credential.ts';
import { FileScramCredentialStore, scramCredentialToRecord } from '../../security/sasl/scram-credential-store.ts';
import { EtcdClient } from '../etcd/etcd-client.ts';
import type { Compare, KeyValue, KvStore, Op, TxnResult } from '../etcd/kv-store.ts';
import { ClusterKeys } from '../keys.ts';
import { importLocalFiles, openClusterStores } from './cluster-stores.ts';
import { EtcdAclStore } from './etcd-acl-store.ts';
import { EtcdDynamicBrokerConfigStore } from './etcd-dynamic-config-store.ts';
import { EtcdFeatureLevels } from './etcd-feature-store.ts';
import { EtcdClientQuotaStore } from './etcd-quota-store.ts';
import { EtcdScramCredentialStore } from './etcd-scram-store.ts';

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

let run = 0;
const newKeys = () => new ClusterKeys(`/stores-test-${process.pid}-${run++}`);
const clients: EtcdClient[] = [];
function client(): EtcdClient {
  const c = new EtcdClient([etcd.endpoint]);
  clients.push(c);
  return c;
}
afterAll(() => {
  for (const c of clients) c.close();
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Clients whose reads wait until `parties` of them are in flight (once), so that concurrent
 * read-modify-writes all read the same revision and all transactions but one must fail; each
 * client counts its failed transactions.
 */
function lockstep(parties: number): (inner: KvStore) => KvStore & { readonly failedTxns: number } {
  const waiting: Array<() => void> = [];
  let armed = true;
  return (inner) => {
    let failedTxns = 0;
    return {
      get failedTxns() {
        return failedTxns;
      },
      async get(key: string): Promise<KeyValue | null> {
        const kv = await inner.get(key);
        if (armed) {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length >= parties) {
              armed = false;
              for (const r of waiting.splice(0)) r();
            }
          });
        }
        return kv;
      },
      async txn(compares: readonly Compare[], success: readonly Op[], failure?: readonly Op[]): Promise<TxnResult> {
        const r = await inner.txn(compares, success, failure);
        if (!r.succeeded) failedTxns++;
        return r;
      },
      range: (prefix) => inner.range(prefix),
      put: (key, value, lease) => inner.put(key, value, lease),
      delete: (key) => inner.delete(key),
      grantLease: (ttl) => inner.grantLease(ttl),
      keepAlive: (lease) => inner.keepAlive(lease),
      revokeLease: (lease) => inner.revokeLease(lease),
      watch: (prefix, from, handlers) => inner.watch(prefix, from, handlers),
      close: () => inner.close(),
    };
  };
}

/** A client whose watch events wait while `held` (a broker whose watch lags), delivered in order on release. */
function laggingWatch(inner: KvStore): KvStore & { held: boolean; release(): void } {
  const queued: Array<() => void> = [];
  const wrapper = Object.assign(Object.create(inner) as KvStore, {
    held: false,
    release() {
      wrapper.held = false;
      for (const deliver of queued.splice(0)) deliver();
    },
    watch: ((prefix, from, handlers) =>
      inner.watch(prefix, from, {
        onEvents: (events, revision) => {
          if (wrapper.held) queued.push(() => handlers.onEvents(events, revision));
          else handlers.onEvents(events, revision);
        },
        onError: handlers.onError,
      })) as KvStore['watch'],
  });
  return wrapper;
}

const ALICE = { principal: 'User:alice', host: '10.0.0.1' };
const BOB = { principal: 'User:bob', host: '10.0.0.1' };

describe('EtcdAclStore', () => {
  test('an ACL created through one broker is enforced by another; deleted through the second, refused on the first', async () => {
    const keys = newKeys();
    const one = new StandardAuthorizer(await EtcdAclStore.open(client(), keys, silentLogger));
    const two = new StandardAuthorizer(await EtcdAclStore.open(client(), keys, silentLogger));
    expect(two.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders/eu')).toBe(false);
    const created = await one.createAcls([
      acl('TOPIC', 'LITERAL', 'orders/eu', 'User:alice', '*', 'READ', 'ALLOW'),
      acl('GROUP', 'PREFIXED', 'app-', 'User:alice', '*', 'READ', 'ALLOW'),
    ]);
    expect(created).toEqual([
      { errorCode: 0, errorMessage: null },
      { errorCode: 0, errorMessage: null },
    ]);
    // Answered once applied locally: the creating broker enforces it at once.
    expect(one.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders/eu')).toBe(true);
    await until(() => two.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders/eu'));
    expect(two.authorize(ALICE, AclOperation.READ, ResourceType.GROUP, 'app-1')).toBe(true);
    expect(two.acls(filter('ANY', 'ANY', null))).toHaveLength(2);

    const [deleted] = await two.deleteAcls([filter('TOPIC', 'LITERAL', 'orders/eu')]);
    expect(deleted.deleted).toHaveLength(1);
    expect(two.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders/eu')).toBe(false);
    await until(() => !one.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders/eu'));
    expect(one.acls(filter('ANY', 'ANY', null))).toEqual([acl('GROUP', 'PREFIXED', 'app-', 'User:alice', '*', 'READ', 'ALLOW')]);
  });

  test('two brokers adding ACLs to the same resource at once: the CAS conflict is retried and both land', async () => {
    const keys = newKeys();
    const inStep = lockstep(2);
    const c1 = inStep(client());
    const c2 = inStep(client());
    const one = new StandardAuthorizer(await EtcdAclStore.open(c1, keys, silentLogger));
    const two = new StandardAuthorizer(await EtcdAclStore.open(c2, keys, silentLogger));
    await Promise.all([
      one.createAcls([acl('TOPIC', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')]),
      two.createAcls([acl('TOPIC', 'LITERAL', 'orders', 'User:bob', '*', 'WRITE', 'ALLOW')]),
    ]);
    expect(c1.failedTxns + c2.failedTxns).toBe(1);
    for (const a of [one, two]) {
      await until(() => a.aclCount === 2);
      expect(a.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(true);
      expect(a.authorize(BOB, AclOperation.WRITE, ResourceType.TOPIC, 'orders')).toBe(true);
    }
  });

  test('re-creating an ACL through a broker whose watch has not delivered its deletion yet: the ACL exists afterwards', async () => {
    const keys = newKeys();
    const lagging = laggingWatch(client());
    const one = new StandardAuthorizer(await EtcdAclStore.open(client(), keys, silentLogger));
    const two = new StandardAuthorizer(await EtcdAclStore.open(lagging, keys, silentLogger));
    const binding = acl('TOPIC', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW');
    await one.createAcls([binding]);
    await until(() => two.aclCount === 1);
    lagging.held = true;
    await one.deleteAcls([filter('TOPIC', 'LITERAL', 'orders')]);
    expect(two.aclCount).toBe(1); // two has not heard of the deletion
    const created = two.createAcls([binding]);
    setTimeout(() => lagging.release(), 200);
    expect(await created).toEqual([{ errorCode: 0, errorMessage: null }]);
    await until(() => one.aclCount === 1);
    expect(two.authorize(ALICE, AclOperation.READ, ResourceType.TOPIC, 'orders')).toBe(true);
    expect((await EtcdAclStore.open(client(), keys, silentLogger)).bindings()).toEqual([binding]);
  });

  test('a broker opening later reads every ACL; an invalid binding is refused before anything is written', async () => {
    const keys = newKeys();
    const store = await EtcdAclStore.open(client(), keys, silentLogger);
    await store.apply([acl('CLUSTER', 'LITERAL', 'kafka-cluster', 'User:admin', '*', 'ALTER', 'ALLOW')], []);
    await expect(store.apply([acl('TOPIC', 'MATCH', 'x', 'User:a', '*', 'READ', 'ALLOW')], [])).rejects.toThrow(/Invalid patternType MATCH/);
    const later = await EtcdAclStore.open(client(), keys, silentLogger);
    expect(later.bindings()).toEqual([acl('CLUSTER', 'LITERAL', 'kafka-cluster', 'User:admin', '*', 'ALTER', 'ALLOW')]);
  });
});

describe('EtcdScramCredentialStore', () => {
  test('a user created through one broker can be looked up (logged in) at another; deletion follows', async () => {
    const keys = newKeys();
    const one = await EtcdScramCredentialStore.open(client(), keys, silentLogger);
    const two = await EtcdScramCredentialStore.open(client(), keys, silentLogger);
    const c = credentialFromPassword(SCRAM_SHA_512, 'secret', 4096);
    await one.apply([{ kind: 'upsert', user: 'carol/ops', mechanism: 'SCRAM-SHA-512', credential: c }]);
    const stored = (s: EtcdScramCredentialStore) => {
      const found = s.scramCredential('carol/ops', 'SCRAM-SHA-512');
      return found === undefined ? undefined : scramCredentialToRecord(found);
    };
    expect(stored(one)).toEqual(scramCredentialToRecord(c));
    await until(() => stored(two) !== undefined);
    expect(stored(two)).toEqual(scramCredentialToRecord(c));
    expect(two.users()).toEqual(['carol/ops']);
    const results = await alterUserScramCredentials(two, { deletions: [{ name: 'carol/ops', mechanism: 2 }], upsertions: [] });
    expect(results).toEqual([{ user: 'carol/ops', errorCode: 0, errorMessage: null }]);
    await until(() => one.users().length === 0);
    expect(one.scramCredential('carol/ops', 'SCRAM-SHA-512')).toBeUndefined();
  });

  test('two brokers changing one user at once (two mechanisms): both credentials land', async () => {
    const keys = newKeys();
    const inStep = lockstep(2);
    const c1 = inStep(client());
    const c2 = inStep(client());
    const one = await EtcdScramCredentialStore.open(c1, keys, silentLogger);
    const two = await EtcdScramCredentialStore.open(c2, keys, silentLogger);
    await Promise.all([
      one.apply([{ kind: 'upsert', user: 'dave', mechanism: 'SCRAM-SHA-256', credential: credentialFromPassword(SCRAM_SHA_256, 'a', 4096) }]),
      two.apply([{ kind: 'upsert', user: 'dave', mechanism: 'SCRAM-SHA-512', credential: credentialFromPassword(SCRAM_SHA_512, 'b', 4096) }]),
    ]);
    expect(c1.failedTxns + c2.failedTxns).toBe(1);
    for (const s of [one, two]) await until(() => s.credentialsOf('dave').size === 2);
  });
});

describe('EtcdClientQuotaStore', () => {
  test('a quota set through one broker reaches the other and throttles there; concurrent keys of one entity both land', async () => {
    const keys = newKeys();
    const inStep = lockstep(2);
    const c1 = inStep(client());
    const c2 = inStep(client());
    const one = await EtcdClientQuotaStore.open(c1, keys, silentLogger);
    const two = await EtcdClientQuotaStore.open(c2, keys, silentLogger);
    let heard = 0;
    two.onChange(() => heard++);
    // Broker two's quota managers, over its store: they throttle by what broker one sets.
    const managers = new ClientQuotas(two, { samples: 11, windowMs: 1000 }, { samples: 11, windowMs: 1000 });
    expect(managers.produce.recordAndGetThrottleTimeMs('alice', 'app', 1_000_000)).toBe(0);
    const alice = [{ type: 'user' as const, name: 'alice' }];
    await Promise.all([
      one.apply([{ entity: alice, key: 'producer_byte_rate', value: 1024 }]),
      two.apply([{ entity: alice, key: 'consumer_byte_rate', value: 2048 }]),
    ]);
    expect(c1.failedTxns + c2.failedTxns).toBe(1);
    await until(() => one.get(alice)?.size === 2 && two.get(alice)?.size === 2);
    expect(heard).toBeGreaterThan(0);
    expect(managers.produce.anyQuota).toBe(true);
    expect(managers.produce.recordAndGetThrottleTimeMs('alice', 'app', 1_000_000)).toBeGreaterThan(0);
    const defaults = [
      { type: 'user' as const, name: null },
      { type: 'client-id' as const, name: '<default>' },
    ];
    await one.apply([{ entity: defaults, key: 'request_percentage', value: 50 }]);
    await until(() => two.get(defaults) !== undefined);
    expect(two.describe([{ type: 'user', match: 'default' }], false).map((e) => e.entity)).toEqual([defaults]);
    await two.apply([{ entity: alice, key: 'producer_byte_rate', value: undefined }]);
    await until(() => one.get(alice)?.size === 1);
    expect([...one.get(alice)!]).toEqual([['consumer_byte_rate', 2048]]);
  });
});

describe('EtcdDynamicBrokerConfigStore', () => {
  const LEADER = 'leader.replication.throttled.rate';
  const FOLLOWER = 'follower.replication.throttled.rate';
  const brokerConfig = (nodeId: number) => new BrokerConfig([['node.id', String(nodeId)]]);

  test('a default set through one broker applies on the other, its own value over it; concurrent keys of one scope both land', async () => {
    const keys = newKeys();
    const inStep = lockstep(2);
    const c1 = inStep(client());
    const c2 = inStep(client());
    const one = await EtcdDynamicBrokerConfigStore.open(c1, keys, silentLogger);
    const two = await EtcdDynamicBrokerConfigStore.open(c2, keys, silentLogger);
    const onTwo = new DynamicBrokerConfigs(brokerConfig(2), two);
    await Promise.all([
      one.alter(null, (current) => new Map([...current, [LEADER, '1000']])),
      two.alter(null, (current) => new Map([...current, [FOLLOWER, '2000']])),
    ]);
    expect(c1.failedTxns + c2.failedTxns).toBe(1);
    await until(() => onTwo.defaults.size === 2 && one.valuesOf(null).size === 2);
    expect(onTwo.num(LEADER)).toBe(1000);
    // Broker one sets broker two's own value (as any broker's handler could write it): two applies it.
    await one.alter(2, () => new Map([[LEADER, '500']]));
    await until(() => onTwo.num(LEADER) === 500);
    expect(onTwo.num(FOLLOWER)).toBe(2000);
    expect(new DynamicBrokerConfigs(brokerConfig(1), one).num(LEADER)).toBe(1000);
    // Emptied scopes are deleted keys.
    await two.alter(2, () => new Map());
    await two.alter(null, () => new Map());
    await until(() => one.all().length === 0);
    expect((await c1.range(`${keys.prefix}/broker-configs/`)).kvs).toEqual([]);
    expect(onTwo.num(LEADER)).toBe(Number.MAX_SAFE_INTEGER);
    one.close();
    two.close();
  });

  test('the same over the memory store (the KvStore seam); a store opened later reads what is there', async () => {
    const store = new MemoryKvStore();
    const keys = new ClusterKeys('/dyn');
    const first = await EtcdDynamicBrokerConfigStore.open(store, keys, silentLogger);
    await first.alter(3, (current) => new Map([...current, [FOLLOWER, '42']]));
    const later = await EtcdDynamicBrokerConfigStore.open(store, keys, silentLogger);
    expect(new DynamicBrokerConfigs(brokerConfig(3), later).num(FOLLOWER)).toBe(42);
    expect((await store.get('/dyn/broker-configs/3'))?.value).toBe(JSON.stringify({ configs: { [FOLLOWER]: '42' } }));
    first.close();
    later.close();
  });
});

describe('EtcdFeatureLevels', () => {
  const downgrade = (feature: string, level: number) => ({ feature, maxVersionLevel: level, upgradeType: UpgradeType.SAFE_DOWNGRADE });

  test('an update through one broker is every broker’s, its epoch the key’s mod revision; concurrent updates both land, each checked', async () => {
    const keys = newKeys();
    const inStep = lockstep(2);
    const c1 = inStep(client());
    const c2 = inStep(client());
    const one = await EtcdFeatureLevels.open(c1, keys, 1, silentLogger);
    const two = await EtcdFeatureLevels.open(c2, keys, 2, silentLogger);
    expect([one.epoch, one.level('group.version'), one.level('share.version')]).toEqual([0, 1, 1]);
    await Promise.all([one.update([downgrade('group.version', 0)], false), two.update([downgrade('share.version', 0)], false)]);
    expect(c1.failedTxns + c2.failedTxns).toBe(1);
    await until(() => one.level('share.version') === 0 && two.level('group.version') === 0);
    const stored = await c1.get(`${keys.prefix}/features/finalized`);
    expect(one.epoch).toBe(stored!.modRevision);
    expect(two.epoch).toBe(stored!.modRevision);
    expect(two.finalizedFeatures().map((f) => f.name)).toEqual(['metadata.version']);
    // Checked against the cluster's levels: a downgrade to a newer version is refused everywhere.
    await expect((async () => two.update([downgrade('group.version', 1)], false))()).rejects.toThrow(InvalidFeatureUpdate);
    // validateOnly and no-op updates write nothing.
    await one.update([{ feature: 'group.version', maxVersionLevel: 1, upgradeType: UpgradeType.UPGRADE }], true);
    await one.update([downgrade('group.version', 0)], false);
    expect((await c1.get(`${keys.prefix}/features/finalized`))!.modRevision).toBe(stored!.modRevision);
    one.close();
    two.close();
  });

  test('over the memory store: a broker opened later reads the levels and the epoch', async () => {
    const store = new MemoryKvStore();
    const keys = new ClusterKeys('/feat');
    const first = await EtcdFeatureLevels.open(store, keys, 1, silentLogger);
    await first.update([{ feature: 'share.version', maxVersionLevel: 0, upgradeType: UpgradeType.UNSAFE_DOWNGRADE }], false);
    const later = await EtcdFeatureLevels.open(store, keys, 2, silentLogger);
    expect(later.level('share.version')).toBe(0);
    expect(later.epoch).toBe(first.epoch);
    expect(later.epoch).toBeGreaterThan(0);
    first.close();
    later.close();
  });
});

describe('import of a single node local files', () => {
  test('the first broker carries its files in, once; a later broker with other files does not', async () => {
    const keys = newKeys();
    const first = mkdtempSync(join(tmpdir(), 'sluice-import-'));
    const second = mkdtempSync(join(tmpdir(), 'sluice-import-'));
    try {
      new FileAclStore(first).apply([acl('TOPIC', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')], []);
      new FileScramCredentialStore(first).apply([
        { kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-256', credential: credentialFromPassword(SCRAM_SHA_256, 'pw', 4096) },
      ]);
      new FileClientQuotaStore(first).apply([{ entity: [{ type: 'client-id', name: 'app' }], key: 'producer_byte_rate', value: 4096 }]);
      new FileAclStore(second).apply([acl('TOPIC', 'LITERAL', 'stale', 'User:mallory', '*', 'ALL', 'ALLOW')], []);

      expect(await importLocalFiles(client(), keys, 1, first, silentLogger)).toEqual({ imported: true, acls: 1, scramUsers: 1, quotaEntities: 1 });
      const stores = await openClusterStores(client(), keys, 2, second, silentLogger);
      expect(stores.acls.bindings()).toEqual([acl('TOPIC', 'LITERAL', 'orders', 'User:alice', '*', 'READ', 'ALLOW')]);
      expect(stores.scramCredentials.users()).toEqual(['alice']);
      expect(stores.clientQuotas.get([{ type: 'client-id', name: 'app' }])?.get('producer_byte_rate')).toBe(4096);
      // The first broker's next start does not import again (deletions made since stay deleted).
      await stores.acls.apply([], stores.acls.bindings());
      expect(await importLocalFiles(client(), keys, 1, first, silentLogger)).toMatchObject({ imported: false });
      stores.close();
      expect((await EtcdAclStore.open(client(), keys, silentLogger)).bindings()).toEqual([]);
    } finally {
      rmSync(first, { recursive: true, force: true });
      rmSync(second, { recursive: true, force: true });
    }
  });
});
