// The harness's private network: one bridge namespace and one namespace per node (etcd, each
// broker, the clients), joined by veth pairs to a Linux bridge that lives in the bridge
// namespace. Addresses are 10.200.0.0/24 inside those namespaces only: no namespace has a default
// route, the bridge has no uplink and no address, and nothing is created in the host namespace,
// so nothing can leave the bridge (`assertIsolated` checks it, and a guard rule in every node
// namespace drops and counts any packet addressed outside the subnet).
//
// Namespace names are `sf<owner pid>-<node>`: a run sweeps the namespaces of owners that are no
// longer alive (a harness killed before its cleanup), never those of a live run.
//
// Network faults are nftables rules in a table of each node namespace (`inet sluicefault`, input
// and output hooks); healing flushes them. Needs root, iproute2 and nftables.

import { execFileSync } from 'node:child_process';

export const SUBNET = '10.200.0.0/24';
const PREFIX = 'sf';
const FAULT_TABLE = 'sluicefault';
const GUARD_TABLE = 'sluiceguard';
const REDIRECT_TABLE = 'sluicelatency';

export interface NodeSpec {
  /** Short name (≤ 6 characters): `etcd`, `b1`, `cli`. */
  readonly name: string;
  readonly address: string;
}

export interface Topology {
  readonly owner: number;
  readonly bridgeNs: string;
  readonly nodes: readonly NodeSpec[];
  /** The namespace of a node by its short name. */
  ns(name: string): string;
  address(name: string): string;
}

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs `cmd` inside namespace `ns`. */
export function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

function nsNames(): string[] {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name !== undefined && name.length > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every process left inside a namespace (only ours live there), then deletes it. */
function removeNamespace(ns: string): void {
  let pids: number[] = [];
  try {
    pids = sh('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // already gone
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  try {
    sh('ip', ['netns', 'del', ns]);
  } catch {
    // already gone
  }
}

/** Deletes namespaces of harness runs whose owner process is gone. Returns their names. */
export function sweepStaleNamespaces(): string[] {
  const stale = nsNames().filter((ns) => {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(ns);
    return m !== null && !alive(Number(m[1]));
  });
  for (const ns of stale) removeNamespace(ns);
  return stale;
}

/** The names of a topology (created by `createTopology`, maybe in another process). */
export function topologyOf(nodes: readonly NodeSpec[], owner: number): Topology {
  const nsOf = (name: string) => `${PREFIX}${owner}-${name}`;
  return {
    owner,
    bridgeNs: nsOf('br'),
    nodes,
    ns: nsOf,
    address: (name) => {
      const node = nodes.find((n) => n.name === name);
      if (node === undefined) throw new Error(`no node ${name}`);
      return node.address;
    },
  };
}

/** Creates the bridge and one namespace per node, each with its veth into the bridge. */
export function createTopology(nodes: readonly NodeSpec[], owner = process.pid): Topology {
  const topology = topologyOf(nodes, owner);
  const { bridgeNs } = topology;
  const nsOf = topology.ns;
  try {
    sh('ip', ['netns', 'add', bridgeNs]);
    noIpv6(bridgeNs);
    inNs(bridgeNs, 'ip', ['link', 'set', 'lo', 'up']);
    inNs(bridgeNs, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    inNs(bridgeNs, 'ip', ['link', 'set', 'br0', 'up']);
    for (const node of nodes) {
      const ns = nsOf(node.name);
      sh('ip', ['netns', 'add', ns]);
      noIpv6(ns);
      inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
      // Both ends are created inside the namespaces: the host namespace never sees them.
      inNs(bridgeNs, 'ip', ['link', 'add', `v-${node.name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      inNs(bridgeNs, 'ip', ['link', 'set', `v-${node.name}`, 'master', 'br0', 'up']);
      inNs(ns, 'ip', ['addr', 'add', `${node.address}/24`, 'dev', 'eth0']);
      inNs(ns, 'ip', ['link', 'set', 'eth0', 'up']);
      inNs(ns, 'nft', ['-f', '-'], guardRules());
      inNs(
        ns,
        'nft',
        ['-f', '-'],
        `table inet ${FAULT_TABLE} {
  chain input { type filter hook input priority 0; policy accept; }
  chain output { type filter hook output priority 0; policy accept; }
}
`,
      );
    }
  } catch (err) {
    destroyTopology(topology);
    throw err;
  }
  return topology;
}

/** IPv4 only: no link-local IPv6 chatter (router solicitations, MLD) on the bridge. */
function noIpv6(ns: string): void {
  inNs(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
}

function guardRules(): string {
  return `table inet ${GUARD_TABLE} {
  counter escaped { }
  chain output {
    type filter hook output priority -10; policy accept;
    oifname "lo" accept
    ip daddr 127.0.0.0/8 accept
    ip daddr ${SUBNET} accept
    counter name escaped drop
  }
}
`;
}

export function destroyTopology(topology: Topology): void {
  for (const node of topology.nodes) removeNamespace(topology.ns(node.name));
  removeNamespace(topology.bridgeNs);
}

/**
 * Checks that nothing can leave the bridge: no namespace of ours has a route but the subnet's
 * (and loopback's), the bridge namespace holds only the bridge and our veths, none of our links
 * exists in the host namespace, and no node's guard rule has seen a packet addressed elsewhere.
 * Throws naming what is wrong.
 */
export function assertIsolated(topology: Topology): void {
  const problems: string[] = [];
  for (const node of topology.nodes) {
    const ns = topology.ns(node.name);
    const routes = inNs(ns, 'ip', ['-4', 'route', 'show'])
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    for (const route of routes) if (!route.startsWith(`${SUBNET} dev eth0`)) problems.push(`${ns}: route ${route}`);
    const links = inNs(ns, 'ip', ['-o', 'link', 'show']);
    for (const m of links.matchAll(/^\d+: ([^:@]+)/gm)) if (m[1] !== 'lo' && m[1] !== 'eth0') problems.push(`${ns}: link ${m[1]}`);
    const escaped = /packets (\d+)/.exec(inNs(ns, 'nft', ['list', 'counter', 'inet', GUARD_TABLE, 'escaped']))?.[1];
    if (escaped !== '0') problems.push(`${ns}: ${escaped} packets addressed outside ${SUBNET}`);
  }
  const bridgeLinks = inNs(topology.bridgeNs, 'ip', ['-o', 'link', 'show']);
  for (const m of bridgeLinks.matchAll(/^\d+: ([^:@]+)/gm)) {
    if (m[1] !== 'lo' && m[1] !== 'br0' && !topology.nodes.some((n) => m[1] === `v-${n.name}`)) problems.push(`bridge: link ${m[1]}`);
  }
  if (inNs(topology.bridgeNs, 'ip', ['-4', 'route', 'show']).trim() !== '') problems.push('bridge: has a route');
  if (inNs(topology.bridgeNs, 'ip', ['-4', 'addr', 'show', 'br0']).includes('inet ')) problems.push('bridge: br0 has an address');
  const host = sh('ip', ['-4', 'addr', 'show']);
  if (host.includes('10.200.0.')) problems.push('host namespace: has a 10.200.0.x address');
  if (problems.length > 0) throw new Error(`the harness network is not isolated:\n${problems.join('\n')}`);
}

// ---- network faults (nftables in the node namespaces) ----

function addRules(topology: Topology, node: string, rules: string[]): void {
  if (rules.length === 0) return;
  const script = rules.map((r) => `add rule inet ${FAULT_TABLE} ${r}\n`).join('');
  inNs(topology.ns(node), 'nft', ['-f', '-'], script);
}

/** Packets from `from` to `to` are dropped (both at `from`'s output and `to`'s input). */
export function dropOneWay(topology: Topology, from: string, to: string): void {
  addRules(topology, from, [`output ip daddr ${topology.address(to)} drop`]);
  addRules(topology, to, [`input ip saddr ${topology.address(from)} drop`]);
}

/** Every pair across the two sides is cut both ways. */
export function partition(topology: Topology, sideA: readonly string[], sideB: readonly string[]): void {
  for (const a of sideA) {
    for (const b of sideB) {
      dropOneWay(topology, a, b);
      dropOneWay(topology, b, a);
    }
  }
}

/** `percent` % of the packets `node` sends or receives on its veth are dropped at random. */
export function packetLoss(topology: Topology, node: string, percent: number): void {
  addRules(topology, node, [`input iifname "eth0" numgen random mod 100 < ${percent} drop`, `output oifname "eth0" numgen random mod 100 < ${percent} drop`]);
}

export interface TcpRedirect {
  readonly address: string;
  readonly port: number;
  /** The local port (on 127.0.0.1) the connections go to instead. */
  readonly toPort: number;
}

/**
 * New TCP connections root opens in `node`'s namespace to each address:port go to a local port
 * instead (the latency proxy, running as another user, so its own connections onwards are not
 * redirected); root's connections opened before are reset, so they reconnect through it.
 */
export function redirectRootTcp(topology: Topology, node: string, redirects: readonly TcpRedirect[]): void {
  const nat = redirects.map((r) => `    meta skuid 0 ip daddr ${r.address} tcp dport ${r.port} redirect to :${r.toPort}\n`).join('');
  inNs(
    topology.ns(node),
    'nft',
    ['-f', '-'],
    `table ip ${REDIRECT_TABLE} {\n  chain output {\n    type nat hook output priority -100; policy accept;\n${nat}  }\n}\n`,
  );
  // After the nat hook a redirected packet is addressed to 127.0.0.1: what still goes to the
  // address directly belongs to a connection opened before.
  addRules(
    topology,
    node,
    redirects.map((r) => `output meta skuid 0 ip daddr ${r.address} tcp dport ${r.port} reject with tcp reset`),
  );
}

/** Removes every network fault. */
export function healNetwork(topology: Topology): void {
  for (const node of topology.nodes) {
    const ns = topology.ns(node.name);
    inNs(ns, 'nft', ['flush', 'table', 'inet', FAULT_TABLE]);
    if (inNs(ns, 'nft', ['list', 'tables']).includes(REDIRECT_TABLE)) inNs(ns, 'nft', ['delete', 'table', 'ip', REDIRECT_TABLE]);
  }
}

/** The fault rules in place now (for the log). */
export function faultRules(topology: Topology, node: string): string {
  return inNs(topology.ns(node), 'nft', ['list', 'table', 'inet', FAULT_TABLE]);
}
