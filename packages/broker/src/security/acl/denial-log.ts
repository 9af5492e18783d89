// Which authorization denials get a log line: each (principal, host, operation, resource) once per
// interval, with how many identical denials were not logged since (issue 13: "a denied request
// logs the principal, operation and resource once per interval, not per request"). A client
// retrying a forbidden produce in a loop costs one line per interval, not one per request.
//
// Bounded: at most `maxKeys` distinct denials are remembered; past that the oldest is forgotten
// (its next denial logs again). Sans-io: the clock is a parameter.
// Contract: single-threaded.

export interface DenialLogOptions {
  readonly intervalMs?: number;
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Entry {
  loggedAt: number;
  suppressed: number;
}

export class DenialLogLimiter {
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: DenialLogOptions = {}) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Records one denial. Returns null when it should not be logged, or, when a line is due, the
   * number of identical denials suppressed since the previous line (0 for the first).
   */
  record(principal: string, host: string, operation: number, resourceType: number, name: string): { readonly suppressed: number } | null {
    const key = `${principal}\u0000${host}\u0000${operation}\u0000${resourceType}\u0000${name}`;
    const now = this.now();
    const e = this.entries.get(key);
    if (e !== undefined && now - e.loggedAt < this.intervalMs) {
      e.suppressed++;
      return null;
    }
    const suppressed = e?.suppressed ?? 0;
    this.entries.delete(key); // re-insert: Map order is then oldest-logged first
    this.entries.set(key, { loggedAt: now, suppressed: 0 });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    return { suppressed };
  }

  get size(): number {
    return this.entries.size;
  }
}
