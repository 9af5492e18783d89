// The embeddable broker: `await new Broker(config).start()` ... `await broker.stop()`.
// Start order matters: data dirs and identity, then recovery and topic loading, and only then
// the listeners bind, so no client ever sees a half-loaded broker.

import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ConnectionWriter, type WriterEvent, type WriterStats } from '@sluice/native';
import { BrokerConfig, type Listener } from './config.ts';
import { BrokerContext } from './broker-context.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import { GroupCoordinator } from './groups/coordinator.ts';
import { groupCoordinatorConfig } from './groups/config.ts';
import { OffsetsTopicLog } from './groups/offsets-topic-log.ts';
import { advertisedApiVersions, createHandlerRegistry, type HandlerRegistry } from './handlers/index.ts';
import { LogCleaner } from './log-cleaner.ts';
import { createLogger, type Logger } from './logger.ts';
import { loadOrFormatMetaProperties } from './meta-properties.ts';
import { TopicRegistry } from './topics.ts';

export interface BoundListener extends Listener {
  /** The port actually bound (differs from `port` when it was 0). */
  readonly boundPort: number;
}

export type BrokerSettings = BrokerConfig | Record<string, string | number | boolean | string[]>;

export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  private context: BrokerContext | null = null;
  private topics: TopicRegistry | null = null;
  private groups: GroupCoordinator | null = null;
  private writer: ConnectionWriter | null = null;
  private handlers: HandlerRegistry | null = null;
  private readonly servers: Server[] = [];
  private readonly connections = new Map<number, Connection>();
  private readonly timers: NodeJS.Timeout[] = [];
  private cleaner: LogCleaner | null = null;
  private nextConnectionId = 1;
  private boundListeners: BoundListener[] = [];
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(settings: BrokerSettings = {}, logger?: Logger) {
    this.config = settings instanceof BrokerConfig ? settings : new BrokerConfig(Object.entries(settings));
    this.logger = logger ?? createLogger(this.config.str('sluice.log.level'));
  }

  get listeners(): readonly BoundListener[] {
    return this.boundListeners;
  }

  /** host:port of the first listener, as clients should dial it. */
  get bootstrap(): string {
    const l = this.boundListeners[0];
    if (l === undefined) throw new Error('broker is not running');
    const host = l.host === '' || l.host === '0.0.0.0' || l.host === '::' ? '127.0.0.1' : l.host;
    return `${host}:${l.boundPort}`;
  }

  get broker(): BrokerContext {
    if (this.context === null) throw new Error('broker is not running');
    return this.context;
  }

  /** The native writer's counters (bytes and syscalls per transfer mode), read in one call. */
  transferStats(): WriterStats {
    if (this.writer === null) throw new Error('broker is not running');
    return this.writer.stats();
  }

  async start(): Promise<this> {
    if (this.state !== 'new') throw new Error(`cannot start a broker that is ${this.state}`);
    this.state = 'starting';
    const started = performance.now();
    const log = this.logger;
    for (const dir of this.config.logDirs) mkdirSync(dir, { recursive: true });
    const clusterId = loadOrFormatMetaProperties(this.config.logDirs[0], this.config.nodeId, this.config.get('cluster.id') as string | null);
    const topics = new TopicRegistry(this.config, log.child({ subsystem: 'topics' }));
    topics.load();
    this.topics = topics;
    const context = new BrokerContext(this.config, clusterId, topics, log.child({ subsystem: 'handlers' }));
    this.handlers = createHandlerRegistry();
    context.setApiVersions(advertisedApiVersions(this.handlers));
    this.context = context;
    // Committed offsets and group metadata are replayed from __consumer_offsets before any
    // client can connect; the coordinator's timers are unref'd.
    const groupsLog = log.child({ subsystem: 'groups' });
    const groups = new GroupCoordinator({ config: groupCoordinatorConfig(this.config), log: new OffsetsTopicLog(context, groupsLog), logger: groupsLog });
    groups.load();
    context.useGroupCoordinator(groups);
    this.groups = groups;
    this.writer = new ConnectionWriter({
      mode: this.config.str('sluice.transfer.mode') as 'sendfile' | 'splice' | 'copy',
      onEvents: (events) => this.onWriterEvents(events),
    });
    this.scheduleRetention();
    if (this.config.bool('log.cleaner.enable')) {
      this.cleaner = new LogCleaner(topics, this.config, log.child({ subsystem: 'cleaner' }));
      this.cleaner.start();
    }
    for (const listener of this.config.listeners) this.boundListeners.push(await this.listen(listener));
    context.useBoundListeners(this.boundListeners);
    this.state = 'running';
    log.info(
      {
        listeners: this.boundListeners.map((l) => `${l.name}://${l.host}:${l.boundPort}`),
        logDirs: this.config.logDirs,
        clusterId,
        nodeId: this.config.nodeId,
        startupMs: Math.round(performance.now() - started),
        config: this.config.nonDefaults(),
      },
      'sluice broker started',
    );
    return this;
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping' || this.state === 'new') return;
    this.state = 'stopping';
    for (const timer of this.timers) clearInterval(timer);
    // A clean in progress is aborted when its log closes below; wait for it after that.
    const cleanerStopped = this.cleaner?.stop();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.groups?.close();
    for (const connection of [...this.connections.values()]) connection.close();
    this.writer?.close();
    this.topics?.close();
    await cleanerStopped;
    this.state = 'stopped';
    this.logger.info('sluice broker stopped');
  }

  private listen(listener: Listener): Promise<BoundListener> {
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket, listener));
      server.once('error', reject);
      server.listen({ host: listener.host === '' ? undefined : listener.host, port: listener.port, backlog: 1024 }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err }, 'listener error'));
        this.servers.push(server);
        const address = server.address();
        const boundPort = typeof address === 'object' && address !== null ? address.port : listener.port;
        resolve({ ...listener, boundPort });
      });
    });
  }

  private accept(socket: Socket, listener: Listener): void {
    if (this.state === 'stopping' || this.state === 'stopped' || this.writer === null || this.context === null || this.handlers === null) {
      socket.destroy();
      return;
    }
    const options: ConnectionOptions = {
      maxRequestBytes: this.config.int('socket.request.max.bytes'),
      maxInFlight: this.config.int('queued.max.requests'),
      maxPendingBytes: this.config.int('sluice.connection.pending.max.bytes'),
      idleMs: this.config.int('connections.max.idle.ms'),
    };
    const info = {
      id: this.nextConnectionId++,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      listenerName: listener.name,
    };
    const connection = new Connection(socket, info, this.writer, this.context, this.handlers, options, this.logger.child({ subsystem: 'network' }), (c) => this.connections.delete(c.id));
    this.connections.set(connection.id, connection);
  }

  private onWriterEvents(events: readonly WriterEvent[]): void {
    for (const event of events) {
      const connection = this.connections.get(event.connId);
      if (connection === undefined) continue;
      if (event.kind === 'failed') connection.onWriterError(event.code);
      else connection.onWriterDone();
    }
  }

  private scheduleRetention(): void {
    const interval = this.config.int('log.retention.check.interval.ms');
    const retention = setInterval(() => this.enforceRetention(), Math.min(interval, 2_147_483_647));
    retention.unref();
    this.timers.push(retention);
    // Kafka's log.flush.offset.checkpoint.interval.ms (60 s): a crash recovers only past these.
    const checkpoints = setInterval(() => {
      try {
        this.topics?.writeCheckpoints();
      } catch (err) {
        this.logger.error({ err }, 'writing checkpoints failed');
      }
    }, 60_000);
    checkpoints.unref();
    this.timers.push(checkpoints);
  }

  /** Deletes segments past retention.ms / retention.bytes in every partition. */
  enforceRetention(now = Date.now()): void {
    if (this.topics === null) return;
    for (const topic of this.topics.topics) {
      for (const partition of topic.partitions) {
        try {
          if (partition.log.enforceRetention(now) > 0) partition.notifyChanged();
        } catch (err) {
          this.logger.error({ topic: topic.name, partition: partition.index, err }, 'retention failed');
        }
      }
    }
  }
}
