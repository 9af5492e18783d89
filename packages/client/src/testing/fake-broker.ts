// A scripted Kafka broker on 127.0.0.1 for the client's unit tests: it decodes requests with the
// protocol package and answers with whatever the test's handler returns, so tests can check what
// the client sent and how it reacts to any answer (errors, odd versions, silence).

import { createServer, type Server, type Socket } from 'node:net';
import { ApiKey, decodeRequest, decodeRequestHeader, encodeResponse, FrameReader, type RequestHeader, requestSpecs } from '@sluice/protocol';

export interface ReceivedRequest {
  readonly header: RequestHeader;
  readonly body: any;
}

/** An answer encoded at another version than the request's (how brokers refuse ApiVersions). */
export class AsVersion {
  readonly version: number;
  readonly body: object;
  constructor(version: number, body: object) {
    this.version = version;
    this.body = body;
  }
}

/** Returns the response body, or null to send nothing (acks=0, or a test of timeouts). */
export type Handler = (req: ReceivedRequest) => object | null | Promise<object | null>;

export interface FakeBrokerOptions {
  /** The ApiVersions ranges to advertise; default: everything the protocol package serves. */
  readonly apiVersions?: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>;
  readonly handlers?: Record<number, Handler>;
}

export class FakeBroker {
  readonly received: ReceivedRequest[] = [];
  handlers: Record<number, Handler>;
  apiVersions: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(options: FakeBrokerOptions = {}) {
    this.apiVersions = options.apiVersions ?? [...requestSpecs.values()].map((s) => ({ apiKey: s.apiKey, minVersion: s.validVersions[0], maxVersion: s.validVersions[1] }));
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
  requestsOf(apiKey: number): ReceivedRequest[] {
    return this.received.filter((r) => r.header.apiKey === apiKey);
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
        const body = decodeRequest(header, new Uint8Array(frame));
        const req = { header, body };
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

  private async answer(req: ReceivedRequest): Promise<object | null> {
    const handler = this.handlers[req.header.apiKey];
    if (handler !== undefined) return handler(req);
    if (req.header.apiKey === ApiKey.ApiVersions) return { errorCode: 0, apiKeys: this.apiVersions, throttleTimeMs: 0 };
    throw new Error(`fake broker has no handler for API ${req.header.apiKey}`);
  }
}
