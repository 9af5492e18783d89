// The start of a graceful stop, as a signal: what waits for something (a parked fetch in the
// delayed operations) listens for it and answers at once instead of waiting. One per broker;
// broker.ts raises it when stop() begins.
//
// Concurrency: event loop only.

export class ShutdownSignal {
  private readonly listeners = new Set<() => void>();
  private begun = false;

  /** True once a graceful stop began. */
  get isShuttingDown(): boolean {
    return this.begun;
  }

  /** Calls `listener` when a graceful stop begins; returns the unsubscribe. */
  onShutdown(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Begins the stop: every listener once, in subscription order; later calls do nothing. */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
  }
}
