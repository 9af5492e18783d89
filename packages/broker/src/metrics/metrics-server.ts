// The Prometheus scrape endpoint: one HTTP listener serving GET <path> with the text exposition
// format. Anything else gets 404/405. Scrapes are answered one at a time (a second one waits for
// the first) and at most MAX_WAITING_SCRAPES wait (more get 503), so scrapers cannot pile up
// scrape work on the event loop; connections are bounded too.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.ts';
import { type MetricsListener, metricsUrl } from '../metrics-listener.ts';

const MAX_WAITING_SCRAPES = 4;
const MAX_CONNECTIONS = 64;

export interface ScrapeSource {
  readonly contentType: string;
  scrape(): Promise<string>;
}

export class MetricsServer {
  private readonly server: Server;
  private readonly listener: MetricsListener;
  private readonly source: ScrapeSource;
  private readonly log: Logger;
  private scraping: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private boundUrl: string | null = null;

  constructor(listener: MetricsListener, source: ScrapeSource, logger: Logger) {
    this.listener = listener;
    this.source = source;
    this.log = logger;
    this.server = createServer((req, res) => this.handle(req, res));
    // Scrapers hold keep-alive connections; they must not keep a stopping broker alive.
    this.server.keepAliveTimeout = 5_000;
    this.server.requestTimeout = 30_000;
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  /** The URL to scrape, once listening. */
  get url(): string {
    if (this.boundUrl === null) throw new Error('metrics server is not listening');
    return this.boundUrl;
  }

  /** Binds; rejects with the OS error (EADDRINUSE, EACCES ...) when the address is unusable. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.listener.host, port: this.listener.port }, () => {
        this.server.off('error', reject);
        // The broker's Kafka listeners keep the process alive; this one never does on its own.
        this.server.unref();
        this.server.on('error', (err) => this.log.error({ err }, 'metrics listener error'));
        const address = this.server.address();
        const port = typeof address === 'object' && address !== null ? address.port : this.listener.port;
        this.boundUrl = metricsUrl(this.listener, port);
        resolve(this.boundUrl);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.listener.path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found; metrics are at ${this.listener.path}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (this.waiting >= MAX_WAITING_SCRAPES) {
      res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain; charset=utf-8' }).end('too many scrapes at once\n');
      return;
    }
    this.waiting++;
    const run = this.scraping.then(() => this.source.scrape());
    this.scraping = run.catch(() => undefined);
    run
      .finally(() => this.waiting--)
      .then(
        (text) => {
          res.writeHead(200, { 'content-type': this.source.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          this.log.error({ err }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('scrape failed; see the broker log\n');
        },
      );
  }
}
