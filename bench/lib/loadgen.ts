// Builds and runs the native load generator (bench/loadgen). Each run prints one JSON object;
// its measured span is announced on stderr ("@measure-start", "@measure-end") and the hooks
// given here run at those moments, so the broker is sampled over the same span.

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const LOADGEN_BIN = join(ROOT, 'target', 'release', 'loadgen');

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => done({ code: 127, out: String(err) }));
    child.on('close', (code) => done({ code, out }));
  });
}

/** `cargo build --release -p loadgen`; throws with cargo's output if it fails. */
export async function buildLoadgen(): Promise<void> {
  const { code, out } = await run('cargo', ['build', '--release', '-p', 'loadgen', '--color', 'never'], ROOT);
  if (code !== 0) throw new Error(`cargo build --release -p loadgen failed:\n${out}`);
}

export interface WindowHooks {
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}

export class LoadgenError extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly json: unknown;
  constructor(message: string, exitCode: number | null, stderr: string, json: unknown) {
    super(message);
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.json = json;
  }
}

/** Runs loadgen with `args`; resolves to its JSON. A non-zero exit is a LoadgenError (exit 3
 * still carries the JSON: the broker answered some requests with errors). */
export function runLoadgen(args: string[], hooks: WindowHooks = {}, timeoutMs = 300_000): Promise<any> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(LOADGEN_BIN, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line === '@measure-start') hooks.onMeasureStart?.();
        else if (line === '@measure-end') hooks.onMeasureEnd?.();
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: unknown = null;
      try {
        json = stdout.trim() === '' ? null : JSON.parse(stdout);
      } catch {
        json = null;
      }
      if (code === 0 && json !== null) return resolvePromise(json);
      const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exit ${code ?? signal}`;
      const errLines = stderr
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('@'))
        .join('\n');
      reject(new LoadgenError(`loadgen ${args[0]} failed (${why}): ${errLines}`, code, stderr, json));
    });
  });
}
