// SASL/PLAIN (RFC 4616) server: one client token `[authzid] NUL authcid NUL passwd` (UTF-8),
// checked against a credential source; never "accept anything".
//
// Kafka's PlainSaslServer semantics, which this follows:
// - exactly three NUL-separated fields, else "Invalid SASL/PLAIN response: expected 3 tokens";
// - an empty username or password is refused;
// - a wrong username or password: "Authentication failed: Invalid username or password" (the
//   same words for both, so the answer does not say which users exist);
// - an authzid, when given, must equal the username (no impersonation);
// - the authorization id is the username, so the principal is `User:<username>`.
// Every PLAIN failure is a SaslAuthenticationException in Kafka, so its message reaches the client.
// RFC 4616 also forbids invalid UTF-8; such a token is refused as malformed.

import { constantTimeEqual } from './constant-time.ts';
import { decodeUtf8, EMPTY_TOKEN, failure, illegalState, type SaslServer, type SaslStep } from './sasl-server.ts';

export const PLAIN = 'PLAIN';

/** Where PLAIN passwords are checked. Implementations compare in constant time. */
export interface PlainCredentialSource {
  /** True when `username` exists and `password` is its password. */
  passwordMatches(username: string, password: string): boolean;
}

/**
 * A fixed username -> password table (from a JAAS `user_<name>="…"` config or a credentials
 * file). An unknown user costs the same comparison as a known one.
 */
export class StaticPlainCredentials implements PlainCredentialSource {
  private readonly passwords: ReadonlyMap<string, Uint8Array>;
  private static readonly NO_PASSWORD = new Uint8Array(32);

  constructor(users: ReadonlyMap<string, string> | Record<string, string>) {
    const entries = users instanceof Map ? [...users] : Object.entries(users);
    this.passwords = new Map(entries.map(([u, p]) => [u, Buffer.from(p, 'utf8')]));
  }

  get size(): number {
    return this.passwords.size;
  }

  passwordMatches(username: string, password: string): boolean {
    const expected = this.passwords.get(username);
    const matches = constantTimeEqual(Buffer.from(password, 'utf8'), expected ?? StaticPlainCredentials.NO_PASSWORD);
    return expected !== undefined && matches;
  }
}

export class PlainSaslServer implements SaslServer {
  readonly mechanism = PLAIN;
  private state: 'awaiting-response' | 'complete' | 'failed' = 'awaiting-response';
  private readonly credentials: PlainCredentialSource;

  constructor(credentials: PlainCredentialSource) {
    this.credentials = credentials;
  }

  evaluate(token: Uint8Array): SaslStep {
    if (this.state !== 'awaiting-response') return illegalState(PLAIN, this.state);
    const step = this.check(token);
    this.state = step.kind === 'success' ? 'complete' : 'failed';
    return step;
  }

  private check(token: Uint8Array): SaslStep {
    const text = decodeUtf8(token);
    if (text === null) return failure('invalid-encoding', 'Invalid SASL/PLAIN response: not valid UTF-8');
    const fields = text.split('\u0000');
    if (fields.length !== 3) return failure('invalid-encoding', `Invalid SASL/PLAIN response: expected 3 tokens, got ${Math.min(fields.length, 4)}`);
    const [authzid, username, password] = fields as [string, string, string];
    if (username === '') return failure('invalid-encoding', 'Authentication failed: username not specified');
    if (password === '') return failure('invalid-encoding', 'Authentication failed: password not specified');
    if (!this.credentials.passwordMatches(username, password)) {
      return failure(
        'invalid-proof',
        'Authentication failed: Invalid username or password',
        `SASL/PLAIN: invalid username or password for ${JSON.stringify(username)}`,
      );
    }
    if (authzid !== '' && authzid !== username) {
      return failure('other-error', 'Authentication failed: Client requested an authorization id that is different from username');
    }
    return { kind: 'success', token: EMPTY_TOKEN, authorizationId: username };
  }
}
