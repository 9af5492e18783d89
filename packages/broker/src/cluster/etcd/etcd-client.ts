// An etcd v3 client over etcd's JSON gateway (grpc-gateway): `POST <endpoint>/v3/kv/range`,
// `/v3/kv/put`, `/v3/kv/deleterange`, `/v3/kv/txn`, `/v3/lease/grant`, `/v3/lease/keepalive`,
// `/v3/lease/revoke` and the streaming `/v3/watch`. Keys and values travel base64, int64s as
// decimal strings, and fields at their zero value are left out (a failed txn has no
// `succeeded`, a gone lease no `TTL`). The gateway is part of etcd's documented API since 3.3
// (served under /v3/ from 3.4), so this needs nothing but Node's fetch: no gRPC, no native code.
//
// Endpoints: requests go to the first endpoint that answers; a connection failure moves to the
// next one. A watch is one long HTTP response of newline-separated JSON messages; when it breaks
// (etcd restarted, endpoint lost) it reconnects from the revision after the last event it
// delivered, so its caller sees every event once and in order.

import {
  type Compare,
  type KeyValue,
  type KvStore,
  KvStoreError,
  type Op,
  type RangeResult,
  type TxnResult,
  type Watch,
  type WatchEvent,
  type WatchHandlers,
} from './kv-store.ts';

/** How long one unary request may take before the next endpoint is tried. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Pause before a broken watch reconnects. */
const WATCH_RETRY_MS = 250;

interface RawKeyValue {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

interface RawHeader {
  revision?: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined): string => (text === undefined ? '' : Buffer.from(text, 'base64').toString('utf8'));

/** etcd's prefix range end: the prefix with its last byte incremented. */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]++;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64'); // every key
}

function toKeyValue(raw: RawKeyValue): KeyValue {
  return {
    key: unb64(raw.key),
    value: unb64(raw.value),
    createRevision: Number(raw.create_revision ?? 0),
    modRevision: Number(raw.mod_revision ?? 0),
    version: Number(raw.version ?? 0),
    lease: raw.lease ?? '0',
  };
}

const COMPARE_RESULT = { equal: 'EQUAL', notEqual: 'NOT_EQUAL', greater: 'GREATER', less: 'LESS' } as const;

function toRawCompare(c: Compare): Record<string, string> {
  const base = { key: b64(c.key), result: COMPARE_RESULT[c.result] };
  switch (c.target) {
    case 'version':
      return { ...base, target: 'VERSION', version: String(c.value) };
    case 'createRevision':
      return { ...base, target: 'CREATE', create_revision: String(c.value) };
    case 'modRevision':
      return { ...base, target: 'MOD', mod_revision: String(c.value) };
    case 'value':
      return { ...base, target: 'VALUE', value: b64(c.value) };
  }
}

function toRawOp(op: Op): Record<string, unknown> {
  if ('put' in op) {
    const put: Record<string, string> = { key: b64(op.put.key), value: b64(op.put.value) };
    if (op.put.lease !== undefined && op.put.lease !== '0') put.lease = op.put.lease;
    return { request_put: put };
  }
  return { request_delete_range: { key: b64(op.delete.key) } };
}

export class EtcdClient implements KvStore {
  readonly endpoints: readonly string[];
  /** The endpoint that answered last; tried first. */
  private current = 0;
  private readonly watches = new Set<AbortController>();
  private closed = false;

  /** Told of every unary request's latency (metrics), by operation (`range`, `txn`, `keepalive`, …). */
  private readonly onRequest: ((operation: string, seconds: number) => void) | null;

  constructor(endpoints: readonly string[], onRequest?: (operation: string, seconds: number) => void) {
    if (endpoints.length === 0) throw new Error('BUG: an etcd client needs at least one endpoint');
    this.endpoints = endpoints.map((e) => e.replace(/\/+$/, ''));
    this.onRequest = onRequest ?? null;
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.call<{ kvs?: RawKeyValue[] }>('/v3/kv/range', { key: b64(key) });
    return res.kvs?.[0] === undefined ? null : toKeyValue(res.kvs[0]);
  }

  async range(prefix: string): Promise<RangeResult> {
    const res = await this.call<{ header?: RawHeader; kvs?: RawKeyValue[] }>('/v3/kv/range', { key: b64(prefix), range_end: prefixRangeEnd(prefix) });
    return { kvs: (res.kvs ?? []).map(toKeyValue), revision: Number(res.header?.revision ?? 0) };
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    const body: Record<string, string> = { key: b64(key), value: b64(value) };
    if (lease !== undefined && lease !== '0') body.lease = lease;
    const res = await this.call<{ header?: RawHeader }>('/v3/kv/put', body);
    return Number(res.header?.revision ?? 0);
  }

  async delete(key: string): Promise<number> {
    const res = await this.call<{ header?: RawHeader }>('/v3/kv/deleterange', { key: b64(key) });
    return Number(res.header?.revision ?? 0);
  }

  async txn(compares: readonly Compare[], success: readonly Op[], failure: readonly Op[] = []): Promise<TxnResult> {
    const res = await this.call<{ header?: RawHeader; succeeded?: boolean }>('/v3/kv/txn', {
      compare: compares.map(toRawCompare),
      success: success.map(toRawOp),
      failure: failure.map(toRawOp),
    });
    return { succeeded: res.succeeded === true, revision: Number(res.header?.revision ?? 0) };
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    const res = await this.call<{ ID?: string; error?: string }>('/v3/lease/grant', { TTL: String(ttlSeconds) });
    if (res.ID === undefined) throw new KvStoreError(`etcd granted no lease: ${res.error ?? 'no ID in the answer'}`);
    return res.ID;
  }

  async keepAlive(lease: string): Promise<number> {
    // A stream endpoint: one request in, one message out, then the gateway ends the response.
    const res = await this.call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: lease });
    return Number(res.result?.TTL ?? 0);
  }

  async revokeLease(lease: string): Promise<void> {
    try {
      await this.call('/v3/lease/revoke', { ID: lease });
    } catch (err) {
      // Already expired or revoked: what the caller wanted.
      if (err instanceof KvStoreError && /lease not found/.test(err.message)) return;
      throw err;
    }
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    const abort = new AbortController();
    this.watches.add(abort);
    let next = fromRevision;
    let stopped = false;
    const stop = () => {
      stopped = true;
      this.watches.delete(abort);
      abort.abort();
    };
    const run = async () => {
      while (!stopped && !this.closed) {
        try {
          const failure = await this.streamWatch(prefix, next, abort.signal, (events, revision) => {
            if (stopped) return;
            next = events[events.length - 1].kv.modRevision + 1;
            handlers.onEvents(events, revision);
          });
          if (failure !== null) {
            if (!stopped) handlers.onError(failure);
            stop();
            return;
          }
        } catch {
          // The stream broke (etcd restarted or the endpoint is gone): reconnect from `next`.
        }
        if (!stopped) await new Promise((r) => setTimeout(r, WATCH_RETRY_MS));
      }
    };
    void run();
    return { close: stop };
  }

  close(): void {
    this.closed = true;
    for (const abort of this.watches) abort.abort();
    this.watches.clear();
  }

  /**
   * One watch stream until it ends. Returns an error the watch cannot recover from (its
   * revision was compacted, etcd canceled it), or null when the stream just ended.
   */
  private async streamWatch(
    prefix: string,
    from: number,
    signal: AbortSignal,
    deliver: (events: WatchEvent[], revision: number) => void,
  ): Promise<Error | null> {
    const endpoint = this.endpoints[this.current];
    let response: Response;
    try {
      response = await fetch(`${endpoint}/v3/watch`, {
        method: 'POST',
        body: JSON.stringify({ create_request: { key: b64(prefix), range_end: prefixRangeEnd(prefix), start_revision: String(from) } }),
        signal,
      });
    } catch (err) {
      this.current = (this.current + 1) % this.endpoints.length;
      throw err;
    }
    if (!response.ok || response.body === null) throw new KvStoreError(`etcd ${endpoint} refused a watch: HTTP ${response.status}`);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        const message = JSON.parse(line) as {
          result?: {
            header?: RawHeader;
            events?: Array<{ type?: string; kv?: RawKeyValue }>;
            canceled?: boolean;
            compact_revision?: string;
            cancel_reason?: string;
          };
          error?: { message?: string };
        };
        if (message.error !== undefined) throw new KvStoreError(`etcd watch failed: ${message.error.message ?? 'unknown'}`);
        const result = message.result;
        if (result === undefined) continue;
        if (result.canceled === true) {
          const compacted = Number(result.compact_revision ?? 0);
          return new KvStoreError(
            compacted > 0
              ? `etcd watch from revision ${from}: compacted up to ${compacted}`
              : `etcd canceled the watch: ${result.cancel_reason ?? 'no reason'}`,
          );
        }
        const events = (result.events ?? []).map((e): WatchEvent => ({ type: e.type === 'DELETE' ? 'delete' : 'put', kv: toKeyValue(e.kv ?? {}) }));
        if (events.length > 0) deliver(events, Number(result.header?.revision ?? events[events.length - 1].kv.modRevision));
      }
    }
    return null;
  }

  /** One unary call, trying each endpoint once starting with the last one that answered. */
  private async call<T>(path: string, body: unknown): Promise<T> {
    if (this.closed) throw new KvStoreError('the etcd client is closed');
    const started = performance.now();
    try {
      return await this.callOnce<T>(path, body);
    } finally {
      this.onRequest?.(path.slice(path.lastIndexOf('/') + 1), (performance.now() - started) / 1000);
    }
  }

  private async callOnce<T>(path: string, body: unknown): Promise<T> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < this.endpoints.length; attempt++) {
      const at = (this.current + attempt) % this.endpoints.length;
      const endpoint = this.endpoints[at];
      let response: Response;
      try {
        response = await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        failures.push(`${endpoint} (${cause})`);
        continue;
      }
      this.current = at;
      const text = await response.text();
      let parsed: T & { error?: string; message?: string };
      try {
        parsed = JSON.parse(text) as T & { error?: string; message?: string };
      } catch {
        throw new KvStoreError(`etcd ${endpoint}${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
      }
      if (!response.ok) throw new KvStoreError(`etcd ${endpoint}${path}: ${parsed.message ?? parsed.error ?? `HTTP ${response.status}`}`);
      return parsed;
    }
    throw new KvStoreError(`etcd unreachable: ${failures.join(', ')}`);
  }
}
