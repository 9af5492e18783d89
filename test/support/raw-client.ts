// A minimal Kafka protocol client over a socket, built on @sluice/protocol, for tests that need
// exact control of versions and fields (long-poll timings, bad input, raw counters).

import { connect, type Socket } from 'node:net';
import { decodeResponse, encodeRequest, FrameReader } from '@sluice/protocol';

export class RawClient {
  private readonly socket: Socket;
  private readonly frames = new FrameReader(256 * 1024 * 1024);
  private readonly waiting = new Map<number, { apiKey: number; version: number; resolve: (body: any) => void; reject: (e: Error) => void }>();
  private nextCorrelationId = 1;
  private closedError: Error | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(chunk);
      for (let frame = this.frames.next(); frame !== null; frame = this.frames.next()) {
        const correlationId = new DataView(frame.buffer, frame.byteOffset, 4).getInt32(0);
        const waiter = this.waiting.get(correlationId);
        if (waiter === undefined) throw new Error(`unexpected correlation id ${correlationId}`);
        this.waiting.delete(correlationId);
        try {
          waiter.resolve(decodeResponse(waiter.apiKey, waiter.version, frame).body);
        } catch (err) {
          waiter.reject(err as Error);
        }
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.closedError = new Error('connection closed');
        for (const w of this.waiting.values()) w.reject(this.closedError);
        this.waiting.clear();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  /** `localAddress` picks the source address (any 127/8 address works on loopback). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, localAddress }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  request(apiKey: number, version: number, body: object, clientId = 'raw-test'): Promise<any> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const correlationId = this.nextCorrelationId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(correlationId, { apiKey, version, resolve, reject });
      this.socket.write(encodeRequest(apiKey, version, correlationId, clientId, body));
    });
  }

  /** Writes raw bytes (bad-input tests). */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}
