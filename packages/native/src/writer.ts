// ConnectionWriter: the typed wrapper of the native per-connection writer. The writer is the
// only writer on a registered socket: the broker reads requests through Node and never writes
// to that socket through Node. Semantics (inline fast path, queue, events, bounds) are
// documented in crates/sluice-log/src/writer.rs; this file converts types only.
import type { Socket } from 'node:net';
import type { NativeConnectionWriter, NativeFileSlice, NativeTlsConfig, NativeTlsEvent, NativeTlsSettings, NativeWriterStats } from '../binding.d.ts';
import { binding } from './binding.ts';

export type WriterMode = 'sendfile' | 'splice' | 'copy';

/** One part of a send plan: plain bytes (copied only if they must be queued) or a file slice. */
export type SendPart = Uint8Array | NativeFileSlice;

/** Error codes a failed-send event can carry (a subset of the package's error codes). */
export type WriterEventErrorCode = 'PEER_RESET' | 'TRANSFER_IO';

/**
 * What the writer reports about sends that were queued (a send written inline — `send`
 * returned 0 — gets no event). `bytes` is the send's size when sent, or what of it was written
 * before the connection broke. After a 'failed' event the connection's queue is dropped and no
 * more events come for it: close the socket and `unregister` it.
 */
export type WriterEvent =
  | { kind: 'sent'; connId: number; token: number; bytes: number }
  | {
      kind: 'failed';
      connId: number;
      token: number;
      bytes: number;
      code: WriterEventErrorCode;
      /** The OS error number (EPIPE, ECONNRESET, EIO…), 0 when there is none. */
      errno: number;
    };

/** The writer's counters; the TLS ones (`tls*`) and the cold-read ones are always filled by the
 * native writer, optional here so that stats made by hand (tests, benchmarks) need not list them. */
type TlsStatKeys = 'tlsPlaintextBytes' | 'tlsBytes' | 'tlsSyscalls' | 'coldRangesDeferred' | 'coldBytesWarmed' | 'coldWaitMicros' | 'residencyProbes';
export type WriterStats = Omit<NativeWriterStats, TlsStatKeys> & Partial<Pick<NativeWriterStats, TlsStatKeys>>;

export interface ConnectionWriterOptions {
  mode: WriterMode;
  /** Called on the JS thread with each batch of events, in order. */
  onEvents(events: WriterEvent[]): void;
  /**
   * Given: the writer also serves TLS connections (`registerTls`) and reports their
   * handshakes, decrypted bytes and read ends here, in batches.
   */
  onTlsEvents?(events: TlsEvent[]): void;
  /** Move TLS connections' keys to the kernel when it has kTLS (default true). */
  ktls?: boolean;
  /** Epoll threads the connections are spread over (default: the core count, at most 8). */
  threads?: number;
  /** SO_SNDBUF set on every registered socket (Kafka's socket.send.buffer.bytes); -1 or
   * absent: the kernel's autotuning. */
  sendBufferBytes?: number;
  /** Threads warming file ranges that are not in the page cache before they are sent (default
   * 2; 0: no residency probe, a cold range blocks the thread sending it). */
  coldReadThreads?: number;
}

/**
 * What a TLS connection reports (crates/sluice-log/src/writer/connection/tls.rs):
 * 'established' once the handshake is done (`peerSubject`: the client certificate's subject,
 * RFC 2253; `kernel`: keys moved to kTLS); 'received' decrypted bytes, in order — reading then
 * stops until `resumeReading`; 'closed' when reading ended (`error` absent: the peer closed).
 */
export type TlsEvent =
  | { kind: 'established'; connId: number; protocol: string; cipherSuite: string; peerSubject: string | undefined; kernel: boolean }
  | { kind: 'received'; connId: number; data: Uint8Array }
  | { kind: 'closed'; connId: number; error: string | undefined };

/** Kafka's ssl.* settings of one listener, camelCased (see crates/sluice-tls). */
export type TlsSettings = NativeTlsSettings;

/** A listener's TLS server config, built once; throws INVALID_CONFIG naming the bad setting. */
export class TlsConfig {
  readonly native: NativeTlsConfig;

  constructor(settings: TlsSettings) {
    this.native = new binding.NativeTlsConfig(settings);
  }
}

/** Kernel TLS on this machine: "available", or "unavailable (why)". Probed on each call. */
export function ktlsProbe(): string {
  return binding.ktlsProbe();
}

function decodeTlsEvent(e: NativeTlsEvent): TlsEvent {
  switch (e.kind) {
    case 'established':
      return {
        kind: 'established',
        connId: e.connId,
        protocol: e.protocol!,
        cipherSuite: e.cipherSuite!,
        peerSubject: e.peerSubject ?? undefined,
        kernel: e.kernel === true,
      };
    case 'received':
      return { kind: 'received', connId: e.connId, data: e.data! };
    default:
      return { kind: 'closed', connId: e.connId, error: e.error ?? undefined };
  }
}

const EVENT_STRIDE = binding.writerEventStride();
const EVENT_KINDS = binding.writerEventKinds();

export class ConnectionWriter {
  readonly mode: WriterMode;
  readonly #native: NativeConnectionWriter;

  constructor(options: ConnectionWriterOptions) {
    this.mode = options.mode;
    const onEvents = options.onEvents;
    const onTlsEvents = options.onTlsEvents;
    const settings = { threads: options.threads, sendBufferBytes: options.sendBufferBytes, coldReadThreads: options.coldReadThreads };
    this.#native =
      onTlsEvents === undefined
        ? new binding.NativeConnectionWriter(options.mode, (flat) => onEvents(decodeWriterEvents(flat)), undefined, undefined, settings)
        : new binding.NativeConnectionWriter(
            options.mode,
            (flat) => onEvents(decodeWriterEvents(flat)),
            (events) => onTlsEvents(events.map(decodeTlsEvent)),
            options.ktls ?? true,
            settings,
          );
  }

  /**
   * Registers a connected TCP socket that speaks TLS with `config`. The writer owns it in both
   * directions: Node must never read it (accept with `pauseOnConnect`); its bytes come as
   * 'received' TLS events. Needs a writer made with `onTlsEvents`.
   */
  registerTls(socket: Socket | number, config: TlsConfig): number {
    return this.#native.registerTls(typeof socket === 'number' ? socket : socketFd(socket), config.native);
  }

  /** Lets a TLS connection deliver its next batch of decrypted bytes. */
  resumeReading(connId: number): void {
    this.#native.resumeReading(connId);
  }

  /** Registers a connected socket (or its fd); the writer keeps its own dup. Returns the id. */
  register(socket: Socket | number): number {
    return this.#native.register(typeof socket === 'number' ? socket : socketFd(socket));
  }

  /**
   * Sends the parts in order. Returns the connection's queued bytes after the inline attempt:
   * 0 means this send is completely written and no event follows; more means a 'sent' or
   * 'failed' event for `token` will come. Pause reading from the connection while this (or
   * `pendingBytes`) is high; past the writer's bound a send throws WRITER_QUEUE_FULL.
   */
  send(connId: number, parts: SendPart[], token: number): number {
    return this.#native.send(connId, parts, token);
  }

  pendingBytes(connId: number): number {
    return this.#native.pendingBytes(connId);
  }

  /** Drops the connection's queued sends (no events for them); returns the bytes dropped. */
  unregister(connId: number): number {
    return this.#native.unregister(connId);
  }

  stats(): WriterStats {
    return this.#native.stats();
  }

  /**
   * Stops the writer thread and closes every connection and the writer's own fds; queued sends
   * are dropped without events. The writer does not keep Node's event loop alive by itself.
   */
  close(): void {
    this.#native.close();
  }
}

/** Decodes one native event batch: EVENT_STRIDE numbers per event, [kind, connId, token, bytes, errno]. */
export function decodeWriterEvents(flat: Float64Array): WriterEvent[] {
  const events: WriterEvent[] = [];
  for (let i = 0; i < flat.length; i += EVENT_STRIDE) {
    const kind = flat[i];
    const connId = flat[i + 1];
    const token = flat[i + 2];
    const bytes = flat[i + 3];
    if (kind === 0) {
      events.push({ kind: 'sent', connId, token, bytes });
    } else {
      const code = EVENT_KINDS[kind] as WriterEventErrorCode;
      events.push({ kind: 'failed', connId, token, bytes, code, errno: flat[i + 4] });
    }
  }
  return events;
}

/** The OS fd of a connected net.Socket (Linux). */
export function socketFd(socket: Socket): number {
  // Node keeps the fd on the libuv handle; it has no public accessor.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new Error('socket has no fd: not connected, already closed, or not a TCP/pipe socket');
  }
  return fd;
}
