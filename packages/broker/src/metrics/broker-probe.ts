// The broker probe: requests, their latency and errors, connections, output waiting in the
// writer, and per-topic traffic. Called from the request path (connection.ts, produce, fetch),
// so every method is a few additions on children resolved once per API key or topic.
//
// Latency phases of one request (Kafka's RequestQueueTimeMs / LocalTimeMs / ResponseSendTimeMs):
//   queue: the frame was complete (socket data arrived) -> its handler starts; decoding and the
//          frames ahead of it in the same read.
//   local: the handler starts -> its response body is ready; includes a parked Fetch's wait and
//          an acks fsync (flush-on-ack).
//   send:  the body is ready -> its last byte went to the socket: waiting behind earlier responses
//          on the connection, encoding, and the writer's queue (its 'sent' event, or at once
//          when the inline write took everything).

import { apiKeyName, errorByCode } from '@sluice/protocol';
import type { WriterStats } from '@sluice/native';
import { Gauge, type Registry } from 'prom-client';
import { type CounterChild, CounterFamily, type HistogramChild, HistogramFamily } from './families.ts';
import { type ErrorScan, errorScanFor } from './response-errors.ts';

/** Request latency buckets, seconds: 50 µs (a Metadata answer) to 30 s (a long-poll Fetch). */
export const REQUEST_SECONDS_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

interface ApiSeries {
  readonly name: string;
  readonly byVersion: Array<CounterChild | undefined>;
  readonly queue: HistogramChild;
  readonly local: HistogramChild;
  readonly send: HistogramChild;
  readonly errors: Map<number, CounterChild>;
  readonly scan: ErrorScan;
  /** Counts one error code of this API (made once per API, not per response). */
  readonly countError: (code: number) => void;
}

interface TopicSeries {
  readonly bytesIn: CounterChild;
  readonly messagesIn: CounterChild;
  readonly bytesOut: CounterChild;
}

export class BrokerProbe {
  private readonly requests: CounterFamily;
  private readonly queueTime: HistogramFamily;
  private readonly localTime: HistogramFamily;
  private readonly sendTime: HistogramFamily;
  private readonly errors: CounterFamily;
  private readonly trailing: CounterFamily;
  /** By API key, made on the first such request (most APIs never see one). */
  private readonly trailingByApi: Array<CounterChild | undefined> = [];
  private readonly bytesIn: CounterFamily;
  private readonly messagesIn: CounterFamily;
  private readonly bytesOut: CounterFamily;
  private readonly connectionsActive: Gauge;
  private readonly tlsHandshakes: CounterFamily;
  private readonly tlsFailures: CounterFamily;
  private readonly ktlsAvailable: Gauge;
  private readonly connectionsAccepted: CounterChild;
  private readonly pendingOutput: Gauge;
  private readonly apis: Array<ApiSeries | undefined> = [];
  private readonly topics = new Map<string, TopicSeries>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new CounterFamily(registry, {
      name: 'sluice_requests_total',
      help: 'Requests answered, by API and the version answered at.',
      labelNames: ['api', 'version'],
    });
    const histogram = (name: string, help: string) => new HistogramFamily(registry, { name, help, labelNames: ['api'], buckets: REQUEST_SECONDS_BUCKETS });
    this.queueTime = histogram('sluice_request_queue_time_seconds', 'From a complete request frame to its handler starting.');
    this.localTime = histogram(
      'sluice_request_local_time_seconds',
      'From the handler starting to its response being ready (parked fetches and acks fsyncs included).',
    );
    this.sendTime = histogram('sluice_response_send_time_seconds', 'From the response being ready to its last byte written to the socket.');
    this.errors = new CounterFamily(registry, {
      name: 'sluice_errors_total',
      help: 'Error codes in responses, by API and Kafka error name (one per partition, topic or group that failed).',
      labelNames: ['api', 'error'],
    });
    this.trailing = new CounterFamily(registry, {
      name: 'sluice_request_trailing_bytes_total',
      help: 'Requests served whose complete body was followed by extra bytes in the frame (ignored, as Kafka ignores them), by API.',
      labelNames: ['api'],
    });
    this.bytesIn = new CounterFamily(registry, {
      name: 'sluice_topic_bytes_in_total',
      help: 'Record batch bytes appended by Produce requests (as the producer sent them, compressed), by topic.',
      labelNames: ['topic'],
    });
    this.messagesIn = new CounterFamily(registry, {
      name: 'sluice_topic_messages_in_total',
      help: 'Records appended by Produce requests, by topic.',
      labelNames: ['topic'],
    });
    this.bytesOut = new CounterFamily(registry, {
      name: 'sluice_topic_bytes_out_total',
      help: 'Record batch bytes put in Fetch responses, by topic.',
      labelNames: ['topic'],
    });
    this.connectionsActive = new Gauge({ name: 'sluice_connections_active', help: 'Client connections open now.', registers });
    this.tlsHandshakes = new CounterFamily(registry, {
      name: 'sluice_tls_handshakes_total',
      help: 'TLS handshakes completed, by listener and where the record layer then runs (rustls in the writer thread, or kernel TLS).',
      labelNames: ['listener', 'record_layer'],
    });
    this.tlsFailures = new CounterFamily(registry, {
      name: 'sluice_tls_connection_failures_total',
      help: 'Connections closed for TLS reasons, by listener and reason: tls_error (garbage, a plaintext client on a TLS listener, a failed handshake), handshake_timeout, tls_on_plaintext (a TLS client on a plaintext listener).',
      labelNames: ['listener', 'reason'],
    });
    this.ktlsAvailable = new Gauge({
      name: 'sluice_ktls_available',
      help: '1 when the start-up probe found kernel TLS (setsockopt TCP_ULP "tls" works), else 0.',
      registers,
    });
    this.connectionsAccepted = new CounterFamily(registry, {
      name: 'sluice_connections_accepted_total',
      help: 'Client connections accepted since the broker started.',
      labelNames: [],
    }).child();
    this.pendingOutput = new Gauge({
      name: 'sluice_pending_output_bytes',
      help: 'Response bytes queued in the connection writer and not yet written to sockets.',
      registers,
    });
  }

  // ---- requests ----

  private api(apiKey: number): ApiSeries {
    let series = this.apis[apiKey];
    if (series === undefined) {
      const name = apiKeyName(apiKey);
      const errors = new Map<number, CounterChild>();
      const countError = (code: number) => {
        let counter = errors.get(code);
        if (counter === undefined) {
          counter = this.errors.child(name, errorByCode(code)?.name ?? `UNKNOWN_CODE_${code}`);
          errors.set(code, counter);
        }
        counter.value++;
      };
      series = {
        name,
        byVersion: [],
        queue: this.queueTime.child(name),
        local: this.localTime.child(name),
        send: this.sendTime.child(name),
        errors,
        scan: errorScanFor(apiKey),
        countError,
      };
      this.apis[apiKey] = series;
    }
    return series;
  }

  /** A response went out completely (or, for acks=0 Produce, the request needed none). */
  requestCompleted(apiKey: number, version: number, queueMs: number, localMs: number, sendMs: number): void {
    const series = this.api(apiKey);
    let requests = series.byVersion[version];
    if (requests === undefined) requests = series.byVersion[version] = this.requests.child(series.name, String(version));
    requests.value++;
    series.queue.observe(queueMs / 1000);
    series.local.observe(localMs / 1000);
    series.send.observe(sendMs / 1000);
  }

  /** A response body is about to be encoded: counts the error codes it carries. */
  responseReady(apiKey: number, body: unknown): void {
    const series = this.api(apiKey);
    series.scan(body, series.countError);
  }

  /** A request's body ended before its frame did; it was served, the rest ignored (as Kafka does). */
  requestWithTrailingBytes(apiKey: number): void {
    let counter = this.trailingByApi[apiKey];
    if (counter === undefined) counter = this.trailingByApi[apiKey] = this.trailing.child(apiKeyName(apiKey));
    counter.value++;
  }

  // ---- connections ----

  connectionOpened(): void {
    this.connectionsAccepted.value++;
    this.connectionsActive.inc();
  }

  connectionClosed(): void {
    this.connectionsActive.dec();
  }

  // ---- TLS ----

  tlsHandshakeCompleted(listener: string, kernel: boolean): void {
    this.tlsHandshakes.child(listener, kernel ? 'ktls' : 'rustls').value++;
  }

  tlsConnectionFailed(listener: string, reason: 'tls_error' | 'handshake_timeout' | 'tls_on_plaintext'): void {
    this.tlsFailures.child(listener, reason).value++;
  }

  ktlsProbed(available: boolean): void {
    this.ktlsAvailable.set(available ? 1 : 0);
  }

  // ---- topics ----

  private topic(name: string): TopicSeries {
    let series = this.topics.get(name);
    if (series === undefined) {
      series = { bytesIn: this.bytesIn.child(name), messagesIn: this.messagesIn.child(name), bytesOut: this.bytesOut.child(name) };
      this.topics.set(name, series);
    }
    return series;
  }

  /** Produce appended `bytes` of record batches holding `messages` records to `topic`. */
  produced(topic: string, bytes: number, messages: number): void {
    const series = this.topic(topic);
    series.bytesIn.value += bytes;
    series.messagesIn.value += messages;
  }

  /** A Fetch response carries `bytes` of `topic`'s record batches. */
  fetched(topic: string, bytes: number): void {
    this.topic(topic).bytesOut.value += bytes;
  }

  // ---- scrape ----

  /** Scrape time: the writer's queued bytes, and forgetting topics that no longer exist. */
  refresh(writer: WriterStats | null, topicExists: (name: string) => boolean): void {
    if (writer !== null) this.pendingOutput.set(writer.queuedBytes);
    for (const name of this.topics.keys()) {
      if (topicExists(name)) continue;
      this.topics.delete(name);
      for (const family of [this.bytesIn, this.messagesIn, this.bytesOut]) family.removeWhere((l) => l.topic === name);
    }
  }
}
