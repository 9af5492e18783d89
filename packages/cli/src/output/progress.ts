// A one-line progress display for long operations, redrawn in place on a terminal and silent
// otherwise (piped or redirected output stays clean for scripts). It writes to stderr so stdout
// carries only data.

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(s: string): boolean;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly render: () => string;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private drawn = false;

  /** `render` returns the current line; it is called every `intervalMs` while running. */
  constructor(stream: ProgressStream, render: () => string, intervalMs = 250) {
    this.stream = stream;
    this.render = render;
    this.intervalMs = intervalMs;
  }

  /** True when progress is shown at all (the stream is a terminal). */
  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  start(): void {
    if (!this.enabled || this.timer !== null) return;
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops redrawing and erases the line. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  private draw(): void {
    this.stream.write(`\r${this.render()}\x1b[K`);
    this.drawn = true;
  }
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Per-second rate of `count` over `elapsedMs`, or 0 before any time has passed. */
export function ratePerSecond(count: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : (count * 1000) / elapsedMs;
}
