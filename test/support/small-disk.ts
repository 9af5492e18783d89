// Real small file systems for disk-error tests (needs root, as CI runs):
//
// - `SmallTmpfs`: a tmpfs of a few MiB. Writes and fallocate past its size fail with ENOSPC at
//   once; `resize` makes room again (mount -o remount).
// - `LateFailingExt4`: ext4 on a loop device whose backing file is sparse on a small tmpfs. The
//   file system believes it has plenty of room, so writes land in the page cache, and it is the
//   writeback — fdatasync — that fails once the backing tmpfs is full: the error arrives late, at
//   flush time, as it does when a real disk fails under a file system.
//
// Every mount is undone by `close()`; a failure to mount is a test failure with the reason.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed (these tests need root for mount/losetup): ${e.stderr ?? e.message}`);
  }
}

export class SmallTmpfs {
  readonly dir: string;
  private mounted = false;

  constructor(sizeBytes: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-tmpfs-'));
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', this.dir]);
    this.mounted = true;
  }

  resize(sizeBytes: number): void {
    run('mount', ['-o', `remount,size=${sizeBytes}`, this.dir]);
  }

  close(): void {
    if (this.mounted) run('umount', ['-l', this.dir]);
    this.mounted = false;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class LateFailingExt4 {
  readonly dir: string;
  private readonly backing: SmallTmpfs;
  private readonly loop: string;
  private mounted = false;

  /** ext4 of `fsBytes` whose blocks can only hold about `backingBytes` for real. */
  constructor(fsBytes: number, backingBytes: number) {
    this.backing = new SmallTmpfs(backingBytes);
    try {
      const image = join(this.backing.dir, 'disk.img');
      run('truncate', ['-s', String(fsBytes), image]);
      this.loop = run('losetup', ['-f', '--show', image]).trim();
    } catch (err) {
      this.backing.close();
      throw err;
    }
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-ext4-'));
    try {
      // No journal: its writes would fail first and turn the file system read-only.
      run('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', this.loop]);
      run('mount', ['-o', 'errors=continue', this.loop, this.dir]);
      this.mounted = true;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Gives the backing store room again (data lost to failed writeback stays lost). */
  growBacking(bytes: number): void {
    this.backing.resize(bytes);
  }

  close(): void {
    if (this.mounted) run('umount', ['-l', this.dir]);
    this.mounted = false;
    try {
      run('losetup', ['-d', this.loop]);
    } finally {
      this.backing.close();
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
