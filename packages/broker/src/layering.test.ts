// Dependencies inside packages/broker point one way. Every production file belongs to a layer,
// and a layer imports only from the layers listed for it (README, "Layers"):
//
//   root      broker.ts, index.ts            anything (it assembles the broker)
//   network   connection.ts                  handlers (their interface and registry), core
//   handlers  handlers/, broker-context.ts,  groups, metrics, cluster, core
//             config-changes.ts
//   metrics   metrics/                       groups (read at scrape time), core
//   groups    groups/                        core
//   share     share/ (KIP-932 share groups)  groups, core
//   transactions transactions/               groups (the hash of a coordinator key), core
//   cluster   cluster/ (etcd, membership,    core
//             controller, projection)
//   core      everything else: topics, partition, config, logging, storage errors, delayed/, security/, …
//                                            core only
//   testing   testing/                       anything; imported by tests only
//
// So the core never imports groups/ or metrics/ (they are built on it), groups/ never imports
// metrics/ (the group probe reads the coordinator, not the other way), and the network layer
// knows the handlers' interface but not what handlers use. Tests (*.test.ts, *.bench.ts) may
// import anything. A file in no layer fails the test: a new module gets a place on purpose.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

type Layer = 'root' | 'network' | 'handlers' | 'metrics' | 'transactions' | 'share' | 'groups' | 'cluster' | 'core' | 'testing';

const ALLOWED: Readonly<Record<Layer, readonly Layer[]>> = {
  root: ['root', 'network', 'handlers', 'metrics', 'transactions', 'share', 'groups', 'cluster', 'core'],
  network: ['network', 'handlers', 'core'],
  handlers: ['handlers', 'metrics', 'transactions', 'share', 'groups', 'cluster', 'core'],
  metrics: ['metrics', 'transactions', 'share', 'groups', 'core'],
  transactions: ['transactions', 'groups', 'core'],
  share: ['share', 'groups', 'core'],
  groups: ['groups', 'core'],
  cluster: ['cluster', 'core'],
  core: ['core'],
  testing: ['root', 'network', 'handlers', 'metrics', 'transactions', 'share', 'groups', 'cluster', 'core', 'testing'],
};

/** The layer of a file, by its path relative to src/ (forward slashes). */
function layerOf(path: string): Layer {
  if (path === 'broker.ts' || path === 'index.ts') return 'root';
  if (path === 'connection.ts') return 'network';
  if (path.startsWith('handlers/') || path === 'broker-context.ts' || path === 'config-changes.ts') return 'handlers';
  if (path.startsWith('metrics/')) return 'metrics';
  if (path.startsWith('groups/')) return 'groups';
  if (path.startsWith('share/')) return 'share';
  if (path.startsWith('cluster/')) return 'cluster';
  if (path.startsWith('transactions/')) return 'transactions';
  if (path.startsWith('testing/')) return 'testing';
  // Top-level modules, delayed/, security/ (sans-io mechanisms and the authorizer, asked by
  // the connection and every handler) and quotas/ (asked the same way) are the core; any other folder must be placed above first.
  if (!path.includes('/') || path.startsWith('delayed/') || path.startsWith('security/') || path.startsWith('quotas/')) return 'core';
  throw new Error(`${path} is in no layer: add its folder to layerOf() in layering.test.ts and to the README`);
}

function isTest(path: string): boolean {
  return /\.(test|bench)\.ts$/.test(path);
}

/** The relative specifiers a file's import/export statements name (packages are not layered here). */
export function importedPaths(source: string): string[] {
  const out: string[] = [];
  const statement = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const re of [statement, dynamic]) {
    for (const m of source.matchAll(re)) if (m[1].startsWith('.')) out.push(m[1]);
  }
  return out;
}

/** Each import that breaks the layering, as "from -> to (fromLayer -> toLayer)". */
export function layeringViolations(imports: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const [from, specifiers] of imports) {
    if (isTest(from)) continue;
    let fromLayer: Layer;
    try {
      fromLayer = layerOf(from);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    for (const specifier of specifiers) {
      const to = normalize(join(dirname(from), specifier))
        .split('\\')
        .join('/');
      if (to.startsWith('..')) {
        problems.push(`${from} -> ${specifier}: reaches outside the package's src/`);
        continue;
      }
      const toLayer = layerOf(to);
      if (!ALLOWED[fromLayer].includes(toLayer)) problems.push(`${from} -> ${to} (${fromLayer} -> ${toLayer})`);
    }
  }
  return problems;
}

const SRC = dirname(fileURLToPath(import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('layering of packages/broker/src', () => {
  test('no production module imports a layer it must not (core never imports groups/ or metrics/)', () => {
    const imports = new Map<string, string[]>();
    for (const file of sourceFiles(SRC)) {
      imports.set(relative(SRC, file).split('\\').join('/'), importedPaths(readFileSync(file, 'utf8')));
    }
    // The scan sees the tree: the core, groups and the handlers are all there.
    expect(imports.has('topics.ts') && imports.has('groups/coordinator.ts') && imports.has('handlers/fetch.ts')).toBe(true);
    expect(layeringViolations(imports)).toEqual([]);
  });

  test('the check fails on imports that point the wrong way', () => {
    const synthetic = new Map<string, string[]>([
      ['topics.ts', ['./groups/coordinator.ts', './partition.ts']],
      ['config.ts', ['./metrics/broker-metrics.ts']],
      ['connection.ts', ['./handlers/handler.ts', './metrics/broker-probe.ts']],
      ['groups/offset-manager.ts', ['../metrics/group-probe.ts', '../broker-context.ts']],
      ['delayed/delayed-operations.ts', ['../groups/clock.ts']],
      ['handlers/fetch.ts', ['../groups/coordinator.ts', '../metrics/broker-metrics.ts', '../testing/test-broker.ts']],
      ['topics.test.ts', ['./groups/coordinator.ts', './testing/group-harness.ts']],
      ['cluster/controller.ts', ['../groups/coordinator.ts', '../topics.ts']],
      ['elsewhere/replica.ts', ['../partition.ts']],
    ]);
    expect(layeringViolations(synthetic)).toEqual([
      'topics.ts -> groups/coordinator.ts (core -> groups)',
      'config.ts -> metrics/broker-metrics.ts (core -> metrics)',
      'connection.ts -> metrics/broker-probe.ts (network -> metrics)',
      'groups/offset-manager.ts -> metrics/group-probe.ts (groups -> metrics)',
      'groups/offset-manager.ts -> broker-context.ts (groups -> handlers)',
      'delayed/delayed-operations.ts -> groups/clock.ts (core -> groups)',
      'handlers/fetch.ts -> testing/test-broker.ts (handlers -> testing)',
      'cluster/controller.ts -> groups/coordinator.ts (cluster -> groups)',
      'elsewhere/replica.ts is in no layer: add its folder to layerOf() in layering.test.ts and to the README',
    ]);
  });

  test('import statements are read as TypeScript writes them', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      'import {',
      '  c,',
      '  type D,',
      "} from './groups/c.ts';",
      "export { e } from './e.ts';",
      "import './side-effect.ts';",
      "const lazy = await import('./lazy.ts');",
      "import { ErrorCode } from '@sluice/protocol';",
      "// a comment saying import x from './not-an-import.ts' is not a statement",
    ].join('\n');
    expect(importedPaths(source)).toEqual(['./a.ts', '../b.ts', './groups/c.ts', './e.ts', './side-effect.ts', './lazy.ts']);
  });
});
