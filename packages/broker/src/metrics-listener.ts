// `sluice.metrics.listener`: where the Prometheus endpoint listens, as a URL
// (`http://127.0.0.1:9404/metrics`; port 0 picks a free port; empty disables the endpoint).
// A configuration value's parser: it lives beside config.ts (which validates with it), not in
// metrics/, so that the configuration does not depend on the metrics (layering.test.ts).

export interface MetricsListener {
  /** Bind address as given (an IPv6 address without brackets); '' never occurs. */
  readonly host: string;
  readonly port: number;
  /** The path served, e.g. '/metrics'. */
  readonly path: string;
}

/** Parses the setting; null when it is empty (disabled). Throws Error with the problem. */
export function parseMetricsListener(text: string): MetricsListener | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`"${text}" is not a URL such as http://127.0.0.1:9404/metrics`);
  }
  if (url.protocol !== 'http:') throw new Error(`"${text}": only http:// is served`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new Error(`"${text}": give only http://host:port/path`);
  }
  // URL drops a default port (:80) from `port`; an explicit port is required so the address
  // operators configure is the one bound.
  if (!/^http:\/\/(\[[^\]]*\]|[^/:]*):\d+(\/|$)/i.test(trimmed)) {
    throw new Error(`"${text}": the port is required, e.g. http://127.0.0.1:9404/metrics`);
  }
  const port = url.port === '' ? 80 : Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new Error(`"${text}": the host is required`);
  return { host, port, path: url.pathname === '' ? '/' : url.pathname };
}

/** The problem with the setting, or null (for the config table's validator). */
export function metricsListenerProblem(text: string): string | null {
  try {
    parseMetricsListener(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The URL to scrape once bound (a wildcard host is reported as loopback). */
export function metricsUrl(listener: MetricsListener, boundPort: number): string {
  const wildcard = listener.host === '0.0.0.0' || listener.host === '::';
  const host = wildcard ? '127.0.0.1' : listener.host.includes(':') ? `[${listener.host}]` : listener.host;
  return `http://${host}:${boundPort}${listener.path}`;
}
