// What a run measures and for how long. `quick` (a few minutes; lib/estimate.ts) gives the shape of every table
// with short windows and one repetition; `full` is what the committed reference results come
// from: longer windows, three repetitions in alternating order, more data, and raw probes for
// every consumer count.

import { GiB, KiB, MiB } from './units.ts';

/** How the consumer side of a fetch receives: read size and SO_RCVLOWAT. */
export interface Receiver {
  name: string;
  readBytes: number;
  rcvlowat: number;
  describe: string;
}

export const RECEIVERS: readonly Receiver[] = [
  { name: 'read-1MiB', readBytes: MiB, rcvlowat: 0, describe: 'read() of up to 1 MiB, woken by any data' },
  { name: 'lowat-256KiB', readBytes: MiB, rcvlowat: 256 * KiB, describe: 'SO_RCVLOWAT 256 KiB, poll() then read up to 1 MiB' },
];

export interface FetchCell {
  receiver: Receiver;
  consumers: number;
}

export interface ProduceCell {
  acks: number;
  recordBytes: number;
  batchBytes: number;
  /** Producer connections when not the profile's `produce.connections` (the 4-connection cells). */
  connections?: number;
}

export interface Profile {
  name: 'quick' | 'full';
  reps: number;
  /** After each broker start: seconds of produce and then of fetch load on a scratch topic, so
   * JIT compilers (V8's, the JVM's) have compiled the hot paths before anything is measured. */
  brokerWarmupS: number;
  /** Per measurement: load before the measured window, and the window itself. */
  warmupS: number;
  measureS: number;
  /** Partitions of every benchmark topic. */
  partitions: number;
  fetch: {
    dataBytes: number;
    recordBytes: number;
    batchBytes: number;
    partitionMaxBytes: number;
    fetchMaxBytes: number;
    /** Scenario 1 (consumer counts per receiver) and 4 (fan-out, first receiver). */
    consumers: readonly number[];
    fanout: readonly number[];
    /** Consumer counts that get a raw probe with as many streams. */
    probeStreams: readonly number[];
  };
  produce: {
    cells: readonly ProduceCell[];
    /** Cells with more producer connections, run for the default append mode and Kafka only:
     * Kafka reads one request per connection at a time (its queued.max.requests is a
     * broker-wide queue), Sluice pipelines up to queued.max.requests per connection, so a
     * one-connection cell alone would compare pipelining, not brokers. */
    connectionCells: readonly ProduceCell[];
    connections: number;
    inFlight: number;
  };
  e2e: {
    /** Percentages of the shared rate (the lowest produce maximum of all brokers and modes). */
    ratePcts: readonly number[];
    /** Percentages of each broker's (and mode's) own produce maximum. */
    ownPcts: readonly number[];
    /** The produce cell whose maximum rate the percentages refer to. */
    base: ProduceCell;
    maxWaitMs: number;
  };
  startup: { reps: number; idleS: number };
  /** Scenario 6: one consumer of `partitions` partitions, with and without a fetch session. */
  sessions: {
    partitions: number;
    dataBytes: number;
    recordBytes: number;
    batchBytes: number;
    partitionMaxBytes: number;
    /** Its own window: a read-through fetch carries the whole topic, so the shared quick window
     * (0.6 s) can hold none on a loaded machine. */
    warmupS: number;
    measureS: number;
  };
}

function produceMatrix(): ProduceCell[] {
  const cells: ProduceCell[] = [];
  for (const acks of [1, -1]) {
    for (const recordBytes of [100, KiB]) {
      for (const batchBytes of [16 * KiB, MiB]) cells.push({ acks, recordBytes, batchBytes });
    }
  }
  return cells;
}

/** 1 KiB records, both acks, both batch sizes, over 4 connections. */
function connectionMatrix(connections: number): ProduceCell[] {
  const cells: ProduceCell[] = [];
  for (const acks of [1, -1]) for (const batchBytes of [16 * KiB, MiB]) cells.push({ acks, recordBytes: KiB, batchBytes, connections });
  return cells;
}

const common = {
  partitions: 4,
  produce: { cells: produceMatrix(), connectionCells: connectionMatrix(4), connections: 1, inFlight: 8 },
  e2e: { ratePcts: [10, 50, 80], ownPcts: [50], base: { acks: 1, recordBytes: KiB, batchBytes: 16 * KiB }, maxWaitMs: 500 },
} as const;

export const QUICK: Profile = {
  name: 'quick',
  reps: 1,
  brokerWarmupS: 0.4,
  warmupS: 0.2,
  measureS: 0.6,
  partitions: common.partitions,
  fetch: {
    dataBytes: 128 * MiB,
    recordBytes: KiB,
    batchBytes: MiB,
    partitionMaxBytes: 8 * MiB,
    fetchMaxBytes: 32 * MiB,
    consumers: [1, 4],
    fanout: [1, 4, 8],
    probeStreams: [1, 4],
  },
  produce: common.produce,
  e2e: common.e2e,
  startup: { reps: 1, idleS: 1 },
  sessions: { partitions: 1000, dataBytes: 32 * MiB, recordBytes: KiB, batchBytes: 16 * KiB, partitionMaxBytes: MiB, warmupS: 0.5, measureS: 2 },
};

export const FULL: Profile = {
  name: 'full',
  reps: 3,
  brokerWarmupS: 3,
  warmupS: 1,
  // 4 s windows (5 until issue 21): with Kafka restarted per repetition, the connection and
  // own-load cells, the full run stays within 45 minutes here (lib/estimate.ts).
  measureS: 4,
  partitions: common.partitions,
  fetch: {
    dataBytes: GiB,
    recordBytes: KiB,
    batchBytes: MiB,
    partitionMaxBytes: 8 * MiB,
    fetchMaxBytes: 32 * MiB,
    consumers: [1, 4],
    fanout: [1, 2, 4, 8],
    probeStreams: [1, 2, 4, 8],
  },
  produce: common.produce,
  e2e: common.e2e,
  startup: { reps: 3, idleS: 5 },
  sessions: { partitions: 1000, dataBytes: 256 * MiB, recordBytes: KiB, batchBytes: 16 * KiB, partitionMaxBytes: MiB, warmupS: 1, measureS: 5 },
};

/** Every fetch cell a run measures: scenario 1's receivers × consumer counts, plus the fan-out
 * counts with the first receiver. */
export function fetchCells(p: Profile): FetchCell[] {
  const cells: FetchCell[] = [];
  const add = (receiver: Receiver, consumers: number) => {
    if (!cells.some((c) => c.receiver.name === receiver.name && c.consumers === consumers)) cells.push({ receiver, consumers });
  };
  for (const receiver of RECEIVERS) for (const n of p.fetch.consumers) add(receiver, n);
  for (const n of p.fetch.fanout) add(RECEIVERS[0]!, n);
  return cells;
}

/** Repetition r runs the modes forwards when even, backwards when odd (ABC, CBA, ABC…), so no
 * mode always runs first on a cold machine or last on a warm one. */
export function alternate<T>(items: readonly T[], rep: number): T[] {
  return rep % 2 === 0 ? [...items] : [...items].reverse();
}
