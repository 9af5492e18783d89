// Cluster mode: the transaction subsystem's connections to other brokers — one `@sluice/client`
// BrokerConnection per broker, over the inter-broker listener with its TLS/SASL settings (as the
// replica fetchers connect: cluster/inter-broker-security.ts). Used by the coordinator's marker
// sender (remote-markers.ts: WriteTxnMarkers to partition leaders) and by partition leaders'
// verification (remote-verification.ts: AddPartitionsToTxn VerifyOnly to coordinators); each
// keeps its own pool, so a marker write waiting for a leader's ISR never holds up a verification.
//
// A connection is dialled on first use, reused while the broker's endpoint stays the same, and
// dropped (closed, dialled again next time) when a request on it failed or the endpoint moved.
//
// Concurrency: event loop only.

import type { BrokerConnection, ConnectionOptions } from '@sluice/client';

export interface BrokerEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface InterBrokerSettings {
  /** This broker's id, in the client id the other side logs. */
  readonly nodeId: number;
  /** Names the pool's purpose in the client id (`sluice-<purpose>-<nodeId>`). */
  readonly purpose: string;
  /** Dial and request timeout. */
  readonly requestTimeoutMs: number;
  /** TLS / SASL of the inter-broker listener. */
  readonly security?: Pick<ConnectionOptions, 'tls' | 'sasl'>;
}

export class InterBrokerConnections {
  readonly settings: InterBrokerSettings;
  private readonly connections = new Map<number, { endpoint: BrokerEndpoint; connection: Promise<BrokerConnection> }>();
  private isClosed = false;

  constructor(settings: InterBrokerSettings) {
    this.settings = settings;
  }

  /** True once close() ran: callers answer NETWORK_EXCEPTION instead of dialling. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The connection to `broker`, dialled if there is none (or its endpoint moved). */
  connect(broker: BrokerEndpoint): Promise<BrokerConnection> {
    const known = this.connections.get(broker.nodeId);
    if (known !== undefined && known.endpoint.host === broker.host && known.endpoint.port === broker.port) return known.connection;
    if (known !== undefined) this.drop(broker.nodeId);
    // The client loads on first use: a single broker never talks to another (and its start does
    // not load the client: test/startup-modules.test.ts).
    const connection = import('@sluice/client').then(({ BrokerConnection }) =>
      BrokerConnection.open(broker.host, broker.port, {
        clientId: `sluice-${this.settings.purpose}-${this.settings.nodeId}`,
        connectTimeoutMs: this.settings.requestTimeoutMs,
        requestTimeoutMs: this.settings.requestTimeoutMs,
        ...this.settings.security,
      }),
    );
    // A failed dial is forgotten so the next attempt dials again.
    connection.catch(() => this.connections.get(broker.nodeId)?.connection === connection && this.connections.delete(broker.nodeId));
    this.connections.set(broker.nodeId, { endpoint: broker, connection });
    return connection;
  }

  /** Closes the connection to `nodeId` (after a failed request); the next connect() dials again. */
  drop(nodeId: number): void {
    const known = this.connections.get(nodeId);
    if (known === undefined) return;
    this.connections.delete(nodeId);
    known.connection.then(
      (c) => c.close(),
      () => undefined,
    );
  }

  /** Closes every connection; `closed` is true from now on. */
  close(): void {
    this.isClosed = true;
    for (const nodeId of [...this.connections.keys()]) this.drop(nodeId);
  }
}
