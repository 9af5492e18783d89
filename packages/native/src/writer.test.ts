// The native connection writer from Node: a real TCP server and client on 127.0.0.1, plans of
// bytes and file slices in every mode, a paused reader (EAGAIN continuations), a peer that
// disconnects mid-send, and the fd count under /proc/self/fd.
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binding } from './binding.ts';
import { ConnectionWriter, type WriterEvent, type WriterMode } from './writer.ts';

const MODES: WriterMode[] = ['sendfile', 'splice', 'copy'];
const SEGMENT_BYTES = 24 * 1024 * 1024;

let dir: string;
let segmentPath: string;
let segment: Buffer;

/** Position-dependent bytes, so loss, duplication or reordering shows. */
function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-writer-'));
  segmentPath = join(dir, '00000000000000000000.log');
  segment = pattern(SEGMENT_BYTES, 7);
  writeFileSync(segmentPath, segment);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A connected pair over loopback TCP: `server` is the broker's side, `client` the reader. */
async function tcpPair(): Promise<{ server: Socket; client: Socket; listener: Server }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  // The broker side sees the peer's reset on its own reads too; that is expected here.
  server.on('error', () => {});
  client.on('error', () => {});
  return { server, client, listener };
}

async function closeAll(pair: { server: Socket; client: Socket; listener: Server }): Promise<void> {
  for (const socket of [pair.server, pair.client]) {
    if (!socket.destroyed) {
      const closed = once(socket, 'close');
      socket.destroy();
      await closed;
    }
  }
  await new Promise<void>((resolve) => pair.listener.close(() => resolve()));
}

/** Collects everything the client receives; `until(n)` resolves once n bytes have arrived. */
function collect(client: Socket): { until(bytes: number): Promise<Buffer>; received(): number } {
  const chunks: Buffer[] = [];
  let length = 0;
  let waiter: { bytes: number; resolve: (data: Buffer) => void } | undefined;
  const check = () => {
    if (waiter !== undefined && length >= waiter.bytes) {
      const { resolve } = waiter;
      waiter = undefined;
      resolve(Buffer.concat(chunks));
    }
  };
  client.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
    check();
  });
  return {
    until(bytes: number) {
      return new Promise((resolve) => {
        waiter = { bytes, resolve };
        check();
      });
    },
    received: () => length,
  };
}

/** A writer whose events are kept in order; `next()` resolves with the next event. */
function recordingWriter(mode: WriterMode): { writer: ConnectionWriter; next(): Promise<WriterEvent>; seen: WriterEvent[] } {
  const seen: WriterEvent[] = [];
  const waiting: Array<(event: WriterEvent) => void> = [];
  let delivered = 0;
  const writer = new ConnectionWriter({
    mode,
    onEvents(events) {
      seen.push(...events);
      while (waiting.length > 0 && delivered < seen.length) waiting.shift()!(seen[delivered++]);
    },
  });
  return {
    writer,
    seen,
    next: () =>
      new Promise((resolve) => {
        if (delivered < seen.length) resolve(seen[delivered++]);
        else waiting.push(resolve);
      }),
  };
}

/**
 * Open fds of the kinds the writer creates: sockets (its dups), pipes (splice) and anonymous
 * inodes (epoll, eventfd). Segment files are left out: a file slice keeps its file open until
 * the JS object is garbage collected, which is not the writer's doing and not deterministic.
 */
function writerKindFdCount(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (/^(socket|pipe|anon_inode):/.test(target)) count++;
    } catch {
      // closed between readdir and readlink (the readdir fd itself)
    }
  }
  return count;
}

async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(MODES)('ConnectionWriter in %s mode', (mode) => {
  it('sends an interleaved plan (bytes, file slice, bytes) byte-identical over TCP', async () => {
    const pair = await tcpPair();
    const { writer, next } = recordingWriter(mode);
    try {
      const head = pattern(123, 1);
      const tail = pattern(4_567, 2);
      const position = 4_099;
      const length = 1_000_001;
      const slice = binding.fileSliceForTest(segmentPath, position, length);
      expect(slice.byteLength).toBe(length);
      const expected = Buffer.concat([head, segment.subarray(position, position + length), tail]);
      const output = collect(pair.client);
      const conn = writer.register(pair.server);
      const pending = writer.send(conn, [head, slice, tail], 1);
      if (pending > 0) {
        expect(await next()).toEqual({ kind: 'sent', connId: conn, token: 1, bytes: expected.length });
      }
      const received = await output.until(expected.length);
      expect(received.length).toBe(expected.length);
      expect(received.equals(expected)).toBe(true);
      const stats = writer.stats();
      const fileBytes = { sendfile: stats.sendfileBytes, splice: stats.spliceBytes, copy: stats.copyBytes }[mode];
      expect(fileBytes).toBe(length);
      expect(stats.plainBytes).toBe(head.length + tail.length);
      expect(stats.queuedBytes).toBe(0);
      writer.unregister(conn);
    } finally {
      writer.close();
      await closeAll(pair);
    }
  });

  it('finishes on the writer thread when a paused reader makes the socket return EAGAIN', async () => {
    const pair = await tcpPair();
    const { writer, next, seen } = recordingWriter(mode);
    try {
      pair.client.pause();
      const output = collect(pair.client);
      pair.client.pause(); // attaching 'data' resumes a socket; keep it paused
      const head = pattern(64, 3);
      const tail = pattern(64, 4);
      const expected = Buffer.concat([head, segment, tail]);
      const conn = writer.register(pair.server);
      const pending = writer.send(conn, [head, binding.fileSliceForTest(segmentPath, 0, SEGMENT_BYTES), tail], 2);
      expect(pending).toBeGreaterThan(0);
      // Loopback buffers hold a few MiB; the rest must wait for the reader.
      expect(await eventually(() => writer.stats().wouldBlock > 0)).toBe(true);
      await sleep(50);
      expect(seen).toEqual([]);
      expect(writer.pendingBytes(conn)).toBeGreaterThan(0);

      pair.client.resume();
      expect(await next()).toEqual({ kind: 'sent', connId: conn, token: 2, bytes: expected.length });
      const received = await output.until(expected.length);
      expect(received.equals(expected)).toBe(true);
      const stats = writer.stats();
      expect(stats.continuations).toBeGreaterThan(0);
      expect(stats.sendsQueued).toBe(1);
      expect(writer.pendingBytes(conn)).toBe(0);
      writer.unregister(conn);
    } finally {
      writer.close();
      await closeAll(pair);
    }
  });

  it('reports a peer that disconnects mid-send as an error event, without crashing or leaking fds', async () => {
    const baseline = writerKindFdCount();
    const { writer, next } = recordingWriter(mode);
    try {
      const pair = await tcpPair();
      pair.client.pause();
      const conn = writer.register(pair.server);
      const pending = writer.send(conn, [pattern(16, 5), binding.fileSliceForTest(segmentPath, 0, SEGMENT_BYTES)], 3);
      expect(pending).toBeGreaterThan(0);
      expect(await eventually(() => writer.stats().wouldBlock > 0)).toBe(true);
      // Close with unread data: the kernel answers the next bytes with a reset.
      pair.client.resetAndDestroy();
      const event = await next();
      expect(event).toMatchObject({ kind: 'failed', connId: conn, token: 3, code: 'PEER_RESET' });
      if (event.kind === 'failed') expect([32, 104]).toContain(event.errno); // EPIPE, ECONNRESET
      expect(() => writer.send(conn, [pattern(1, 6)], 4)).toThrow(expect.objectContaining({ code: 'CONNECTION_CLOSED' }));
      writer.unregister(conn);
      expect(() => writer.pendingBytes(conn)).toThrow(expect.objectContaining({ code: 'UNKNOWN_CONNECTION' }));
      await closeAll(pair);
      expect(writer.stats()).toMatchObject({ errors: 1, connections: 0, queuedBytes: 0 });
    } finally {
      writer.close();
    }
    // Sockets, the writer's dup, its pipe (splice), its epoll fd and eventfd: all gone.
    expect(await eventually(() => writerKindFdCount() === baseline)).toBe(true);
  });
});

describe('ConnectionWriter arguments', () => {
  it('rejects bad modes, fds and ids with stable codes', async () => {
    expect(() => new ConnectionWriter({ mode: 'zerocopy' as WriterMode, onEvents() {} })).toThrow(expect.objectContaining({ code: 'UNKNOWN_WRITER_MODE' }));
    const writer = new ConnectionWriter({ mode: 'sendfile', onEvents() {} });
    try {
      expect(() => writer.register(0x7fff_fff0)).toThrow(expect.objectContaining({ code: 'TRANSFER_IO' }));
      expect(() => writer.send(12345, [], 1)).toThrow(expect.objectContaining({ code: 'UNKNOWN_CONNECTION' }));
      expect(() => writer.send(-1, [], 1)).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
      expect(() => writer.send(1.5, [], 1)).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
    } finally {
      writer.close();
    }
    expect(() => writer.register(0)).toThrow(expect.objectContaining({ code: 'WRITER_CLOSED' }));
  });

  it('runs the threads asked for, takes a send buffer size, and refuses bad values', async () => {
    const threadNames = () =>
      readdirSync('/proc/self/task').filter((tid) => {
        try {
          return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('sluice-writer');
        } catch {
          return false; // the thread ended between readdir and read
        }
      }).length;
    const before = threadNames();
    const pair = await tcpPair();
    const { writer, next } = (() => {
      const events: WriterEvent[] = [];
      let wake: (() => void) | undefined;
      const w = new ConnectionWriter({
        mode: 'sendfile',
        threads: 3,
        sendBufferBytes: 65_536,
        onEvents(batch) {
          events.push(...batch);
          wake?.();
        },
      });
      const nextEvent = async (): Promise<WriterEvent> => {
        while (events.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        return events.shift()!;
      };
      return { writer: w, next: nextEvent };
    })();
    try {
      // A thread names itself once it runs: wait for the three names (or fail with the count seen).
      for (let i = 0; i < 200 && threadNames() - before < 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(threadNames() - before).toBe(3);
      const output = collect(pair.client);
      const conn = writer.register(pair.server);
      const slice = binding.fileSliceForTest(segmentPath, 0, 4 * 1024 * 1024);
      // 4 MiB is past the inline budget and the 128 KiB socket buffer: a writer thread finishes it.
      // (That SO_SNDBUF is set is checked from Rust, crates/sluice-log/tests/writer_threads.rs.)
      const pending = writer.send(conn, [slice], 9);
      expect(pending).toBeGreaterThan(0);
      expect(await next()).toEqual({ kind: 'sent', connId: conn, token: 9, bytes: 4 * 1024 * 1024 });
      expect((await output.until(4 * 1024 * 1024)).equals(segment.subarray(0, 4 * 1024 * 1024))).toBe(true);
      writer.unregister(conn);
    } finally {
      writer.close();
      await closeAll(pair);
    }
    expect(await eventually(() => threadNames() === before)).toBe(true);
    expect(() => new ConnectionWriter({ mode: 'sendfile', threads: 0, onEvents() {} })).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
    expect(() => new ConnectionWriter({ mode: 'sendfile', sendBufferBytes: 0, onEvents() {} })).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
  });
});
