import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { MetricsServer, type ScrapeSource } from './metrics-server.ts';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function source(scrape: () => Promise<string>): ScrapeSource {
  return { contentType: 'text/plain; version=0.0.4; charset=utf-8', scrape };
}

describe('MetricsServer', () => {
  it('serves the exposition at its path on the port it bound', async () => {
    let scrapes = 0;
    server = new MetricsServer(
      { host: '127.0.0.1', port: 0, path: '/metrics' },
      source(async () => `sluice_up ${++scrapes}\n`),
      silentLogger,
    );
    const url = await server.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(url).not.toMatch(/:0\//);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe('sluice_up 1\n');
    expect(await (await fetch(url)).text()).toBe('sluice_up 2\n');
  });

  it('answers 404 elsewhere, 405 for other methods and 500 when a scrape fails', async () => {
    let fail = false;
    server = new MetricsServer(
      { host: '127.0.0.1', port: 0, path: '/metrics' },
      source(async () => {
        if (fail) throw new Error('boom');
        return 'ok\n';
      }),
      silentLogger,
    );
    const url = await server.listen();
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    fail = true;
    expect((await fetch(url)).status).toBe(500);
    fail = false;
    expect((await fetch(url)).status).toBe(200);
  });

  it('runs one scrape at a time and refuses a pile-up with 503', async () => {
    let running = 0;
    let maxRunning = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server = new MetricsServer(
      { host: '127.0.0.1', port: 0, path: '/metrics' },
      source(async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await gate;
        running--;
        return 'ok\n';
      }),
      silentLogger,
    );
    const url = await server.listen();
    const first = Array.from({ length: 4 }, () => fetch(url));
    await new Promise((r) => setTimeout(r, 100));
    const refused = await fetch(url);
    expect(refused.status).toBe(503);
    release();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(maxRunning).toBe(1);
  });

  it('fails to listen on an address in use, with the OS error', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as { port: number }).port;
    try {
      server = new MetricsServer(
        { host: '127.0.0.1', port, path: '/metrics' },
        source(async () => ''),
        silentLogger,
      );
      await expect(server.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      holder.close();
    }
  });
});
