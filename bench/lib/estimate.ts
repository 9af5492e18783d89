// How long a run will take, from the profile: the run prints it before it starts, and a test
// holds the full reference run (`pnpm bench --vs-kafka`) to its budget on a 2-vCPU VM.
// The per-step costs are this VM's (2 vCPUs, loopback): a cell costs its loadgen windows plus
// the spawn, connect, create/delete-topic steps around them; a broker session its start, the
// warm-up's three loadgen runs and its stop. Checked against the 2026-11-23 full run (1,727 s
// measured; these costs give 1,858 s for that run's cells: about 7% high, on purpose).

import { fetchCells } from './profile.ts';
import { coldSettings } from './scenarios/cold-reader.ts';
import type { Profile } from './profile.ts';
import { TRANSFER_MODES, APPEND_MODES } from './sluice.ts';

/** Seconds around one loadgen measurement (spawn, connect, topic create and delete). */
export const CELL_OVERHEAD_S = 0.7;
/** Start and stop of one Sluice broker, and of one Kafka broker (JVM start, KRaft, shutdown). */
export const SLUICE_START_STOP_S = 1.5;
export const KAFKA_START_STOP_S = 8;
/** Write rate of the preloads (one connection, acks=1), MB/s. */
const PRELOAD_MB_PER_S = 300;

export interface EstimateInput {
  profile: Profile;
  vsKafka: boolean;
  only: readonly string[];
  /** Fan-out comparison setups run beside the transfer modes (fetch.ts WRITER_COMPARISONS). */
  writerComparisons: number;
}

/** Seconds per scenario and in total. */
export function estimateRun(o: EstimateInput): { byScenario: Record<string, number>; totalS: number } {
  const p = o.profile;
  const cell = p.warmupS + p.measureS + CELL_OVERHEAD_S;
  const warm = 2 * p.brokerWarmupS + 3 * CELL_OVERHEAD_S;
  const sluiceSession = SLUICE_START_STOP_S + warm;
  const kafkaSession = KAFKA_START_STOP_S + warm;
  const k = o.vsKafka ? 1 : 0;
  const preload = (bytes: number) => bytes / 1e6 / PRELOAD_MB_PER_S;
  const by: Record<string, number> = {};
  if (o.only.includes('startup')) {
    by.startup = p.startup.reps * (SLUICE_START_STOP_S + p.startup.idleS + k * (KAFKA_START_STOP_S + p.startup.idleS));
  }
  if (o.only.includes('fetch')) {
    const cells = fetchCells(p);
    const probed = cells.filter((c) => p.fetch.probeStreams.includes(c.consumers)).length;
    const perRep =
      TRANSFER_MODES.length * (sluiceSession + (cells.length + probed) * cell) +
      o.writerComparisons * (sluiceSession + p.fetch.fanout.length * cell) +
      k * (kafkaSession + cells.length * cell);
    by.fetch = SLUICE_START_STOP_S + preload(p.fetch.dataBytes) + k * (KAFKA_START_STOP_S + preload(p.fetch.dataBytes)) + p.reps * perRep;
  }
  if (o.only.includes('produce')) {
    const matrix = p.produce.cells.length;
    const more = p.produce.connectionCells.length;
    // mmap: the matrix; pwrite (the default) and Kafka: the matrix and the connection cells.
    const perRep = APPEND_MODES.length * (sluiceSession + cell) + (matrix * APPEND_MODES.length + more) * cell + k * (kafkaSession + (matrix + more) * cell);
    by.produce = p.reps * perRep;
  }
  if (o.only.includes('e2e')) {
    const loads = p.e2e.ratePcts.length + p.e2e.ownPcts.length;
    by.e2e = p.reps * (APPEND_MODES.length * sluiceSession + k * kafkaSession + (APPEND_MODES.length + k) * loads * cell);
  }
  if (o.only.includes('sessions')) {
    const s = p.sessions;
    by.sessions = sluiceSession + preload(s.dataBytes) * 2 + p.reps * 4 * (s.warmupS + s.measureS + CELL_OVERHEAD_S);
  }
  if (o.only.includes('cold')) {
    // Per broker: one session, the cold topic written once, then per repetition a cell without
    // and one with the cold reader (each also drops the topic's pages first: ~1 s).
    const c = coldSettings(p.name);
    const cells = 2 * (c.warmupS + c.measureS + CELL_OVERHEAD_S + 1);
    by.cold = sluiceSession + preload(c.coldBytes) + p.reps * cells + k * (kafkaSession + preload(c.coldBytes) + p.reps * cells);
  }
  const totalS = Object.values(by).reduce((a, b) => a + b, 0);
  return { byScenario: by, totalS };
}
