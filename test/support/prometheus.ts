// Runs Debian's Prometheus (`prometheus`, `promtool`) for the observability tests: a server on a
// free loopback port with a generated config scraping given targets, and its HTTP API. Missing
// binaries are a failure with a clear message, not a skip: `.ci/run` installs the package.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const OBSERVABILITY_DIR = resolve(import.meta.dirname, '..', '..', 'packages', 'broker', 'observability');
export const RULES_FILE = join(OBSERVABILITY_DIR, 'prometheus-rules.yml');
export const RULES_TEST_FILE = join(OBSERVABILITY_DIR, 'rules.test.yml');
export const DASHBOARD_FILE = join(OBSERVABILITY_DIR, 'grafana-dashboard.json');

export function requirePrometheus(): void {
  for (const bin of ['prometheus', 'promtool']) {
    const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      throw new Error(`${bin} is not installed (apt-get install prometheus: Debian's package has both binaries); .ci/run installs it`);
    }
  }
}

export interface ToolResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs promtool with args (cwd: `cwd`), stdout and stderr together. */
export function promtool(args: string[], cwd = OBSERVABILITY_DIR): ToolResult {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined) throw r.error;
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A free loopback TCP port (bound then released: a tiny race other tests here accept too). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

export interface ScrapeTarget {
  /** `http://host:port/path` of a metrics endpoint. */
  readonly url: string;
}

export interface PrometheusOptions {
  readonly targets: readonly ScrapeTarget[];
  /** Scrape and rule evaluation interval, seconds. */
  readonly intervalSeconds?: number;
  /** Rule files to load (absolute paths). */
  readonly ruleFiles?: readonly string[];
}

export interface PrometheusServer {
  readonly url: string;
  readonly proc: ChildProcess;
  output(): string;
  /** GET `/api/v1/<path>` with query parameters; the `data` of a successful answer. */
  api<T = unknown>(path: string, params?: Record<string, string | string[]>): Promise<T>;
  /** Like api, but returns the whole answer (status, error, errorType) instead of throwing. */
  apiRaw(path: string, params?: Record<string, string | string[]>): Promise<{ status: string; data?: unknown; error?: string; errorType?: string }>;
  stop(): Promise<void>;
}

/** The YAML config: one `sluice` job with every target (each with its own metrics path). */
export function prometheusConfig(options: PrometheusOptions): string {
  const interval = `${options.intervalSeconds ?? 1}s`;
  const lines = ['global:', `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`, `  scrape_timeout: ${interval}`];
  if ((options.ruleFiles ?? []).length > 0) {
    lines.push('rule_files:');
    for (const f of options.ruleFiles!) lines.push(`  - ${JSON.stringify(f)}`);
  }
  lines.push('scrape_configs:');
  options.targets.forEach((t, i) => {
    const u = new URL(t.url);
    lines.push(
      `  - job_name: sluice-${i}`,
      `    metrics_path: ${JSON.stringify(u.pathname)}`,
      `    static_configs:`,
      `      - targets: [${JSON.stringify(u.host)}]`,
      `        labels: { job: sluice }`,
    );
  });
  return `${lines.join('\n')}\n`;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options));
  const check = promtool(['check', 'config', configFile], dir);
  if (check.code !== 0) throw new Error(`promtool check config failed:\n${check.output}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      // Nothing here is kept: no WAL compression work, the smallest head.
      '--storage.tsdb.retention.time=1h',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${output}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`prometheus did not become ready in 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const apiRaw = async (path: string, params: Record<string, string | string[]> = {}) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) search.append(k, one);
    const res = await fetch(`${url}/api/v1/${path}?${search}`);
    return (await res.json()) as { status: string; data?: unknown; error?: string; errorType?: string };
  };
  return {
    url,
    proc,
    output: () => output,
    apiRaw,
    async api<T>(path: string, params: Record<string, string | string[]> = {}): Promise<T> {
      const body = await apiRaw(path, params);
      if (body.status !== 'success') throw new Error(`prometheus ${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
      return body.data as T;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One series of an instant vector result. */
export interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}
