// A scripted Kafka broker on 127.0.0.1 for the client's unit tests: it decodes requests with the
// protocol package and answers with whatever the test's handler returns, so tests can check what
// the client sent and how it reacts to any answer (errors, odd versions, silence).

import { createServer, type Server, type Socket } from 'node:net';
import {
  type AnyResponse,
  ApiKey,
  decodeRequest,
  decodeRequestHeader,
  type Encodable,
  encodeResponse,
  FrameReader,
  type RequestHeader,
  type RequestTypes,
  type ResponseTypes,
  requestSpecs,
  type ServedApiKey,
} from '@sluice/protocol';

/** A request as the fake broker decoded it; `body` has the generated type of API key K. */
export interface ReceivedRequest<K extends ServedApiKey = ServedApiKey> {
  readonly header: RequestHeader;
  readonly body: RequestTypes[K];
}

/** An answer encoded at another version than the request's (how brokers refuse ApiVersions). */
export class AsVersion {
  readonly version: number;
  readonly body: Encodable<AnyResponse>;
  constructor(version: number, body: Encodable<AnyResponse>) {
    this.version = version;
    this.body = body;
  }
}

/** What a handler of API key K returns: its response body, one at another version, or null to send nothing. */
export type Answer<K extends ServedApiKey = ServedApiKey> = Encodable<ResponseTypes[K]> | AsVersion | null;

/**
 * Answers the requests of API key K (null: send nothing, for acks=0 or a test of timeouts).
 * Declared through a method so that a handler of one key is also a handler of any key (method
 * parameters are bivariant): the broker calls each only with requests of its own key.
 */
export type Handler<K extends ServedApiKey = ServedApiKey> = {
  answer(req: ReceivedRequest<K>): Answer<K> | Promise<Answer<K>>;
}['answer'];

/** Handlers by API key; each gets its key's request type and answers its response type. */
export type Handlers = { [K in ServedApiKey]?: Handler<K> };

export interface FakeBrokerOptions {
  /** The ApiVersions ranges to advertise; default: everything the protocol package serves. */
  readonly apiVersions?: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>;
  readonly handlers?: Handlers;
}

export class FakeBroker {
  readonly received: ReceivedRequest[] = [];
  handlers: Handlers;
  apiVersions: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(options: FakeBrokerOptions = {}) {
    this.apiVersions =
      options.apiVersions ?? [...requestSpecs.values()].map((s) => ({ apiKey: s.apiKey, minVersion: s.validVersions[0], maxVersion: s.validVersions[1] }));
    this.handlers = { ...options.handlers };
    this.server = createServer((socket) => this.serve(socket));
  }

  static async start(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
    const b = new FakeBroker(options);
    await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', resolve));
    b.port = (b.server.address() as { port: number }).port;
    return b;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Requests of one API, in arrival order. */
  requestsOf<K extends ServedApiKey>(apiKey: K): ReceivedRequest<K>[] {
    return this.received.filter((r): r is ReceivedRequest<K> => r.header.apiKey === apiKey);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const frames = new FrameReader();
    // Answers go out in request order, as a real broker's do, even when a handler is async.
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      frames.push(chunk);
      for (let frame = frames.next(); frame !== null; frame = frames.next()) {
        const header = decodeRequestHeader(frame);
        const req: ReceivedRequest = { header, body: decodeRequest(header, new Uint8Array(frame)) };
        this.received.push(req);
        chain = chain
          .then(async () => {
            const answer = await this.answer(req);
            if (answer === null) return;
            const [version, body] = answer instanceof AsVersion ? [answer.version, answer.body] : [header.apiVersion, answer];
            for (const part of encodeResponse(header.apiKey, version, header.correlationId, body)) {
              if (part instanceof Uint8Array) socket.write(part);
            }
          })
          .catch(() => {
            socket.destroy();
          });
      }
    });
  }

  private async answer(req: ReceivedRequest): Promise<Answer> {
    const handlers: Partial<Record<number, Handler>> = this.handlers;
    const handler = handlers[req.header.apiKey];
    if (handler !== undefined) return handler(req);
    if (req.header.apiKey === ApiKey.ApiVersions) return { errorCode: 0, apiKeys: this.apiVersions, throttleTimeMs: 0 };
    throw new Error(`fake broker has no handler for API ${req.header.apiKey}`);
  }
}
