// The per-connection SASL state machine of a SASL_PLAINTEXT / SASL_SSL listener, with Kafka's
// SaslServerAuthenticator semantics, sans-io: the connection feeds it each decoded request (and,
// after a v0 handshake, each raw token frame) and does what it answers. It owns which requests
// may pass before authentication, the handshake, the token exchange through a SaslServer, the
// principal, and KIP-368 session expiry / re-authentication.
//
//   before authentication  ApiVersions → 'handle' (the normal handler answers it)
//                          SaslHandshake v0/v1 → answered here; an unknown or disabled
//                            mechanism gets UNSUPPORTED_SASL_MECHANISM and the connection closes
//                          anything else → 'close' (Kafka: IllegalSaslStateException)
//   after handshake v1     SaslAuthenticate → answered here (challenge / success / failure, a
//                            failure closes after its response); anything else → 'close'
//   after handshake v0     the next frames are raw tokens without a request header:
//                            `onUnframedToken`; a failure closes with no answer (as Kafka)
//   authenticated          everything → 'handle', except: past the session expiry, any request
//                            but a re-authentication SaslHandshake → 'close'; SaslHandshake v1
//                            starts re-authentication, which must keep the mechanism and the
//                            principal (else the connection fails and closes).
//
// Session lifetime (KIP-368): `connections.max.reauth.ms` (> 0) and the credential's own expiry
// (an OAUTHBEARER token's exp) bound it; it is sent in SaslAuthenticate v1+ as sessionLifetimeMs;
// clients that cannot re-authenticate are closed when it ends. Neither set (Kafka's default for
// passwords): sessions never expire.
//
// Contract: one instance per connection; requests are fed in arrival order; not reentrant.

import { ApiKey, ErrorCode } from '@sluice/protocol';
import { userPrincipal } from '../principal/kafka-principal.ts';
import type { SaslServer, SaslStep } from './sasl-server.ts';

export interface SaslAuthenticatorOptions {
  /** `sasl.enabled.mechanisms` of the listener, e.g. ['SCRAM-SHA-512', 'PLAIN']. */
  readonly enabledMechanisms: readonly string[];
  /** A fresh server for one exchange of an enabled mechanism. */
  readonly createServer: (mechanism: string) => SaslServer;
  /**
   * `connections.max.reauth.ms` for the listener, or per mechanism (Kafka's
   * `listener.name.<l>.<mechanism>.connections.max.reauth.ms`); 0 = sessions never expire.
   */
  readonly maxReauthMs?: number | ((mechanism: string) => number);
  /** Milliseconds clock; injectable for tests. */
  readonly now?: () => number;
}

export type SaslGate =
  /** Pass the request to its handler. */
  | { readonly kind: 'handle' }
  /** Answer the request with `body` (same API key and version); close once it is sent when `close`. */
  | { readonly kind: 'respond'; readonly body: Record<string, unknown>; readonly close: boolean }
  /** Close the connection now, without an answer. `reason` is for the log. */
  | { readonly kind: 'close'; readonly reason: string };

export type UnframedTokenGate = { readonly kind: 'send-token'; readonly token: Uint8Array } | { readonly kind: 'close'; readonly reason: string };

/** What happened, for metrics and logs (authentication successes and failures per mechanism). */
export type SaslOutcome =
  | { readonly kind: 'authenticated'; readonly mechanism: string; readonly principal: string; readonly reauthentication: boolean }
  | { readonly kind: 'failed'; readonly mechanism: string | null; readonly reason: string; readonly detail: string };

type State = 'handshake' | 'authenticate' | 'authenticate-unframed' | 'complete' | 'failed';

export class SaslAuthenticator {
  private state: State = 'handshake';
  private readonly options: SaslAuthenticatorOptions;
  private readonly now: () => number;
  private server: SaslServer | null = null;
  private mechanismName: string | null = null;
  private principalName: string | null = null;
  private expiresAt: number | null = null;
  private reauthenticating = false;
  /** The last outcome, for the caller's metrics and log line; cleared when read. */
  private pendingOutcome: SaslOutcome | null = null;

  constructor(options: SaslAuthenticatorOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** `User:<name>` once authenticated (stays during re-authentication), else null. */
  get principal(): string | null {
    return this.principalName;
  }

  get mechanism(): string | null {
    return this.mechanismName;
  }

  get authenticated(): boolean {
    return this.principalName !== null && this.state !== 'failed';
  }

  /** True after a v0 SaslHandshake: the next frames are raw tokens, fed to `onUnframedToken`. */
  get expectsUnframedToken(): boolean {
    return this.state === 'authenticate-unframed';
  }

  /** When the session expires (ms since epoch), or null when it does not. */
  get sessionExpiresAt(): number | null {
    return this.expiresAt;
  }

  /** The outcome of the last completed exchange, once. */
  takeOutcome(): SaslOutcome | null {
    const o = this.pendingOutcome;
    this.pendingOutcome = null;
    return o;
  }

  onRequest(apiKey: number, apiVersion: number, body: unknown): SaslGate {
    switch (this.state) {
      case 'handshake':
        if (apiKey === ApiKey.ApiVersions) return { kind: 'handle' };
        if (apiKey === ApiKey.SaslHandshake) return this.onHandshake(apiVersion, body as { mechanism: string });
        return this.fail(null, 'illegal-state', `Unexpected Kafka request of type ${apiKey} during SASL handshake.`);
      case 'authenticate':
        if (apiKey === ApiKey.SaslAuthenticate) return this.onAuthenticate(body as { authBytes: Uint8Array });
        return this.fail(this.mechanismName, 'illegal-state', `Unexpected Kafka request of type ${apiKey} during SASL authentication.`);
      case 'authenticate-unframed':
        return this.fail(this.mechanismName, 'illegal-state', 'A Kafka request arrived where a SASL token was expected (v0 handshake)');
      case 'complete':
        if (apiKey === ApiKey.SaslHandshake) return this.onReauthHandshake(apiVersion, body as { mechanism: string });
        if (this.expiresAt !== null && this.now() > this.expiresAt)
          return this.fail(this.mechanismName, 'session-expired', `Session expired for ${this.principalName}; closing the connection`);
        return { kind: 'handle' };
      default:
        return { kind: 'close', reason: 'SASL authentication already failed on this connection' };
    }
  }

  onUnframedToken(token: Uint8Array): UnframedTokenGate {
    if (this.state !== 'authenticate-unframed' || this.server === null) return { kind: 'close', reason: 'unexpected SASL token' };
    const step = this.server.evaluate(token);
    if (step.kind === 'failure') {
      const gate = this.fail(this.mechanismName, step.reason, step.detail);
      return { kind: 'close', reason: gate.kind === 'close' ? gate.reason : step.detail };
    }
    if (step.kind === 'success') this.complete(step);
    return { kind: 'send-token', token: step.token };
  }

  private onHandshake(version: number, body: { mechanism: string }): SaslGate {
    const enabled = [...this.options.enabledMechanisms];
    if (!enabled.includes(body.mechanism)) {
      this.state = 'failed';
      this.pendingOutcome = { kind: 'failed', mechanism: null, reason: 'unsupported-mechanism', detail: `Unsupported SASL mechanism ${body.mechanism}` };
      return { kind: 'respond', body: { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled }, close: true };
    }
    this.mechanismName = body.mechanism;
    this.server = this.options.createServer(body.mechanism);
    this.state = version === 0 ? 'authenticate-unframed' : 'authenticate';
    return { kind: 'respond', body: { errorCode: ErrorCode.NONE, mechanisms: enabled }, close: false };
  }

  private onReauthHandshake(version: number, body: { mechanism: string }): SaslGate {
    if (version === 0) return this.fail(this.mechanismName, 'illegal-state', 'Re-authentication needs SaslHandshake v1 and SaslAuthenticate');
    if (body.mechanism !== this.mechanismName) {
      this.state = 'failed';
      this.pendingOutcome = {
        kind: 'failed',
        mechanism: body.mechanism,
        reason: 'mechanism-changed',
        detail: `SaslHandshake request specified mechanism ${body.mechanism}, but previous mechanism was ${this.mechanismName}`,
      };
      return { kind: 'respond', body: { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [...this.options.enabledMechanisms] }, close: true };
    }
    this.reauthenticating = true;
    this.server = this.options.createServer(body.mechanism);
    this.state = 'authenticate';
    return { kind: 'respond', body: { errorCode: ErrorCode.NONE, mechanisms: [...this.options.enabledMechanisms] }, close: false };
  }

  private onAuthenticate(body: { authBytes: Uint8Array }): SaslGate {
    const server = this.server as SaslServer;
    const step = server.evaluate(body.authBytes);
    if (step.kind === 'failure') {
      this.fail(this.mechanismName, step.reason, step.detail);
      return {
        kind: 'respond',
        body: { errorCode: step.errorCode, errorMessage: step.clientMessage, authBytes: new Uint8Array(0), sessionLifetimeMs: 0 },
        close: true,
      };
    }
    if (step.kind === 'challenge') {
      return { kind: 'respond', body: { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.token, sessionLifetimeMs: 0 }, close: false };
    }
    const principal = userPrincipal(step.authorizationId);
    if (this.reauthenticating && principal !== this.principalName) {
      const detail = `Cannot change principals during re-authentication from ${this.principalName}: ${principal}`;
      this.fail(this.mechanismName, 'principal-changed', detail);
      return {
        kind: 'respond',
        body: { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: detail, authBytes: new Uint8Array(0), sessionLifetimeMs: 0 },
        close: true,
      };
    }
    const lifetimeMs = this.complete(step);
    return { kind: 'respond', body: { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.token, sessionLifetimeMs: lifetimeMs }, close: false };
  }

  /**
   * Marks the session authenticated; returns its lifetime in ms (0: no expiry). Kafka's rule
   * (SaslServerAuthenticator.ReauthInfo): the lifetime is `connections.max.reauth.ms` when set,
   * the credential's remaining life when it expires (OAUTHBEARER), the smaller of the two when
   * both, never negative.
   */
  private complete(step: Extract<SaslStep, { kind: 'success' }>): number {
    const reauth = this.reauthenticating;
    const now = this.now();
    this.principalName = userPrincipal(step.authorizationId);
    this.state = 'complete';
    this.server = null;
    this.reauthenticating = false;
    const setting = this.options.maxReauthMs ?? 0;
    const max = typeof setting === 'function' ? setting(this.mechanismName as string) : setting;
    const credentialLeft = step.credentialExpiresAtMs === undefined ? null : Math.max(0, step.credentialExpiresAtMs - now);
    let lifetime = 0;
    if (credentialLeft !== null && max > 0) lifetime = Math.min(credentialLeft, max);
    else if (credentialLeft !== null) lifetime = credentialLeft;
    else if (max > 0) lifetime = max;
    this.expiresAt = credentialLeft !== null || max > 0 ? now + lifetime : null;
    this.pendingOutcome = { kind: 'authenticated', mechanism: this.mechanismName as string, principal: this.principalName, reauthentication: reauth };
    return lifetime;
  }

  private fail(mechanism: string | null, reason: string, detail: string): SaslGate {
    this.state = 'failed';
    this.server = null;
    this.principalName = null;
    this.expiresAt = null;
    this.pendingOutcome = { kind: 'failed', mechanism, reason, detail };
    return { kind: 'close', reason: detail };
  }
}
