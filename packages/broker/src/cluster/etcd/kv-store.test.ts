// The KvStore contract, run against a real etcd server (started here) and against the memory
// store, so the memory store the cluster's unit tests use behaves as etcd does.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type EtcdServer, freePort, startEtcd } from '../../../../../test/support/etcd-server.ts';
import { EtcdClient } from './etcd-client.ts';
import type { KvStore, WatchEvent } from './kv-store.ts';
import { MemoryKvStore } from './memory-store.ts';

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

let run = 0;
const stores: Array<[string, () => KvStore]> = [
  ['etcd', () => new EtcdClient([etcd.endpoint])],
  ['memory', () => new MemoryKvStore()],
];

function collect(store: KvStore, prefix: string, from: number) {
  const events: WatchEvent[] = [];
  const watch = store.watch(prefix, from, {
    onEvents: (e) => events.push(...e),
    onError: (err) =>
      events.push({ type: 'delete', kv: { key: `ERROR ${err.message}`, value: '', createRevision: 0, modRevision: 0, version: 0, lease: '0' } }),
  });
  return { events, watch };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(stores)('KvStore contract: %s', (_name, open) => {
  test('put, get, range by prefix, delete; revisions and versions as etcd counts them', async () => {
    const store = open();
    const p = `/t${run++}/`;
    const r1 = await store.put(`${p}b`, 'one');
    const r2 = await store.put(`${p}a`, 'two');
    await store.put(`${p}b`, 'three');
    await store.put(`/other${run}`, 'x');
    expect(r2).toBe(r1 + 1);
    const b = await store.get(`${p}b`);
    expect(b).toMatchObject({ value: 'three', createRevision: r1, version: 2 });
    expect(await store.get(`${p}none`)).toBeNull();
    const range = await store.range(p);
    expect(range.kvs.map((kv) => [kv.key, kv.value])).toEqual([
      [`${p}a`, 'two'],
      [`${p}b`, 'three'],
    ]);
    expect(range.revision).toBeGreaterThanOrEqual(r2 + 2);
    await store.delete(`${p}a`);
    expect(await store.get(`${p}a`)).toBeNull();
    store.close();
  });

  test('txn: compare-and-swap on version, mod revision and value; only one of two racing creators wins', async () => {
    const store = open();
    const key = `/cas${run++}`;
    const create = () => store.txn([{ key, target: 'version', result: 'equal', value: 0 }], [{ put: { key, value: 'mine' } }]);
    const [first, second] = await Promise.all([create(), create()]);
    expect([first.succeeded, second.succeeded].sort()).toEqual([false, true]);
    const kv = (await store.get(key))!;
    const stale = await store.txn([{ key, target: 'modRevision', result: 'equal', value: kv.modRevision - 1 }], [{ put: { key, value: 'stale' } }]);
    expect(stale.succeeded).toBe(false);
    const fresh = await store.txn(
      [{ key, target: 'modRevision', result: 'equal', value: kv.modRevision }],
      [{ put: { key, value: 'fresh' } }, { put: { key: `${key}/side`, value: 'too' } }],
    );
    expect(fresh.succeeded).toBe(true);
    expect((await store.get(`${key}/side`))?.value).toBe('too');
    const byValue = await store.txn([{ key, target: 'value', result: 'equal', value: 'fresh' }], [{ delete: { key } }], [{ put: { key, value: 'lost' } }]);
    expect(byValue.succeeded).toBe(true);
    expect(await store.get(key)).toBeNull();
    store.close();
  });

  test('leases: keys under a lease go when it is revoked; renewing a gone lease answers 0', async () => {
    const store = open();
    const key = `/lease${run++}`;
    const lease = await store.grantLease(30);
    await store.put(key, 'alive', lease);
    expect((await store.get(key))?.lease).toBe(lease);
    expect(await store.keepAlive(lease)).toBeGreaterThan(0);
    await store.revokeLease(lease);
    expect(await store.get(key)).toBeNull();
    expect(await store.keepAlive(lease)).toBe(0);
    await store.revokeLease(lease); // revoking twice is harmless
    await expect(store.put(key, 'x', lease)).rejects.toThrow(/lease not found/);
    store.close();
  });

  test('watch: replays from a revision, then follows puts and deletes in order', async () => {
    const store = open();
    const p = `/w${run++}/`;
    const start = await store.put(`${p}1`, 'a');
    await store.put(`${p}2`, 'b');
    const { events, watch } = collect(store, p, start + 1);
    await until(() => events.length >= 1);
    await store.delete(`${p}1`);
    await store.put(`/elsewhere${run}`, 'not mine');
    await store.put(`${p}1`, 'c');
    await until(() => events.length >= 3);
    expect(events.map((e) => [e.type, e.kv.key, e.kv.value])).toEqual([
      ['put', `${p}2`, 'b'],
      ['delete', `${p}1`, ''],
      ['put', `${p}1`, 'c'],
    ]);
    watch.close();
    await store.put(`${p}3`, 'after close');
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(3);
    store.close();
  });
});

describe('EtcdClient against a real etcd', () => {
  test('an unreachable endpoint fails with an error naming it; the next endpoint is used', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const lonely = new EtcdClient([dead]);
    await expect(lonely.get('/x')).rejects.toThrow(new RegExp(`etcd unreachable: ${dead}`));
    const both = new EtcdClient([dead, etcd.endpoint]);
    await both.put('/failover', 'ok');
    expect((await both.get('/failover'))?.value).toBe('ok');
    both.close();
  });

  test('a watch survives an etcd crash: it resumes after the last event it delivered, missing and repeating nothing', async () => {
    const store = new EtcdClient([etcd.endpoint]);
    const start = await store.put('/survive/0', 'a');
    const { events, watch } = collect(store, '/survive/', start);
    await until(() => events.length === 1);
    await etcd.restart();
    await store.put('/survive/1', 'b'); // the first call after the restart may need a retry of the watch
    await store.put('/survive/2', 'c');
    await until(() => events.length >= 3, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.map((e) => e.kv.value)).toEqual(['a', 'b', 'c']);
    watch.close();
    store.close();
  });

  test('a lease that is not renewed expires and takes its keys (watchers see the delete)', async () => {
    const store = new EtcdClient([etcd.endpoint]);
    const lease = await store.grantLease(1);
    const rev = await store.put('/expiring', 'soon', lease);
    const { events, watch } = collect(store, '/expiring', rev + 1);
    await until(() => events.length === 1, 10_000);
    expect(events[0]).toMatchObject({ type: 'delete', kv: { key: '/expiring' } });
    watch.close();
    store.close();
  });
});
