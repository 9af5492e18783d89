// Runs kcat (librdkafka's CLI, from apt) for real-client tests. Missing kcat is a failure with a
// clear message, not a skip: `.ci/run` installs it.

import { spawn, spawnSync } from 'node:child_process';

export function requireKcat(): void {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (probe.error !== undefined) throw new Error('kcat is not installed (apt-get install kcat); .ci/run installs it');
}

export interface KcatResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kcat with args, feeding `input` on stdin; resolves when it exits (bounded by timeoutMs). */
export function kcat(args: string[], input?: string | Buffer, timeoutMs = 120_000): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`kcat ${args.join(' ')} timed out; stderr: ${Buffer.concat(err).toString()}`));
    }, timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    if (input !== undefined) proc.stdin.end(input);
    else proc.stdin.end();
  });
}
