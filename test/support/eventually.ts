// Waiting for what a cluster does in its own time (a leader elected, a replica caught up, a
// watch delivered): the one polling helper of the end-to-end tests. `check` asserts (vitest's
// expect) and returns what the test needs next; it runs again until it passes, and at the
// deadline its last failure is thrown, so a test that times out reports the assertion that
// never held rather than "timed out".

export interface EventuallyOptions {
  /** How long to keep trying (default 20 s). */
  readonly timeoutMs?: number;
  /** The pause between two tries (default 100 ms). */
  readonly intervalMs?: number;
}

export async function eventually<T>(check: () => Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
