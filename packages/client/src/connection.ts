// One TCP connection to one broker: framing, correlation ids, timeouts, and the API versions
// negotiated for it at open (ApiVersions first, as every Kafka client does).
//
// Concurrency contract: one owner (a KafkaClient); any number of callers may have requests in
// flight, up to `maxInFlight`; further requests wait for a slot in FIFO order. Kafka answers
// requests on a connection in the order they were sent, so a request that times out leaves the
// stream unusable: the connection is then closed and every pending request fails.

import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  ApiKey,
  type ApiVersionsResponse,
  apiKeyName,
  decodeResponse,
  type Encodable,
  encodeRequest,
  ErrorCode,
  FrameReader,
  type RequestOf,
  type ResponseOf,
  type ServedApiKey,
} from '@sluice/protocol';
import { type BrokerApiRange, clientRange, negotiate, pickVersion } from './api-versions.ts';
import { ConnectionError, RequestTimeoutError, UnsupportedApiError } from './errors.ts';
import { type SaslCredentials, SaslAuthenticationError, saslAuthenticate } from './sasl/authenticate.ts';

/** TLS to the broker (SSL / SASL_SSL): PEM text, as node:tls takes it. */
export interface ClientTlsOptions {
  /** CAs to trust; default Node's bundled roots. */
  readonly ca?: string | readonly string[];
  /** Client certificate chain and key, for brokers with ssl.client.auth=required. */
  readonly cert?: string;
  readonly key?: string;
  /** Or the client key and chain as PKCS12, with its password. */
  readonly pfx?: Uint8Array;
  readonly passphrase?: string;
  /** Name checked against the broker's certificate (and sent as SNI); default the host when it is a name. */
  readonly servername?: string;
}

export interface ConnectionOptions {
  readonly clientId: string;
  /** Sent in ApiVersions (v3+, KIP-511) so brokers can tell client software apart. Default 'sluice-client'. */
  readonly clientSoftwareName?: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Largest response frame accepted (a Fetch answer is bounded by the maxBytes we ask for). */
  readonly maxFrameBytes?: number;
  /** Requests on the wire at once; more wait. Default 32. */
  readonly maxInFlight?: number;
  /** Speak TLS (security.protocol SSL / SASL_SSL). */
  readonly tls?: ClientTlsOptions;
  /** Authenticate with SASL after ApiVersions (security.protocol SASL_PLAINTEXT / SASL_SSL). */
  readonly sasl?: SaslCredentials;
}

export interface RequestOptions {
  /** Overrides the negotiated version (tests, and callers that must stay below a version). */
  readonly version?: number;
  /** Overrides the connection's request timeout (a Fetch long-poll adds its max wait). */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly apiKey: number;
  readonly version: number;
  readonly resolve: (frame: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_CLIENT_SOFTWARE_NAME = 'sluice-client';
const CLIENT_SOFTWARE_VERSION = '0.1.0';
const DEFAULT_MAX_FRAME_BYTES = 128 * 1024 * 1024;
// Waiters for an in-flight slot. Callers bound their own concurrency (the producer keeps one
// request per broker, the fetcher one per broker), so this is far above any legitimate use.
const MAX_SLOT_WAITERS = 10_000;

function describeSocketError(err: NodeJS.ErrnoException): { message: string; hint: string } {
  switch (err.code) {
    case 'ECONNREFUSED':
      return { message: 'connection refused', hint: 'is a broker listening there? pass --bootstrap-server host:port' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { message: 'host name not found', hint: 'check the host in --bootstrap-server' };
    case 'ECONNRESET':
    case 'EPIPE':
      return { message: 'connection reset by the broker', hint: 'check the broker log' };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { message: `cannot reach the host (${err.code})`, hint: 'check the address and the network' };
    default:
      return { message: err.message, hint: '' };
  }
}

export class BrokerConnection {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  private readonly socket: Socket;
  private readonly options: ConnectionOptions;
  private readonly frames: FrameReader;
  private readonly pending = new Map<number, Pending>();
  private readonly slotWaiters: Array<() => void> = [];
  private readonly maxInFlight: number;
  private inFlight = 0;
  private nextCorrelationId = 1;
  private failure: Error | null = null;
  private negotiated = new Map<number, number>();
  private brokerRanges: readonly BrokerApiRange[] = [];

  private constructor(socket: Socket, host: string, port: number, options: ConnectionOptions) {
    this.socket = socket;
    this.host = host;
    this.port = port;
    this.address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.options = options;
    this.maxInFlight = options.maxInFlight ?? 32;
    this.frames = new FrameReader(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const { message, hint } = describeSocketError(err);
      this.fail(new ConnectionError(this.address, message, hint, { cause: err }));
    });
    socket.on('close', () => this.fail(new ConnectionError(this.address, 'connection closed by the broker', 'check that the broker is still running')));
  }

  /** Connects and negotiates API versions. */
  static async open(host: string, port: number, options: ConnectionOptions): Promise<BrokerConnection> {
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const tls = options.tls;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s =
        tls === undefined
          ? connect({ host, port })
          : tlsConnect({
              host,
              port,
              ca: tls.ca as string | string[] | undefined,
              cert: tls.cert,
              key: tls.key,
              pfx: tls.pfx === undefined ? undefined : Buffer.from(tls.pfx),
              passphrase: tls.passphrase,
              // SNI takes names only; an IP host is still checked against the certificate's IP SANs.
              servername: tls.servername ?? (isIP(host) === 0 ? host : undefined),
            });
      const timer = setTimeout(() => {
        s.destroy();
        reject(
          new ConnectionError(
            address,
            `cannot connect within ${options.connectTimeoutMs} ms`,
            'is a broker listening there? pass --bootstrap-server host:port',
          ),
        );
      }, options.connectTimeoutMs);
      s.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const { message, hint } = describeSocketError(err);
        reject(new ConnectionError(address, `cannot connect: ${message}`, hint, { cause: err }));
      });
    });
    const conn = new BrokerConnection(socket, host, port, options);
    try {
      await conn.handshake();
      if (options.sasl !== undefined) await conn.authenticate(options.sasl);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  /** The broker's advertised ranges, as its ApiVersions answer gave them. */
  get brokerApiVersions(): readonly BrokerApiRange[] {
    return this.brokerRanges;
  }

  get isOpen(): boolean {
    return this.failure === null;
  }

  /** The negotiated version for an API; throws UnsupportedApiError when there is none. */
  version(apiKey: number): number {
    const v = this.negotiated.get(apiKey);
    if (v !== undefined) return v;
    const theirs = this.brokerRanges.find((r) => r.apiKey === apiKey);
    throw new UnsupportedApiError(
      this.address,
      apiKeyName(apiKey),
      clientRange(apiKey) ?? [0, -1],
      theirs === undefined ? null : [theirs.minVersion, theirs.maxVersion],
    );
  }

  /** True when some version of the API is common to both sides. */
  supports(apiKey: number): boolean {
    return this.negotiated.has(apiKey);
  }

  /**
   * Sends a request and resolves with the decoded response body, typed by the API key (the
   * generated types of @sluice/protocol). Fields the negotiated version lacks may be left out
   * of `body`, and are skipped or written as their defaults.
   */
  async request<K extends ServedApiKey>(apiKey: K, body: Encodable<RequestOf<K>>, options: RequestOptions = {}): Promise<ResponseOf<K>> {
    const version = options.version ?? this.version(apiKey);
    const frame = await this.roundTrip(apiKey, version, body, options.timeoutMs ?? this.options.requestTimeoutMs);
    return decodeResponse(apiKey, version, frame).body;
  }

  /**
   * Sends a request the broker does not answer (Produce with acks=0) and resolves once it is
   * handed to the socket.
   */
  async send<K extends ServedApiKey>(apiKey: K, body: Encodable<RequestOf<K>>, options: RequestOptions = {}): Promise<void> {
    const version = options.version ?? this.version(apiKey);
    await this.acquireSlot();
    try {
      if (this.failure !== null) throw this.failure;
      const correlationId = this.takeCorrelationId();
      const bytes = encodeRequest(apiKey, version, correlationId, this.options.clientId, body);
      await new Promise<void>((resolve, reject) => {
        this.socket.write(bytes, (err) => (err ? reject(this.failure ?? err) : resolve()));
      });
    } finally {
      this.releaseSlot();
    }
  }

  close(): void {
    this.fail(new ConnectionError(this.address, 'connection closed'));
  }

  // --- internals ---------------------------------------------------------------------------

  private async handshake(): Promise<void> {
    const ours = clientRange(ApiKey.ApiVersions);
    if (ours === null) throw new Error('the protocol package describes no ApiVersions request');
    const hello = { clientSoftwareName: this.options.clientSoftwareName ?? DEFAULT_CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION };
    let version = ours[1];
    for (let attempt = 0; attempt < 2; attempt++) {
      const frame = await this.roundTrip(ApiKey.ApiVersions, version, hello, this.options.requestTimeoutMs);
      const body = decodeApiVersions(version, frame);
      if (body.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        // The broker answered in v0 and listed its own ApiVersions range: retry within it (KIP-511).
        const theirs = body.apiKeys.find((a) => a.apiKey === ApiKey.ApiVersions);
        const retry = theirs === undefined ? null : pickVersion(ours, [theirs.minVersion, theirs.maxVersion]);
        if (retry === null || retry === version) break;
        version = retry;
        continue;
      }
      if (body.errorCode !== 0) {
        throw new ConnectionError(this.address, `ApiVersions failed with error code ${body.errorCode}`);
      }
      this.brokerRanges = body.apiKeys.map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion }));
      this.negotiated = negotiate(this.brokerRanges);
      return;
    }
    throw new UnsupportedApiError(this.address, 'ApiVersions', ours, null);
  }

  private async authenticate(credentials: SaslCredentials): Promise<void> {
    try {
      await saslAuthenticate(
        {
          // v1: the tokens then travel in SaslAuthenticate requests, not as raw frames (KIP-152).
          handshake: (mechanism) => this.request(ApiKey.SaslHandshake, { mechanism }, { version: 1 }),
          authenticate: (authBytes) => this.request(ApiKey.SaslAuthenticate, { authBytes }),
        },
        credentials,
      );
    } catch (err) {
      if (err instanceof SaslAuthenticationError) {
        throw new ConnectionError(this.address, err.message, 'check the SASL mechanism, user name and password', { cause: err });
      }
      throw err;
    }
  }

  private takeCorrelationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = id === 0x7fffffff ? 1 : id + 1;
    return id;
  }

  private async acquireSlot(): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return;
    }
    if (this.slotWaiters.length >= MAX_SLOT_WAITERS) {
      throw new Error(`more than ${MAX_SLOT_WAITERS} requests waiting on ${this.address}: a caller does not bound its concurrency`);
    }
    await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next !== undefined)
      next(); // the slot passes straight to the next waiter
    else this.inFlight--;
  }

  private async roundTrip<K extends ServedApiKey>(apiKey: K, version: number, body: Encodable<RequestOf<K>>, timeoutMs: number): Promise<Uint8Array> {
    await this.acquireSlot();
    try {
      if (this.failure !== null) throw this.failure;
      const correlationId = this.takeCorrelationId();
      const bytes = encodeRequest(apiKey, version, correlationId, this.options.clientId, body);
      return await new Promise<Uint8Array>((resolve, reject) => {
        const timer = setTimeout(() => {
          const err = new RequestTimeoutError(this.address, `${apiKeyName(apiKey)} v${version}`, timeoutMs);
          this.pending.delete(correlationId);
          reject(err);
          this.fail(new ConnectionError(this.address, `connection closed after ${apiKeyName(apiKey)} timed out`, 'retry the command'));
        }, timeoutMs);
        this.pending.set(correlationId, { apiKey, version, resolve, reject, timer });
        this.socket.write(bytes);
      });
    } finally {
      this.releaseSlot();
    }
  }

  private onData(chunk: Buffer): void {
    try {
      this.frames.push(chunk);
      for (let frame = this.frames.next(); frame !== null; frame = this.frames.next()) {
        if (frame.length < 4) throw new ConnectionError(this.address, `response frame of ${frame.length} bytes has no correlation id`);
        const correlationId = new DataView(frame.buffer, frame.byteOffset, 4).getInt32(0);
        const p = this.pending.get(correlationId);
        if (p === undefined) {
          throw new ConnectionError(this.address, `response with unknown correlation id ${correlationId}`, 'the broker broke the protocol; check its version');
        }
        this.pending.delete(correlationId);
        clearTimeout(p.timer);
        p.resolve(frame);
      }
    } catch (err) {
      this.fail(err instanceof ConnectionError ? err : new ConnectionError(this.address, `unreadable response: ${(err as Error).message}`, '', { cause: err }));
    }
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.socket.destroy();
  }
}

/**
 * Decodes an ApiVersions answer to a request of `version`. A broker that does not serve that
 * version answers in v0 with UNSUPPORTED_VERSION, so a body that does not decode at `version` is
 * read again as v0.
 */
function decodeApiVersions(version: number, frame: Uint8Array): ApiVersionsResponse {
  try {
    return decodeResponse(ApiKey.ApiVersions, version, frame).body;
  } catch (err) {
    if (version === 0) throw err;
    return decodeResponse(ApiKey.ApiVersions, 0, frame).body;
  }
}
