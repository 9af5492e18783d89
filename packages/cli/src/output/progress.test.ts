import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, Progress, ratePerSecond } from './progress.ts';

afterEach(() => vi.useRealTimers());

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (s: string) => (writes.push(s), true) };
}

describe('Progress', () => {
  it('redraws one line on a terminal and erases it on stop', () => {
    vi.useFakeTimers();
    const s = stream(true);
    let n = 0;
    const p = new Progress(s, () => `sent ${++n}`, 100);
    p.start();
    vi.advanceTimersByTime(250);
    p.stop();
    expect(s.writes).toEqual(['\rsent 1\x1b[K', '\rsent 2\x1b[K', '\r\x1b[K']);
  });

  it('writes nothing when the stream is not a terminal', () => {
    vi.useFakeTimers();
    const s = stream(false);
    const p = new Progress(s, () => 'x', 100);
    expect(p.enabled).toBe(false);
    p.start();
    vi.advanceTimersByTime(1000);
    p.stop();
    expect(s.writes).toEqual([]);
  });
});

describe('formatting', () => {
  it('formats sizes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });

  it('computes rates per second', () => {
    expect(ratePerSecond(500, 250)).toBe(2000);
    expect(ratePerSecond(5, 0)).toBe(0);
  });
});
