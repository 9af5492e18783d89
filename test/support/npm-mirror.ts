// A local npm registry for the install test: serves the third-party packages the `sluice` package
// depends on, read from this workspace's pnpm store (node_modules/.pnpm), plus any tarballs the
// test packed (the per-platform addon package). `npm install` against it needs no network, and
// it resolves versions exactly as against registry.npmjs.org: dependency ranges, two versions of
// one package (sonic-boom 4 and 5 here), optionalDependencies with os/cpu/libc.
//
// Only what a dependency walk from the starting manifest reaches is served; a package npm asks
// for that the walk did not find gets a 404, which fails the install loudly.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

interface Served {
  readonly manifest: Manifest;
  readonly tarball: Buffer;
}

export interface NpmMirror {
  /** http://127.0.0.1:<port>/ — pass as `--registry`. */
  readonly url: string;
  /** name@version of everything served. */
  readonly packages: readonly string[];
  close(): Promise<void>;
}

/** Where Node would find `name` from `fromDir` (node_modules lookup upwards), real path. */
function findPackage(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return dirname(realpathSync(candidate));
    if (dirname(dir) === dir) return null;
  }
}

/** An npm tarball (gzip'd tar, files under package/) of an installed package's directory. */
function tarDirectory(dir: string): Buffer {
  return execFileSync('tar', ['-cz', '-C', dir, '--exclude=./node_modules', '--transform', 's,^\\.,package,', '.'], { maxBuffer: 256 << 20 });
}

/** Every package reachable from `dependencies` of `fromDir`'s manifest (third-party only: `exclude` names are skipped). */
function collect(fromDir: string, dependencies: Record<string, string>, exclude: ReadonlySet<string>): Map<string, Served> {
  const served = new Map<string, Served>();
  const visit = (name: string, dir: string, optional: boolean): void => {
    if (exclude.has(name)) return;
    const found = findPackage(name, dir);
    if (found === null) {
      if (optional) return;
      throw new Error(`npm mirror: ${name} (needed from ${dir}) is not installed in this workspace`);
    }
    const manifest = JSON.parse(readFileSync(join(found, 'package.json'), 'utf8')) as Manifest;
    const key = `${manifest.name}@${manifest.version}`;
    if (served.has(key)) return;
    served.set(key, { manifest, tarball: tarDirectory(found) });
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, found, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, found, true);
    for (const dep of Object.keys(manifest.peerDependencies ?? {})) visit(dep, found, manifest.peerDependenciesMeta?.[dep]?.optional === true);
  };
  for (const dep of Object.keys(dependencies)) visit(dep, fromDir, false);
  return served;
}

/** The manifest of a packed tarball (package/package.json inside it). */
function tarballManifest(tarball: string): Manifest {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Manifest;
}

/**
 * Starts the mirror: the closure of `dependencies` as installed from `fromDir`, and `tarballs`
 * (already packed files) under their own names. Names in `exclude` are not walked.
 */
export async function startNpmMirror(options: {
  fromDir: string;
  dependencies: Record<string, string>;
  tarballs?: readonly string[];
  exclude?: readonly string[];
}): Promise<NpmMirror> {
  const served = collect(options.fromDir, options.dependencies, new Set(options.exclude ?? []));
  for (const file of options.tarballs ?? []) {
    const manifest = tarballManifest(file);
    served.set(`${manifest.name}@${manifest.version}`, { manifest, tarball: readFileSync(file) });
  }
  const byName = new Map<string, Array<Served & { key: string }>>();
  for (const [key, s] of served) byName.set(s.manifest.name, [...(byName.get(s.manifest.name) ?? []), { ...s, key }]);

  let base = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]).slice(1);
    if (path.startsWith('-/')) {
      const s = served.get(path.slice(2, -'.tgz'.length));
      if (s === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': s.tarball.length }).end(s.tarball);
      return;
    }
    const versions = byName.get(path);
    if (versions === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const packument = {
      name: path,
      'dist-tags': { latest: versions[versions.length - 1].manifest.version },
      versions: Object.fromEntries(
        versions.map((v) => [
          v.manifest.version,
          {
            ...v.manifest,
            dist: {
              tarball: `${base}-/${v.key}.tgz`,
              shasum: createHash('sha1').update(v.tarball).digest('hex'),
              integrity: `sha512-${createHash('sha512').update(v.tarball).digest('base64')}`,
            },
          },
        ]),
      ),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    packages: [...served.keys()].sort(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
