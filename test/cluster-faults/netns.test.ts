// The harness's network (needs root, as CI runs): a topology is isolated as built; a route out
// and a packet sent outside the subnet are caught; the sweep deletes the namespaces of a dead
// owner, and never those of a live one.

import { execFileSync, spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { assertIsolated, createTopology, destroyTopology, inNs, sweepStaleNamespaces } from './netns.ts';

const NODES = [
  { name: 'a', address: '10.200.0.21' },
  { name: 'b', address: '10.200.0.22' },
];
const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

test('a topology is isolated; the sweep removes a dead owner’s namespaces and keeps a live one’s', () => {
  // An owner that is gone: a process that already exited.
  const dead = spawnSync('true').pid!;
  const stale = createTopology(NODES, dead);
  const live = createTopology(NODES, process.pid);
  try {
    assertIsolated(stale);
    assertIsolated(live);
    expect(sweepStaleNamespaces().sort()).toEqual([stale.bridgeNs, stale.ns('a'), stale.ns('b')].sort());
    expect(namespaces()).not.toContain(`sf${dead}-`);
    expect(namespaces()).toContain(live.ns('a'));
    // A route out, added behind the harness's back, is caught.
    inNs(live.ns('a'), 'ip', ['route', 'add', 'default', 'dev', 'eth0']);
    expect(() => assertIsolated(live)).toThrow(/route default dev eth0/);
    // And a packet sent that way is dropped by the guard rule and counted.
    spawnSync('ip', ['netns', 'exec', live.ns('a'), 'bash', '-c', 'echo x > /dev/udp/192.0.2.1/9']);
    expect(() => assertIsolated(live)).toThrow(/1 packets addressed outside 10\.200\.0\.0\/24/);
  } finally {
    destroyTopology(stale);
    destroyTopology(live);
  }
  expect(namespaces()).not.toContain(live.ns('a'));
});
