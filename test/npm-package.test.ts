// Sluice as a Node user gets it from npm: `pnpm pack` the publishable `sluice` package (compiled
// JavaScript + .d.ts, packages/sluice) and the per-platform addon package, `npm install` the
// sluice tarball into a fresh project outside the repository, and use it there: `npx sluice
// start` plus the CLI's produce/consume, an embedded broker from a vitest file through
// `sluice/testing`, and a type check of a file importing the package. npm resolves the
// third-party dependencies and the optional platform package from a local mirror of this
// workspace's store (test/support/npm-mirror.ts): no network, no Rust, no repository on the
// project's module path.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NpmMirror, startNpmMirror } from './support/npm-mirror.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const SLUICE = join(ROOT, 'packages', 'sluice');
const PLATFORM = join(SLUICE, 'npm', 'linux-x64-gnu');

let tmp: string;
let app: string;
let mirror: NpmMirror;
/** SIGTERM to `child`'s process group, SIGKILL to what is left of it after 10 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const group = -child.pid!;
  const alive = () => {
    try {
      process.kill(group, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(group, 'SIGTERM');
  for (let waited = 0; alive() && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(group, 'SIGKILL');
}

/** The Node.js running the tests (24) first on PATH: `npx` and the bin's shebang use it. */
let env: NodeJS.ProcessEnv;

async function pack(dir: string, dest: string): Promise<string> {
  const before = new Set(existsSync(dest) ? readdirSync(dest) : []);
  await run('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, env, maxBuffer: 64 << 20 });
  const made = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
  expect(made).toHaveLength(1);
  return join(dest, made[0]);
}

function sluice(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const child = run('npx', ['--no-install', 'sluice', ...args], { cwd: app, env, timeout: 60_000 });
  if (input !== undefined) {
    child.child.stdin!.end(input);
  }
  return child;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sluice-npm-'));
  app = join(tmp, 'app');
  mkdirSync(app);
  env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, npm_config_userconfig: join(tmp, 'npmrc') };
  writeFileSync(join(tmp, 'npmrc'), '');
  const packs = join(tmp, 'packs');
  const sluiceTarball = await pack(SLUICE, packs); // prepack compiles dist/
  const platformTarball = await pack(PLATFORM, packs);
  const manifest = JSON.parse(readFileSync(join(SLUICE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  mirror = await startNpmMirror({ fromDir: SLUICE, dependencies: manifest.dependencies, tarballs: [platformTarball] });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'uses-sluice', version: '1.0.0', private: true, type: 'module' }));
  await run('npm', ['install', '--registry', mirror.url, '--cache', join(tmp, 'npm-cache'), '--no-audit', '--no-fund', sluiceTarball], {
    cwd: app,
    env,
    timeout: 120_000,
  });
}, 240_000);

afterAll(async () => {
  await mirror?.close();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

describe('the sluice package installed from npm tarballs', () => {
  it('ships compiled JavaScript and the prebuilt addon through the platform package', () => {
    const installed = join(app, 'node_modules');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name));
    const shipped = files(join(installed, 'sluice'));
    expect(shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(shipped.some((f) => f.endsWith('/dist/broker/src/broker.js'))).toBe(true);
    expect(shipped.some((f) => f.endsWith('.node'))).toBe(false);
    expect(existsSync(join(installed, '@sluice', 'native-linux-x64-gnu', 'sluice.linux-x64-gnu.node'))).toBe(true);
    // Self-contained: the workspace packages are compiled in, not dependencies.
    expect(readdirSync(join(installed, '@sluice'))).toEqual(['native-linux-x64-gnu']);
    expect(mirror.packages).toEqual(expect.arrayContaining([expect.stringMatching(/^pino@/), expect.stringMatching(/^@sluice\/native-linux-x64-gnu@/)]));
  });

  it('runs `npx sluice start`, and the CLI produces and consumes through it', async () => {
    const data = join(tmp, 'data');
    const broker: ChildProcess = spawn(
      'npx',
      [
        '--no-install',
        'sluice',
        'start',
        '--override',
        'listeners=PLAINTEXT://127.0.0.1:0',
        '--override',
        `log.dirs=${data}`,
        '--override',
        'sluice.metrics.listener=',
      ],
      // Its own process group: npx does not pass SIGTERM on to the broker it started, so the
      // clean-up signals the whole group (a leaked broker outlived the suite once).
      { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    try {
      let output = '';
      const port = await new Promise<number>((done, fail) => {
        const onData = (d: Buffer) => {
          output += d.toString();
          const m = /sluice ready: listeners=PLAINTEXT:\/\/[^:]+:(\d+)/.exec(output);
          if (m !== null) done(Number(m[1]));
        };
        broker.stdout!.on('data', onData);
        broker.stderr!.on('data', onData);
        broker.once('exit', (code) => fail(new Error(`sluice start exited ${code}: ${output}`)));
      });
      const bootstrap = `127.0.0.1:${port}`;
      await sluice(['topics', 'create', '--bootstrap-server', bootstrap, '--topic', 'installed', '--partitions', '1']);
      await sluice(['produce', '--bootstrap-server', bootstrap, '--topic', 'installed', '--key-separator', ':'], 'k1:hello\nk2:world\n');
      const consumed = await sluice([
        'consume',
        '--bootstrap-server',
        bootstrap,
        '--topic',
        'installed',
        '--from-beginning',
        '--max-messages',
        '2',
        '--format',
        'key-value',
      ]);
      expect(consumed.stdout.trim().split('\n')).toEqual(['k1\thello', 'k2\tworld']);
    } finally {
      await stopGroup(broker);
    }
  });

  it('starts an embedded broker from a vitest file in the project (sluice/testing)', async () => {
    writeFileSync(
      join(app, 'embedded.test.js'),
      `import { startEmbeddedBroker } from 'sluice/testing';
import { Consumer, KafkaClient, Producer } from 'sluice/client';

let kafka;
beforeAll(async () => { kafka = await startEmbeddedBroker({ topics: [{ name: 'orders', partitions: 2 }] }); });
afterAll(() => kafka?.stop());

test('produces and consumes through the embedded broker', async () => {
  const client = await KafkaClient.connect({ bootstrap: kafka.bootstrap });
  const producer = await Producer.create(client, 'orders', { partition: 0 });
  await producer.send({ key: null, value: new TextEncoder().encode('one'), headers: [] });
  await producer.flush();
  const consumer = await Consumer.create(client, { topic: 'orders', partitions: [0], start: { kind: 'earliest' }, resetPolicy: 'earliest' });
  let records = [];
  while (records.length === 0) records = await consumer.poll();
  expect(new TextDecoder().decode(records[0].value)).toBe('one');
  await consumer.close();
  client.close();
});
`,
    );
    // The repository's vitest runs the file with the project as root: \`sluice\` resolves from the
    // project's node_modules (globals: the project does not install vitest itself).
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const { stdout } = await run(process.execPath, [vitest, 'run', '--root', app, '--globals', '--reporter', 'verbose'], { cwd: app, env, timeout: 90_000 });
    expect(stdout).toMatch(/1 passed/);
  });

  it("type-checks a TypeScript file against the package's .d.ts", async () => {
    writeFileSync(
      join(app, 'check.ts'),
      `import { Broker } from 'sluice';
import { startEmbeddedBroker, type EmbeddedBroker } from 'sluice/testing';
const broker: Broker = new Broker({ 'log.dirs': '/tmp/x' });
const started: Promise<EmbeddedBroker> = startEmbeddedBroker({ topics: ['t'] });
// @ts-expect-error: bootstrap is a string
const port: number = broker.bootstrap;
export { started, port };
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // skipLibCheck and no @types/node: the project's own file is checked against the package's
    // declarations (which name Node's types; a real project installs @types/node).
    const compilerOptions = { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', skipLibCheck: true, types: [] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, env }).catch((err: { stdout: string }) => ({
      stdout: err.stdout,
      failed: true,
    }));
    expect(result.stdout).toBe('');
  });
});
