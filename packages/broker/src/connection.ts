// One client connection: frames in through Node's socket, responses out through the native
// connection writer (the only writer on the socket), strictly in request order.
//
// Requests are dispatched as soon as their frame is complete, in arrival order, so appends from
// pipelined Produce requests happen in request order; a handler may finish later (a parked
// Fetch), and responses wait at the head of the queue until every earlier one has gone out.
// At most `queued.max.requests` requests are in flight: frames past that stay in the frame
// reader and the socket is paused, until responses go out. Reading also pauses while the writer
// holds more than `sluice.connection.pending.max.bytes` for this connection.
//
// Graceful stop (`drain`): no further request is read or dispatched; the ones in flight finish
// and their responses are sent; then the connection closes.
//
// Authentication (connection-session.ts): every frame is first shown to the connection's session,
// which passes it on, answers it (SaslHandshake, SaslAuthenticate, the v0 raw tokens) or closes
// the connection; until the session has authenticated, requests are taken one at a time and the
// frame limit is the SASL one.
//
// TLS connections (SSL listeners): the native writer owns the socket in both directions — it runs
// the handshake, decrypts, and encrypts responses (file ranges included) in its own thread.
// Node accepts the socket paused and never reads it; decrypted bytes arrive as 'received' TLS
// events (`onTlsEvent`) and go into the same FrameReader. The writer stops reading after each
// batch until `resumeReading`, which is where this connection's pause/resume lands; see
// crates/sluice-log/src/writer/connection/tls.rs.
//
// Quotas (quotas/): a response whose throttleTimeMs is above 0 mutes the connection for that long
// once it is handed to the writer, as Kafka mutes a throttled client's channel (KIP-219): nothing
// more is read or dispatched until the time has passed. The request-time quota
// (request_percentage) is measured here: the handler's synchronous time, per client.
//
// Metrics: each request's queue / local / send times go to the broker probe once its response is
// completely written — at once when the writer's inline write took it all (send returned 0),
// else on the writer's 'sent' event for its token (`sending`, in send order).

import type { Socket } from 'node:net';
import {
  ApiKey,
  decodeRequest,
  decodeRequestHeader,
  encodeResponse,
  FrameReader,
  ProtocolError,
  type RequestDecodeInfo,
  type RequestHeader,
} from '@sluice/protocol';
import type { ConnectionWriter, SendPart, TlsConfig, TlsEvent } from '@sluice/native';
import type { BrokerContext } from './broker-context.ts';
import type { ConnectionSession } from './connection-session.ts';
import { type ApiHandler, CLOSE_CONNECTION, type ConnectionInfo, type HandlerResult, NO_RESPONSE, type RequestContext } from './handlers/handler.ts';
import { apiVersionsFallback, type HandlerRegistry } from './handlers/index.ts';
import type { Logger } from './logger.ts';
import { quotaUser } from './quotas/client-quota-manager.ts';

interface InFlight {
  readonly header: RequestHeader;
  /** performance.now() of the read that completed the frame (or a later one). */
  readonly receivedAt: number;
  /** When the handler started, and when its result was ready. */
  startedAt: number;
  readyAt: number;
  result: HandlerResult | undefined;
  /** A raw SASL token to send as `int32 length + token` (the v0 flow), instead of a response. */
  rawToken?: Uint8Array;
  /** Close the connection once this response is written (a failed authentication). */
  closeAfter?: boolean;
  /** The request-time quota's throttle for this request (ms), added to its response's. */
  requestThrottleMs?: number;
}

/** A response handed to the writer that is not completely written yet. */
interface Sending {
  readonly token: number;
  readonly entry: InFlight;
  readonly version: number;
}

/**
 * What a connection reports about its requests (metrics/broker-probe.ts implements it; declared
 * here so that the network layer does not depend on the metrics).
 */
export interface ConnectionProbe {
  connectionOpened(): void;
  connectionClosed(): void;
  /** A handler's result is ready (the probe counts the error codes in it). */
  responseReady(apiKey: number, body: unknown): void;
  /** The response is completely written: the request's queue, local and send times (ms). */
  requestCompleted(apiKey: number, version: number, queueMs: number, localMs: number, sendMs: number): void;
  /** A request's body ended before its frame did; it was served, the rest ignored (as Kafka does). */
  requestWithTrailingBytes(apiKey: number): void;
}

export interface ConnectionOptions {
  readonly maxRequestBytes: number;
  readonly maxInFlight: number;
  readonly maxPendingBytes: number;
  readonly idleMs: number;
  /** An SSL listener's connection: the writer runs TLS on the socket (see the header). */
  readonly tls?: ConnectionTls;
}

/** What a TLS connection needs from its listener. */
export interface ConnectionTls {
  readonly config: TlsConfig;
  readonly handshakeTimeoutMs: number;
  /** The connection's principal from the client certificate's subject; throws to refuse it. */
  principalOf(peerSubject: string | undefined): string;
  /** The handshake finished (metrics) or the connection was closed for a TLS reason. */
  established(kernel: boolean): void;
  failed(reason: 'tls_error' | 'handshake_timeout'): void;
}

/** A TLS record header's first bytes: handshake (0x16), version 3.x. */
const looksLikeTls = (chunk: Uint8Array): boolean => chunk.length >= 2 && chunk[0] === 0x16 && chunk[1] === 0x03;

export class Connection {
  readonly info: ConnectionInfo;
  /** Who the peer is (the principal every handler authorizes), and the SASL gate. */
  readonly session: ConnectionSession;
  private readonly socket: Socket;
  private readonly writer: ConnectionWriter;
  private readonly writerId: number;
  private readonly frames: FrameReader;
  private readonly inFlight: InFlight[] = [];
  private readonly broker: BrokerContext;
  private readonly handlers: HandlerRegistry;
  private readonly options: ConnectionOptions;
  private readonly log: Logger;
  private readonly onClosed: (c: Connection) => void;
  private readonly probe: ConnectionProbe;
  /** Queued sends in token order; bounded by the writer's per-connection queue bound. */
  private readonly sending: Sending[] = [];
  /** When the last socket read arrived: the frames it completed were received then. */
  private lastReadAt = 0;
  /** When the last response finished going out (performance.now()), for idle expiry. */
  private lastSentAt = 0;
  private nextToken = 1;
  private closed = false;
  private peerEnded = false;
  private paused = false;
  /** Inside processFrames (dispatch can re-enter through a synchronous response). */
  private processing = false;
  /** Filled by each decodeRequest: bytes after the body (served, as Kafka serves them). */
  private readonly decodeInfo: RequestDecodeInfo = { trailingBytes: 0 };
  /** Trailing bytes are logged once per connection (a client that sends them sends them often). */
  private trailingLogged = false;
  /** TLS only: the handshake deadline, until 'established'. */
  private handshakeTimer: NodeJS.Timeout | null = null;
  /** TLS only: the principal from the client certificate (User:ANONYMOUS without one). */
  private tlsPrincipal: string | undefined;
  /** After shutdownOutput: what the peer still sends is read and dropped. */
  private discarding = false;
  /** Plaintext listeners: the first chunk is checked for a TLS client. */
  private sawData = false;
  /** A throttled client (quotas): reading and dispatching resume when this timer fires. */
  private throttleTimer: NodeJS.Timeout | null = null;
  private throttledUntil = 0;
  /** Set by drain(): resolves once every in-flight response is written (or the socket died). */
  private drained: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    socket: Socket,
    info: ConnectionInfo,
    session: ConnectionSession,
    writer: ConnectionWriter,
    broker: BrokerContext,
    handlers: HandlerRegistry,
    options: ConnectionOptions,
    logger: Logger,
    onClosed: (c: Connection) => void,
  ) {
    this.socket = socket;
    this.info = info;
    this.session = session;
    this.writer = writer;
    this.broker = broker;
    this.handlers = handlers;
    this.options = options;
    this.log = logger.child({ connection: info.id, remote: `${info.remoteAddress}:${info.remotePort}` });
    this.onClosed = onClosed;
    this.probe = broker.metrics.broker;
    this.frames = new FrameReader(session.maxFrameBytes(options.maxRequestBytes));
    const tls = options.tls;
    this.writerId = tls === undefined ? writer.register(socket) : writer.registerTls(socket, tls.config);
    socket.setNoDelay(true);
    if (options.idleMs > 0) socket.setTimeout(options.idleMs, () => this.onIdle());
    if (tls === undefined) {
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('end', () => {
        this.peerEnded = true;
        this.closeIfDrained();
      });
    } else {
      this.handshakeTimer = setTimeout(() => {
        this.log.warn({ timeoutMs: tls.handshakeTimeoutMs }, 'TLS handshake timed out; closing connection');
        tls.failed('handshake_timeout');
        this.close();
      }, tls.handshakeTimeoutMs);
    }
    socket.on('error', (err) => {
      this.log.debug({ err: err.message }, 'socket error');
      this.close();
    });
    socket.on('close', () => this.close());
    session.start(() => this.close());
    this.probe.connectionOpened();
  }

  get id(): number {
    return this.writerId;
  }

  /** The writer finished queued output for this connection, up to the send `token`. */
  onWriterDone(token: number): void {
    const now = performance.now();
    while (this.sending.length > 0 && this.sending[0].token <= token) {
      const { entry, version } = this.sending.shift()!;
      this.completed(entry, version, now);
    }
    this.maybeResume();
    this.closeIfDrained();
    this.checkDrained();
  }

  /** TLS connections: what the writer's thread reports about reading (see the header). */
  onTlsEvent(event: TlsEvent): void {
    if (this.closed) return;
    const tls = this.options.tls!;
    switch (event.kind) {
      case 'established': {
        if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
        this.handshakeTimer = null;
        try {
          this.tlsPrincipal = tls.principalOf(event.peerSubject);
        } catch (err) {
          this.log.warn({ subject: event.peerSubject, err: (err as Error).message }, 'client certificate maps to no principal; closing connection');
          tls.failed('tls_error');
          this.close();
          return;
        }
        this.session.setTransportPrincipal(this.tlsPrincipal);
        tls.established(event.kernel);
        const fields = {
          protocol: event.protocol,
          cipherSuite: event.cipherSuite,
          recordLayer: event.kernel ? 'ktls' : 'rustls',
          principal: this.tlsPrincipal,
        };
        if (event.peerSubject !== undefined) this.log.info({ ...fields, subject: event.peerSubject }, 'TLS client authenticated');
        else this.log.debug(fields, 'TLS handshake complete');
        return;
      }
      case 'received':
        this.onData(event.data);
        // Reading pauses after each batch; go on unless this connection is paused (after
        // shutdownOutput, everything is read and dropped until the peer closes).
        if (!this.closed && (!this.paused || this.discarding)) this.writer.resumeReading(this.writerId);
        return;
      case 'closed':
        if (event.error !== undefined) {
          this.log.warn({ err: event.error }, 'TLS connection failed; closing');
          tls.failed('tls_error');
          this.close();
          return;
        }
        this.peerEnded = true;
        this.closeIfDrained();
        return;
    }
  }

  /** The principal a TLS handshake established (undefined on plaintext connections or before). */
  get principal(): string | undefined {
    return this.tlsPrincipal;
  }

  onWriterError(code: string): void {
    this.log.debug({ code }, 'write failed; closing');
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.end();
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    if (this.throttleTimer !== null) clearTimeout(this.throttleTimer);
    this.throttleTimer = null;
    this.inFlight.length = 0;
    this.sending.length = 0;
    this.probe.connectionClosed();
    this.writer.unregister(this.writerId);
    this.socket.destroy();
    this.drained?.resolve();
    this.onClosed(this);
  }

  /**
   * Graceful stop: reads nothing more (frames already buffered but not dispatched are dropped,
   * as if they had not arrived), lets the requests in flight finish and resolves once their
   * responses are all written or the connection died. The caller closes it afterwards.
   */
  drain(): Promise<void> {
    if (this.drained === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
      this.pauseReading();
      this.paused = true;
      this.checkDrained();
    }
    return this.drained.promise;
  }

  /**
   * After drain(): FIN once everything is written, then read and discard what the peer still
   * sends until it closes. Closing with unread requests in the receive buffer would send a
   * reset instead, which can cost the peer the last responses still on their way to it.
   */
  shutdownOutput(): void {
    if (this.closed) return;
    this.socket.end();
    this.discarding = true;
    this.resumeReading(); // onData drops everything once draining
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests dispatched and not yet answered (including a response still being written). */
  get inFlightCount(): number {
    return this.inFlight.length;
  }

  private checkDrained(): void {
    if (this.drained === null) return;
    if (this.closed || (this.inFlight.length === 0 && this.writer.pendingBytes(this.writerId) === 0)) {
      this.drained.resolve();
    }
  }

  /**
   * Node's socket timeout only sees reads (responses bypass Node) and fires once, so it is
   * re-armed here: a connection with requests in flight or output pending is not idle, and one
   * that answered recently gets the rest of its idle time, as Kafka's idle expiry counts sends.
   */
  private onIdle(): void {
    if (this.closed) return;
    const idleMs = this.options.idleMs;
    const quietFor = performance.now() - Math.max(this.lastReadAt, this.lastSentAt);
    if (this.inFlight.length > 0 || this.writer.pendingBytes(this.writerId) > 0) {
      this.socket.setTimeout(idleMs);
      return;
    }
    if (quietFor < idleMs) {
      this.socket.setTimeout(Math.max(1, Math.ceil(idleMs - quietFor)));
      return;
    }
    this.log.debug('idle timeout');
    this.close();
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed || this.drained !== null) return;
    if (!this.sawData && this.options.tls === undefined && looksLikeTls(chunk)) {
      this.log.warn({ listener: this.info.listenerName }, 'TLS client on a plaintext listener; closing connection');
      this.broker.metrics.broker.tlsConnectionFailed(this.info.listenerName, 'tls_on_plaintext');
      this.close();
      return;
    }
    this.sawData = true;
    this.lastReadAt = performance.now();
    this.frames.push(chunk);
    this.processFrames();
  }

  /** Dispatches buffered frames while fewer than `queued.max.requests` are in flight. */
  private processFrames(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed && this.drained === null && this.throttleTimer === null && this.inFlight.length < this.options.maxInFlight) {
        // Before authentication: one exchange at a time (its answer decides what comes next).
        if (!this.session.authenticated && this.inFlight.length > 0) break;
        const frame = this.frames.next();
        if (frame === null) break;
        if (this.session.expectsUnframedToken) this.unframedToken(frame);
        else this.dispatch(frame);
      }
    } catch (err) {
      if (err instanceof ProtocolError && err.code === 'FRAME_TOO_LARGE' && !this.session.authenticated) {
        this.session.frameTooLarge(err.message);
      } else if (err instanceof ProtocolError) {
        this.log.warn({ code: err.code, err: err.message }, 'malformed frame; closing connection');
      } else {
        // A bug on this connection's path must not take the broker (and every client) down.
        this.log.error({ err }, 'request processing failed; closing connection');
      }
      this.close();
      return;
    } finally {
      this.processing = false;
    }
    this.maybePause();
  }

  private dispatch(frame: Uint8Array): void {
    const receivedAt = this.lastReadAt;
    const header = decodeRequestHeader(frame);
    const handler = this.handlers.get(header.apiKey);
    const entry: InFlight = { header, receivedAt, startedAt: receivedAt, readyAt: receivedAt, result: undefined };
    if (handler === undefined || header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) {
      if (header.apiKey === ApiKey.ApiVersions) {
        // Special case (KIP-511): an ApiVersions request at a version we do not know gets a v0
        // answer with UNSUPPORTED_VERSION and our ranges, so the client can pick a version.
        this.inFlight.push(entry);
        entry.startedAt = entry.readyAt = performance.now();
        entry.result = apiVersionsFallback(this.handlers);
        this.flush();
        return;
      }
      this.log.warn(
        { apiKey: header.apiKey, apiVersion: header.apiVersion, clientId: header.clientId },
        handler === undefined ? 'unknown API key; closing connection' : 'unsupported API version; closing connection',
      );
      this.close();
      return;
    }
    const request = decodeRequest(header, frame, this.decodeInfo);
    if (this.decodeInfo.trailingBytes > 0) this.trailingBytes(header);
    const gate = this.session.onRequest(header, request);
    if (gate.kind === 'close') {
      this.log.info({ apiKey: header.apiKey, apiVersion: header.apiVersion, reason: gate.reason }, 'request refused by authentication; closing connection');
      this.close();
      return;
    }
    this.inFlight.push(entry);
    if (gate.kind === 'respond') {
      entry.readyAt = performance.now();
      entry.closeAfter = gate.close;
      entry.result = gate.body as HandlerResult;
      this.flush();
      if (this.session.authenticated) this.frames.setMaxFrameBytes(this.options.maxRequestBytes);
      return;
    }
    const ctx: RequestContext = {
      broker: this.broker,
      header,
      connection: this.info,
      session: this.session,
      receivedAt,
      throttle: (ms) => this.throttle(ms),
    };
    let result: HandlerResult | Promise<HandlerResult>;
    entry.startedAt = performance.now();
    try {
      result = handler.handle(ctx, request);
    } catch (err) {
      this.handlerFailed(handler, header, err);
      return;
    }
    this.recordRequestTime(entry, performance.now() - entry.startedAt);
    if (result instanceof Promise) {
      result
        .then(
          (value) => {
            entry.readyAt = performance.now();
            entry.result = value;
            this.flush();
          },
          (err) => this.handlerFailed(handler, header, err),
        )
        .catch((err: unknown) => {
          this.log.error({ err }, 'sending a response failed; closing connection');
          this.close();
        });
    } else {
      entry.readyAt = performance.now();
      entry.result = result;
      this.flush();
    }
  }

  /** The body ended before the frame: served as Kafka serves it, counted, logged once. */
  private trailingBytes(header: RequestHeader): void {
    this.probe.requestWithTrailingBytes(header.apiKey);
    if (this.trailingLogged) return;
    this.trailingLogged = true;
    this.log.debug(
      { apiKey: header.apiKey, apiVersion: header.apiVersion, clientId: header.clientId, trailingBytes: this.decodeInfo.trailingBytes },
      'request body followed by extra bytes; serving it and ignoring them, as Kafka does (logged once per connection)',
    );
  }

  /** A raw SASL token after a v0 SaslHandshake: answered with a raw token, or the connection closes. */
  private unframedToken(frame: Uint8Array): void {
    const gate = this.session.onUnframedToken(frame);
    if (gate.kind === 'close') {
      this.close();
      return;
    }
    const raw = new Uint8Array(4 + gate.token.length);
    new DataView(raw.buffer).setInt32(0, gate.token.length);
    raw.set(gate.token, 4);
    const header: RequestHeader = { apiKey: ApiKey.SaslAuthenticate, apiVersion: 0, correlationId: 0, clientId: null, headerVersion: 1, bodyOffset: 0 };
    const now = performance.now();
    this.inFlight.push({ header, receivedAt: this.lastReadAt, startedAt: now, readyAt: now, result: NO_RESPONSE, rawToken: raw });
    this.flush();
    if (this.session.authenticated) this.frames.setMaxFrameBytes(this.options.maxRequestBytes);
  }

  private handlerFailed(handler: ApiHandler, header: RequestHeader, err: unknown): void {
    this.log.error({ apiKey: handler.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId, err }, 'handler failed; closing connection');
    this.close();
  }

  /** Sends every finished response at the head of the queue, in order. */
  private flush(): void {
    while (!this.closed && this.inFlight.length > 0 && this.inFlight[0].result !== undefined) {
      const entry = this.inFlight.shift()!;
      const { apiKey, apiVersion, correlationId } = entry.header;
      if (entry.rawToken !== undefined) {
        if (!this.sendParts(entry, [entry.rawToken], apiVersion)) return;
        continue;
      }
      if (entry.result === NO_RESPONSE) {
        this.completed(entry, apiVersion, entry.readyAt);
        continue;
      }
      if (entry.result === CLOSE_CONNECTION) {
        // Read nothing more; close once the responses before this one are written.
        this.completed(entry, apiVersion, entry.readyAt);
        this.inFlight.length = 0;
        this.peerEnded = true;
        this.pauseReading();
        this.paused = true;
        break;
      }
      // ApiVersions fallback answers are always v0.
      const version = apiKey === ApiKey.ApiVersions && (entry.result as { _fallback?: boolean })._fallback ? 0 : apiVersion;
      let parts: SendPart[];
      try {
        this.probe.responseReady(apiKey, entry.result);
        const requestThrottleMs = entry.requestThrottleMs ?? 0;
        const body = entry.result as { throttleTimeMs?: number };
        if (requestThrottleMs > 0 && typeof body.throttleTimeMs === 'number') body.throttleTimeMs = Math.max(body.throttleTimeMs, requestThrottleMs);
        parts = encodeResponse(apiKey, version, correlationId, entry.result!) as SendPart[];
      } catch (err) {
        // A response the codec refuses is a handler bug: lose this connection, not the broker.
        this.log.error({ apiKey, apiVersion: version, correlationId, err }, 'encoding a response failed; closing connection');
        this.close();
        return;
      }
      if (!this.sendParts(entry, parts, version)) return;
      const throttleMs = (entry.result as { throttleTimeMs?: number }).throttleTimeMs;
      if (throttleMs !== undefined && throttleMs > 0) this.throttle(throttleMs);
      if (entry.closeAfter === true) {
        // A failed authentication: read nothing more, close once this answer is written.
        this.inFlight.length = 0;
        this.peerEnded = true;
        this.socket.pause();
        this.paused = true;
        break;
      }
    }
    this.maybeResume();
    this.closeIfDrained();
    this.checkDrained();
  }

  /** Hands one response to the writer; false when the connection closed instead. */
  private sendParts(entry: InFlight, parts: SendPart[], version: number): boolean {
    const token = this.nextToken++;
    try {
      if (this.writer.send(this.writerId, parts, token) === 0) this.completed(entry, version, performance.now());
      else this.sending.push({ token, entry, version });
      return true;
    } catch (err) {
      // The peer went away (or the socket broke) during the inline write.
      this.log.debug({ err: (err as Error).message, code: (err as { code?: string }).code }, 'send failed; closing');
      this.close();
      return false;
    }
  }

  /** The request's response is completely written at `sentAt` (or it needed none). */
  private completed(entry: InFlight, version: number, sentAt: number): void {
    this.lastSentAt = sentAt;
    this.probe.requestCompleted(entry.header.apiKey, version, entry.startedAt - entry.receivedAt, entry.readyAt - entry.startedAt, sentAt - entry.readyAt);
  }

  private maybePause(): void {
    if (this.paused || this.closed) return;
    if (this.inFlight.length >= this.options.maxInFlight || this.writer.pendingBytes(this.writerId) > this.options.maxPendingBytes) {
      this.paused = true;
      this.pauseReading();
    }
  }

  /** Plaintext: stop Node's reads. TLS: nothing to do — the writer stops after each batch and
   * is only resumed while not paused. */
  private pauseReading(): void {
    if (this.options.tls === undefined) this.socket.pause();
  }

  private resumeReading(): void {
    if (this.options.tls === undefined) this.socket.resume();
    else if (!this.closed) this.writer.resumeReading(this.writerId);
  }

  private maybeResume(): void {
    if (!this.paused || this.closed || this.drained !== null || this.processing || this.peerEnded || this.throttleTimer !== null) return;
    if (this.inFlight.length < this.options.maxInFlight && this.writer.pendingBytes(this.writerId) <= this.options.maxPendingBytes) {
      // Frames that arrived while we were at the limit go first; they may fill it again.
      this.paused = false;
      this.processFrames();
      if (!this.paused && !this.closed) this.resumeReading();
    }
  }

  /**
   * Mutes the connection for `ms` (a quota was exceeded): Kafka's channel throttling. The
   * responses already being answered still go out; new frames wait. A longer throttle wins.
   */
  throttle(ms: number): void {
    if (ms <= 0 || this.closed) return;
    const until = performance.now() + ms;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    if (!this.paused) {
      this.paused = true;
      this.pauseReading();
    }
    if (this.throttleTimer !== null) clearTimeout(this.throttleTimer);
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = null;
      this.maybeResume();
    }, ms);
  }

  /**
   * The request-time quota (request_percentage): the handler's synchronous time, as Kafka counts
   * a request's time on its handler threads; ApiVersions and SASL exchanges are not counted.
   */
  private recordRequestTime(entry: InFlight, ms: number): void {
    const quotas = this.broker.quotas.request;
    const apiKey = entry.header.apiKey;
    if (!quotas.anyQuota || apiKey === ApiKey.ApiVersions || apiKey === ApiKey.SaslHandshake || apiKey === ApiKey.SaslAuthenticate) return;
    const user = quotaUser(this.session.principal);
    const clientId = entry.header.clientId ?? '';
    // Kafka's unit: percent of one thread, i.e. ms × 100 / 1000 per second of window.
    const throttleMs = quotas.recordAndGetThrottleTimeMs(user, clientId, ms / 10);
    if (throttleMs > 0) {
      entry.requestThrottleMs = throttleMs;
      quotas.throttled(user, clientId, throttleMs);
    }
  }

  /** After the peer half-closed, close once every response has gone out. */
  private closeIfDrained(): void {
    if (this.peerEnded && !this.closed && this.inFlight.length === 0 && this.writer.pendingBytes(this.writerId) === 0) {
      this.close();
    }
  }
}
