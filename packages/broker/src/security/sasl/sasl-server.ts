// The contract every server-side SASL mechanism implements: a sans-io state machine fed the
// client's tokens one at a time (the bytes of a SaslAuthenticate request, or of a v0 unframed
// token), answering with the next server token or an outcome. No sockets, clocks or files here:
// the connection (wiring, after the groundwork) owns framing, size limits
// (`sasl.server.max.receive.size`), timeouts and closing; credentials come through a source the
// mechanism is given.
//
// Contract: one instance per authentication exchange on one connection; not reentrant. After a
// 'success' or 'failure' step, every further token is a 'failure' with ILLEGAL_SASL_STATE.

import { ErrorCode } from '@sluice/protocol';

/**
 * Why an exchange failed, for logs and metrics labels. The values are RFC 5802's
 * server-error-value names where one fits; 'illegal-state' is ours.
 */
export type SaslFailureReason =
  | 'invalid-encoding'
  | 'extensions-not-supported'
  | 'invalid-proof'
  | 'channel-bindings-dont-match'
  | 'channel-binding-not-supported'
  | 'unknown-user'
  | 'invalid-username-encoding'
  | 'other-error'
  | 'illegal-state';

export type SaslStep =
  /** Send `token` to the client and wait for its next token. */
  | { readonly kind: 'challenge'; readonly token: Uint8Array }
  /**
   * Authenticated as `authorizationId` (Kafka's principal name: `User:<authorizationId>`); send
   * `token`. `credentialExpiresAtMs`: when the credential itself expires (an OAUTHBEARER token's
   * `exp`), which bounds the session (KIP-368); absent for passwords.
   */
  | { readonly kind: 'success'; readonly token: Uint8Array; readonly authorizationId: string; readonly credentialExpiresAtMs?: number }
  /**
   * Refused. `errorCode` and `clientMessage` go into the SaslAuthenticate response (Kafka sends
   * specific messages only where its mechanisms throw SaslAuthenticationException, and a generic
   * one otherwise, so nothing useful to an attacker leaks); `detail` is for the broker log only.
   */
  | {
      readonly kind: 'failure';
      readonly errorCode: number;
      readonly reason: SaslFailureReason;
      readonly clientMessage: string;
      readonly detail: string;
    };

export interface SaslServer {
  /** The mechanism name as negotiated in SaslHandshake, e.g. 'SCRAM-SHA-256'. */
  readonly mechanism: string;
  evaluate(token: Uint8Array): SaslStep;
}

/** The message Kafka's SaslServerAuthenticator sends for a SaslException it does not pass on. */
export function genericFailureMessage(mechanism: string): string {
  return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}

export function failure(reason: SaslFailureReason, clientMessage: string, detail: string = clientMessage): SaslStep {
  return { kind: 'failure', errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, reason, clientMessage, detail };
}

export function illegalState(mechanism: string, state: string): SaslStep {
  const message = `Unexpected SASL/${mechanism} token in state ${state}`;
  return { kind: 'failure', errorCode: ErrorCode.ILLEGAL_SASL_STATE, reason: 'illegal-state', clientMessage: message, detail: message };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The token as UTF-8 text, or null when it is not valid UTF-8. */
export function decodeUtf8(token: Uint8Array): string | null {
  try {
    return strictUtf8.decode(token);
  } catch {
    return null;
  }
}

export const EMPTY_TOKEN: Uint8Array = new Uint8Array(0);
