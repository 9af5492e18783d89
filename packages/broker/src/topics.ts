// Topics: the registry of what exists, where its data lives, and opening the partitions' logs
// (each partition is a Partition, partition.ts).
//
// Persistence: the registry (topic name, topic id, partition count, config overrides) is one
// JSON file per broker, `sluice-topics.json` in the first log dir, replaced atomically (write,
// fsync, rename, fsync dir). Partition data lives in `<logDir>/<topic>-<partition>/`, the
// directory names Kafka uses; a partition stays in the log dir where it was created.
//
// Concurrency: everything here runs on the Node event loop; a Partition (partition.ts) is the
// single appender of its native log (the native log's contract).

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clearCleanShutdown,
  hasCleanShutdownMarker,
  type CheckpointEntry,
  type LogConfig,
  markCleanShutdown,
  type OpenOptions,
  PartitionLog,
  readCleanerOffsetCheckpoint,
  type TestFault,
  readLogStartOffsetCheckpoint,
  readRecoveryPointCheckpoint,
  writeCleanerOffsetCheckpoint,
  writeLogStartOffsetCheckpoint,
  writeRecoveryPointCheckpoint,
} from '@sluice/native';
import type { BrokerConfig, ConfigValue } from './config.ts';
import { readHighWatermarks, writeHighWatermarks } from './high-watermark-checkpoint.ts';
import type { Logger } from './logger.ts';
import { Partition } from './partition.ts';
import { parseTestFaults } from './test-faults.ts';
import { TopicConfig } from './topic-config.ts';

export const TOPICS_FILE = 'sluice-topics.json';

/** Kafka's internal topics (Topic.INTERNAL_TOPICS): written by the broker only. A user topic
 * named `__something` else is an ordinary topic, as in Kafka. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state', '__share_group_state']);

/** What opening the persisted partitions at startup took. */
export interface LoadStats {
  /** Partitions opened. */
  partitions: number;
  /** Opened after an unclean stop (no clean-shutdown marker): their unflushed tail was scanned. */
  partitionsRecovered: number;
  /** Segments scanned and CRC-checked (or whose indexes were rebuilt) while opening. */
  segmentsRecovered: number;
  loadMs: number;
}
const MAX_TOPIC_NAME_LENGTH = 249;

/** Kafka's topic name rule: [a-zA-Z0-9._-]{1,249}, not "." or "..". Returns the problem or null. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `topic name is longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name "${name}" has characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

/** 16 random bytes as the protocol's 32-char hex uuid; never the zero uuid. */
export function newTopicId(): string {
  for (;;) {
    const hex = randomBytes(16).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

export class Topic {
  readonly name: string;
  readonly id: string;
  config: TopicConfig;
  readonly partitions: Partition[] = [];
  /** Reports a failed background flush (set by the registry to its logger). */
  onFlushError?: (partition: Partition, err: unknown) => void;
  /** Reports a partition going offline (set by the registry to its logger). */
  onOffline?: (partition: Partition, err: Error) => void;
  /** Reports a partition's offsets moving (set by the registry to its listeners). */
  onPartitionChange?: (partition: Partition) => void;

  constructor(name: string, id: string, config: TopicConfig) {
    this.name = name;
    this.id = id;
    this.config = config;
  }

  get isInternal(): boolean {
    return INTERNAL_TOPICS.has(this.name);
  }
}

interface PersistedTopic {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, ConfigValue>;
}

export class TopicRegistry {
  private readonly byName = new Map<string, Topic>();
  private readonly byId = new Map<string, Topic>();
  private readonly config: BrokerConfig;
  private readonly logger: Logger;
  /** What the previous run left per partition dir name (`topic-N`), read once at load. */
  private previousRun = new Map<string, OpenOptions>();
  /** The high watermarks the previous run checkpointed (cluster mode), read once at load. */
  private previousHighWatermarks = new Map<string, number>();
  /** Counted while `load` opens partitions. */
  private loadStats: LoadStats | null = null;
  /** `sluice.test.fault.storage` (tests only), by partition dir name. */
  private readonly testFaults: Map<string, TestFault[]>;
  private readonly partitionChangeListeners = new Set<(partition: Partition) => void>();

  constructor(config: BrokerConfig, logger: Logger) {
    this.config = config;
    this.logger = logger;
    this.testFaults = parseTestFaults(config.list('sluice.test.fault.storage'));
  }

  get topics(): Iterable<Topic> {
    return this.byName.values();
  }

  get(name: string): Topic | undefined {
    return this.byName.get(name);
  }

  getById(id: string): Topic | undefined {
    return this.byId.get(id);
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.byName.get(topic)?.partitions[index];
  }

  /**
   * Calls `listener` whenever a partition's log end, high watermark or log start moved (what a
   * parked fetch waits for); returns the unsubscribe. Called on the hot path: keep it cheap.
   */
  onPartitionChange(listener: (partition: Partition) => void): () => void {
    this.partitionChangeListeners.add(listener);
    return () => this.partitionChangeListeners.delete(listener);
  }

  /**
   * Opens every persisted topic's partitions. Each log dir says whether the last shutdown was
   * clean (`.kafka_cleanshutdown`) and how far each partition was fsync'd
   * (`recovery-point-offset-checkpoint`); the native open recovers what lies past that. The
   * marker is removed before anything is appended, so a crash from here on is detected.
   */
  load(): LoadStats {
    const started = performance.now();
    this.loadStats = { partitions: 0, partitionsRecovered: 0, segmentsRecovered: 0, loadMs: 0 };
    for (const dir of this.config.logDirs) {
      const clean = hasCleanShutdownMarker(dir);
      const recovery = new Map(readRecoveryPointCheckpoint(dir).map((e) => [`${e.topic}-${e.partition}`, e.offset]));
      for (const e of readLogStartOffsetCheckpoint(dir)) {
        const key = `${e.topic}-${e.partition}`;
        this.previousRun.set(key, { cleanShutdown: clean, recoveryPoint: recovery.get(key) ?? 0, logStartOffset: e.offset });
      }
      for (const [key, recoveryPoint] of recovery) {
        if (!this.previousRun.has(key)) this.previousRun.set(key, { cleanShutdown: clean, recoveryPoint });
      }
      // Where the log cleaner got to in each compacted partition (Kafka's cleaner-offset-checkpoint).
      for (const e of readCleanerOffsetCheckpoint(dir)) {
        const key = `${e.topic}-${e.partition}`;
        this.previousRun.set(key, { cleanShutdown: clean, ...this.previousRun.get(key), firstDirtyOffset: e.offset });
      }
    }
    this.previousHighWatermarks = readHighWatermarks(this.config.logDirs, this.logger);
    this.loadTopics();
    for (const dir of this.config.logDirs) clearCleanShutdown(dir);
    this.previousRun = new Map();
    this.previousHighWatermarks = new Map();
    const stats = { ...this.loadStats, loadMs: Math.round(performance.now() - started) };
    this.loadStats = null;
    return stats;
  }

  private loadTopics(): void {
    const file = join(this.config.logDirs[0], TOPICS_FILE);
    if (!existsSync(file)) return;
    const persisted = JSON.parse(readFileSync(file, 'utf8')) as { version: number; topics: PersistedTopic[] };
    for (const t of persisted.topics) {
      const topic = new Topic(t.name, t.id, new TopicConfig(this.config, new Map(Object.entries(t.configs))));
      this.register(topic);
      this.openPartitions(topic, 0, t.partitions, false);
    }
    this.logger.info({ topics: persisted.topics.length }, 'topics loaded');
  }

  /**
   * Creates a topic; if opening any partition fails, nothing of it remains and the error is
   * thrown. `id` is given in cluster mode (the topic id is the cluster's, from etcd).
   */
  create(name: string, partitions: number, overrides: ReadonlyMap<string, ConfigValue>, id: string = newTopicId()): Topic {
    if (this.byName.has(name)) throw new Error(`BUG: topic ${name} exists`);
    const topic = new Topic(name, id, new TopicConfig(this.config, overrides));
    this.register(topic);
    try {
      this.openPartitions(topic, 0, partitions, true);
    } catch (err) {
      this.byName.delete(topic.name);
      this.byId.delete(topic.id);
      throw err;
    }
    this.persist();
    this.logger.info({ topic: name, partitions, configs: Object.fromEntries(overrides) }, 'topic created');
    return topic;
  }

  /** Raises the partition count; if opening any new partition fails, none is added. */
  addPartitions(topic: Topic, totalCount: number): void {
    this.openPartitions(topic, topic.partitions.length, totalCount, true);
    this.persist();
    this.logger.info({ topic: topic.name, partitions: totalCount }, 'partitions added');
  }

  alterConfigs(topic: Topic, overrides: ReadonlyMap<string, ConfigValue>): void {
    topic.config = topic.config.withOverrides(overrides);
    for (const partition of topic.partitions) partition.log.updateConfig(this.logConfig(topic.config));
    this.persist();
    this.logger.info({ topic: topic.name, configs: Object.fromEntries(overrides) }, 'topic configs altered');
  }

  delete(topic: Topic): void {
    this.byName.delete(topic.name);
    this.byId.delete(topic.id);
    this.persist();
    for (const partition of topic.partitions) {
      partition.notifyChanged();
      partition.log.delete();
    }
    this.logger.info({ topic: topic.name }, 'topic deleted');
  }

  /**
   * Writes each log dir's recovery-point and log-start checkpoints (Kafka's formats), so a
   * restart after a crash scans only what was not yet fsync'd, and the cleaner checkpoint (where
   * compaction got to in each compacted partition).
   */
  writeCheckpoints(): void {
    const byDir = new Map<string, { recovery: CheckpointEntry[]; start: CheckpointEntry[]; cleaner: CheckpointEntry[] }>();
    for (const dir of this.config.logDirs) byDir.set(dir, { recovery: [], start: [], cleaner: [] });
    for (const topic of this.byName.values()) {
      for (const p of topic.partitions) {
        const entry = byDir.get(p.logDir)!;
        entry.recovery.push({ topic: topic.name, partition: p.index, offset: p.log.recoveryPoint });
        entry.start.push({ topic: topic.name, partition: p.index, offset: p.log.logStartOffset });
        if (topic.config.isCompacted()) entry.cleaner.push({ topic: topic.name, partition: p.index, offset: p.log.firstDirtyOffset });
      }
    }
    for (const [dir, { recovery, start, cleaner }] of byDir) {
      writeRecoveryPointCheckpoint(dir, recovery);
      writeLogStartOffsetCheckpoint(dir, start);
      writeCleanerOffsetCheckpoint(dir, cleaner);
    }
  }

  /** Each replicated partition's high watermark into its log dir's replication-offset-checkpoint. */
  writeHighWatermarkCheckpoints(): void {
    writeHighWatermarks(this.config.logDirs, this.allPartitions());
  }

  private *allPartitions(): Iterable<Partition> {
    for (const topic of this.byName.values()) yield* topic.partitions;
  }

  /**
   * Clean shutdown: close every log (flush + trim the active segment), checkpoints, then the
   * clean-shutdown marker in each log dir, last. A log that is offline or fails to close keeps
   * the recovery point of its last good flush and leaves no marker, so the next start scans it.
   * An offline log is not closed at all: closing flushes, and an fsync after a failed one may
   * report success for pages that never reached the disk.
   */
  close(): void {
    // Read before close: a closed log answers nothing.
    const marks = new Map<Partition, { end: number; start: number; recoveryPoint: number; firstDirty: number }>();
    for (const topic of this.byName.values()) {
      for (const p of topic.partitions) {
        marks.set(p, { end: p.log.logEndOffset, start: p.log.logStartOffset, recoveryPoint: p.log.recoveryPoint, firstDirty: p.log.firstDirtyOffset });
      }
    }
    const failures: unknown[] = [];
    // Cluster mode: the high watermarks too (JS state, readable after the logs closed).
    const replicated = [...this.allPartitions()].some((p) => p.isReplicated);
    const byDir = new Map<string, { recovery: CheckpointEntry[]; start: CheckpointEntry[]; cleaner: CheckpointEntry[] }>();
    for (const dir of this.config.logDirs) byDir.set(dir, { recovery: [], start: [], cleaner: [] });
    for (const [p, { end, start, recoveryPoint, firstDirty }] of marks) {
      let closed = false;
      if (p.offline) {
        failures.push(p.offlineReason);
      } else {
        try {
          p.log.close();
          closed = true;
        } catch (err) {
          failures.push(err);
          this.logger.error({ topic: p.topic.name, partition: p.index, err }, 'closing a log failed');
        }
      }
      // After a successful close everything up to the end is flushed: the end is the recovery point.
      const entry = byDir.get(p.logDir)!;
      entry.recovery.push({ topic: p.topic.name, partition: p.index, offset: closed ? end : recoveryPoint });
      entry.start.push({ topic: p.topic.name, partition: p.index, offset: start });
      if (p.topic.config.isCompacted()) entry.cleaner.push({ topic: p.topic.name, partition: p.index, offset: firstDirty });
    }
    // A failed write keeps the previous file (written atomically): older high watermarks, which
    // expose nothing uncommitted; the shutdown stays clean.
    if (replicated) {
      try {
        this.writeHighWatermarkCheckpoints();
      } catch (err) {
        this.logger.error({ err }, 'writing replication-offset-checkpoint at shutdown failed');
      }
    }
    for (const [dir, { recovery, start, cleaner }] of byDir) {
      writeRecoveryPointCheckpoint(dir, recovery);
      writeLogStartOffsetCheckpoint(dir, start);
      writeCleanerOffsetCheckpoint(dir, cleaner);
      // A log that failed to close must be recovered next time: no marker then.
      if (failures.length === 0) markCleanShutdown(dir);
    }
  }

  logConfig(config: TopicConfig): Partial<LogConfig> {
    return {
      segmentBytes: config.num('segment.bytes'),
      segmentMs: config.num('segment.ms'),
      segmentIndexBytes: config.num('segment.index.bytes'),
      indexIntervalBytes: config.num('index.interval.bytes'),
      maxMessageBytes: config.num('max.message.bytes'),
      retentionMs: config.num('retention.ms'),
      retentionBytes: config.num('retention.bytes'),
      appendMode: this.config.str('sluice.log.append.mode') as 'mmap' | 'pwrite',
      preallocateStepBytes: this.config.int('sluice.log.preallocate.step.bytes'),
      messageTimestampType: config.get('message.timestamp.type') as 'CreateTime' | 'LogAppendTime',
      flushIntervalMessages: config.num('flush.messages'),
      producerIdExpirationMs: this.config.int('producer.id.expiration.ms'),
      cleanupPolicy: (config.get('cleanup.policy') as string[]).join(','),
      deleteRetentionMs: config.num('delete.retention.ms'),
      minCompactionLagMs: config.num('min.compaction.lag.ms'),
      minCleanableDirtyRatio: config.num('min.cleanable.dirty.ratio'),
    };
  }

  private register(topic: Topic): void {
    topic.onFlushError = (p, err) => this.logger.error({ topic: topic.name, partition: p.index, err }, 'background flush failed');
    topic.onOffline = (p, err) =>
      this.logger.error(
        { topic: topic.name, partition: p.index, err },
        'partition storage failed; it answers KAFKA_STORAGE_ERROR until the broker restarts and recovers it',
      );
    topic.onPartitionChange = (p) => {
      for (const listener of this.partitionChangeListeners) listener(p);
    };
    this.byName.set(topic.name, topic);
    this.byId.set(topic.id, topic);
  }

  /**
   * Opens partition `index` of `topic`. A `fresh` partition (a new topic or added partitions)
   * must start empty: a directory already there under its name is what a crash in the middle of
   * deleting an earlier topic of that name left behind (the registry forgot it first), and is
   * removed rather than resurrected.
   */
  /**
   * Opens partitions [from, to) of `topic`, then fsyncs each log dir that got new partition
   * directories once (their entries must be durable before anything in them is acknowledged;
   * the logs' own flushes sync the partition dirs, not their parents). New partitions (`fresh`)
   * are all-or-nothing: on a failure the ones opened are deleted again and the error is thrown.
   */
  private openPartitions(topic: Topic, from: number, to: number, fresh: boolean): void {
    const dirs = this.config.logDirs;
    // Partitions per log dir, counted once: new ones go where there are fewest, as in Kafka.
    const counts = dirs.map((d) => (existsSync(d) ? readdirSync(d).filter((f) => /-\d+$/.test(f)).length : 0));
    const parents = new Set<string>();
    try {
      for (let p = from; p < to; p++) {
        const parent = this.openPartition(topic, p, fresh, counts);
        if (parent !== null) parents.add(parent);
      }
    } catch (err) {
      if (fresh) {
        for (const partition of topic.partitions.slice(from)) {
          try {
            partition?.log.delete();
          } catch (cleanupErr) {
            this.logger.error({ topic: topic.name, partition: partition?.index, err: cleanupErr }, 'removing a partially created partition failed');
          }
        }
        topic.partitions.length = from;
      }
      throw err;
    }
    for (const parent of parents) fsyncDir(parent);
  }

  /** Opens one partition; returns the log dir in which it created the directory, or null. */
  private openPartition(topic: Topic, index: number, fresh: boolean, counts: number[]): string | null {
    const name = `${topic.name}-${index}`;
    const dirs = this.config.logDirs;
    if (fresh) {
      for (const stale of dirs.map((d) => join(d, name)).filter((d) => existsSync(d))) {
        this.logger.warn({ dir: stale }, 'removing the leftover directory of a deleted topic');
        rmSync(stale, { recursive: true, force: true });
      }
    }
    let dir = dirs.map((d) => join(d, name)).find((d) => existsSync(d));
    let createdIn: string | null = null;
    if (dir === undefined) {
      // New partition: the log dir holding the fewest partitions, as Kafka places them.
      const at = counts.indexOf(Math.min(...counts));
      createdIn = dirs[at];
      counts[at]++;
      dir = join(createdIn, name);
      mkdirSync(dir, { recursive: true });
    }
    const logDir = dirs.find((d) => join(d, name) === dir)!;
    const options: OpenOptions = { ...(this.previousRun.get(name) ?? {}) };
    const faults = this.testFaults.get(name);
    if (faults !== undefined) options.testFaults = faults;
    let log: PartitionLog;
    try {
      log = PartitionLog.open(dir, this.logConfig(topic.config), options);
    } catch (err) {
      if (createdIn !== null) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    topic.partitions[index] = new Partition(topic, index, dir, logDir, log, this.previousHighWatermarks.get(name));
    if (this.loadStats !== null) {
      this.loadStats.partitions++;
      if (options.cleanShutdown !== true) this.loadStats.partitionsRecovered++;
      this.loadStats.segmentsRecovered += log.recoveredSegments;
    }
    return createdIn;
  }

  private persist(): void {
    const dir = this.config.logDirs[0];
    const file = join(dir, TOPICS_FILE);
    const topics: PersistedTopic[] = [...this.byName.values()].map((t) => ({
      name: t.name,
      id: t.id,
      partitions: t.partitions.length,
      configs: Object.fromEntries(t.config.overrides),
    }));
    writeFileAtomically(dir, file, JSON.stringify({ version: 1, topics }, null, 1) + '\n');
  }
}

/** fsync of a directory: entries created, renamed or removed in it become durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write to a temp file, fsync, rename over the target, fsync the directory. */
export function writeFileAtomically(dir: string, file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dir);
}
