// Who is on the other end of one connection, and what they may send before they are known: the
// connection asks its session about every frame and does what it answers, and reads the
// principal from it for every request (handlers get it as `ctx.session`).
//
// - PLAINTEXT listener: `User:ANONYMOUS` from the start; every request passes.
// - SASL listener: a SaslAuthenticator (security/sasl/) decides; until it has authenticated, the
//   frame limit is `sasl.server.max.receive.size` (`maxFrameBytes`), one exchange at a time
//   (`authenticated` false), and a timer closes a connection that has not authenticated within
//   `sluice.authentication.timeout.ms`. Outcomes go to the probe (per listener and mechanism)
//   and the log, once each.
//
// Kept apart from connection.ts so the transport (Node's socket today, Rust-owned TLS reads
// tomorrow) and the authentication change independently.

import type { RequestHeader } from '@sluice/protocol';
import type { Logger } from './logger.ts';
import type { Session } from './security/acl/authorizer.ts';
import type { ListenerAuth } from './security/listener-auth.ts';
import { ANONYMOUS_PRINCIPAL } from './security/principal/kafka-principal.ts';
import type { SaslAuthenticator, SaslGate, UnframedTokenGate } from './security/sasl/sasl-authenticator.ts';

/** What a session reports (metrics/security-probe.ts implements it). */
export interface AuthenticationProbe {
  authenticated(listener: string, mechanism: string): void;
  authenticationFailed(listener: string, mechanism: string | null, reason: string): void;
}

export class ConnectionSession implements Session {
  readonly host: string;
  private readonly auth: ListenerAuth;
  private readonly sasl: SaslAuthenticator | null;
  private readonly probe: AuthenticationProbe;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;
  /** SSL listeners: the principal the client certificate maps to (mTLS), once the handshake is done. */
  private transportPrincipal: string | null = null;

  constructor(host: string, auth: ListenerAuth, probe: AuthenticationProbe, log: Logger) {
    this.host = host;
    this.auth = auth;
    this.sasl = auth.sasl === null ? null : auth.sasl.newAuthenticator();
    this.probe = probe;
    this.log = log;
  }

  /**
   * After SASL, `User:<name>`; on an SSL listener, the principal the client certificate maps to
   * (`User:ANONYMOUS` without one); otherwise `User:ANONYMOUS` (before SASL completes nothing is
   * dispatched but ApiVersions), as Kafka names principals.
   */
  get principal(): string {
    return this.sasl?.principal ?? this.transportPrincipal ?? ANONYMOUS_PRINCIPAL;
  }

  /** The TLS handshake established who the peer is (ssl.principal.mapping.rules applied). */
  setTransportPrincipal(principal: string): void {
    this.transportPrincipal = principal;
  }

  /** False while a SASL exchange has not completed: one request at a time, the SASL frame limit. */
  get authenticated(): boolean {
    return this.sasl === null || this.sasl.authenticated;
  }

  /** The frame limit now: `sasl.server.max.receive.size` until authenticated, else `requestLimit`. */
  maxFrameBytes(requestLimit: number): number {
    return this.authenticated || this.auth.sasl === null ? requestLimit : Math.min(requestLimit, this.auth.sasl.maxReceiveBytes);
  }

  /** After a v0 SaslHandshake, frames are raw SASL tokens without a request header. */
  get expectsUnframedToken(): boolean {
    return this.sasl?.expectsUnframedToken ?? false;
  }

  /** Starts the authentication timer; `onTimeout` closes the connection. */
  start(onTimeout: () => void): void {
    if (this.auth.sasl === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.ended || this.authenticated) return;
      this.failed(this.sasl?.mechanism ?? null, 'timeout', `not authenticated within ${this.auth.sasl?.authenticationTimeoutMs} ms`);
      onTimeout();
    }, this.auth.sasl.authenticationTimeoutMs);
    this.timer.unref();
  }

  /** A decoded request: pass it to its handler, answer it here, or close. */
  onRequest(header: RequestHeader, body: unknown): SaslGate {
    if (this.sasl === null) return { kind: 'handle' };
    const gate = this.sasl.onRequest(header.apiKey, header.apiVersion, body);
    this.report();
    return gate;
  }

  onUnframedToken(token: Uint8Array): UnframedTokenGate {
    if (this.sasl === null) return { kind: 'close', reason: 'no SASL on this listener' };
    const gate = this.sasl.onUnframedToken(token);
    this.report();
    return gate;
  }

  /** The connection refused a frame above the SASL limit before authentication. */
  frameTooLarge(detail: string): void {
    this.failed(this.sasl?.mechanism ?? null, 'frame-too-large', `${detail} (sasl.server.max.receive.size is ${this.auth.sasl?.maxReceiveBytes})`);
  }

  end(): void {
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private report(): void {
    const outcome = this.sasl?.takeOutcome() ?? null;
    if (outcome === null) return;
    if (outcome.kind === 'authenticated') {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.probe.authenticated(this.auth.listener, outcome.mechanism);
      this.log.debug({ principal: outcome.principal, mechanism: outcome.mechanism, reauthentication: outcome.reauthentication }, 'authenticated');
      return;
    }
    this.failed(outcome.mechanism, outcome.reason, outcome.detail);
  }

  private failed(mechanism: string | null, reason: string, detail: string): void {
    // Only the broker's own mechanism names become labels: a client's unknown one is 'none'.
    const known = mechanism !== null && this.auth.sasl?.mechanisms.includes(mechanism) === true ? mechanism : null;
    this.probe.authenticationFailed(this.auth.listener, known, reason);
    // The logger already carries the connection and its listener.
    this.log.info({ mechanism, reason, detail }, 'authentication failed; closing connection');
  }
}
