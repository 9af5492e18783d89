// The process probe: Node's default metrics from prom-client (CPU, memory, heap spaces, GC,
// event loop lag, handles, open fds) under their standard, unprefixed names —
// `process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, ... — so the usual Node.js
// dashboards and alerts work unchanged. Everything Sluice-specific is prefixed `sluice_`; the
// native side's counters (writer, flushes) are exposed by the data-path probe.

import { collectDefaultMetrics, type Registry } from 'prom-client';

export class ProcessProbe {
  constructor(registry: Registry) {
    // Collected at scrape time; the event-loop-delay monitor and the GC observer run
    // continuously (both are cheap and keep nothing alive).
    collectDefaultMetrics({ register: registry });
  }
}
