// Idle client connections for the startup scenario's memory cell: N TCP connections to a broker,
// each having sent one ApiVersions request and read its answer (so the broker has set up
// whatever it keeps per connection: a connection object, buffers, a writer registration), then
// left open and silent.

import { connect, type Socket } from 'node:net';

/** ApiVersions v0 (a header v1 with client id, no body): understood by every Kafka broker. */
function apiVersionsRequest(correlationId: number): Buffer {
  const clientId = Buffer.from('bench-idle');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2);
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

function openOne(host: string, port: number, correlationId: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`no ApiVersions answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => socket.write(apiVersionsRequest(correlationId)));
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        socket.on('error', () => {}); // a reset while idle is seen at close, not thrown
        resolve(socket);
      }
    };
    socket.on('data', onData);
  });
}

export interface IdleConnections {
  readonly count: number;
  close(): void;
}

/** Opens `count` connections to `bootstrap` (host:port), `parallel` at a time. */
export async function openIdleConnections(bootstrap: string, count: number, parallel = 50, timeoutMs = 30_000): Promise<IdleConnections> {
  const sep = bootstrap.lastIndexOf(':');
  const host = bootstrap.slice(0, sep);
  const port = Number(bootstrap.slice(sep + 1));
  const sockets: Socket[] = [];
  const close = () => {
    for (const s of sockets) s.destroy();
  };
  try {
    for (let i = 0; i < count; i += parallel) {
      const batch = Array.from({ length: Math.min(parallel, count - i) }, (_, j) => openOne(host, port, i + j + 1, timeoutMs));
      const settled = await Promise.allSettled(batch);
      for (const r of settled) if (r.status === 'fulfilled') sockets.push(r.value);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
  } catch (err) {
    close();
    throw err;
  }
  return { count: sockets.length, close };
}
