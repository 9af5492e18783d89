// SASL/OAUTHBEARER server (RFC 7628, Kafka KIP-255 / KIP-768), sans-io, as Kafka's
// OAuthBearerSaslServer:
//
//   client  n,[a=authzid],^Aauth=Bearer <token>^A[key=value^A]*^A
//   server  ''                                  token valid: authenticated as the token's subject
//        or {"status":"invalid_token"}          token refused: an error challenge, and then
//   client  ^A                                  the client acknowledges, and the server fails
//                                               with that JSON as the message (Kafka's order)
//
// The authzid, when given, must equal the token's principal name. Extensions (other key=value
// pairs) are parsed and ignored, as Kafka does without an extensions validator. The credential
// expires with the token: the success step carries `exp`, and the connection's session lifetime
// (KIP-368) is bounded by it.

import { failure, genericFailureMessage, illegalState, type SaslServer, type SaslStep } from './sasl-server.ts';
import { decodeUtf8, EMPTY_TOKEN } from './sasl-server.ts';

export const OAUTHBEARER = 'OAUTHBEARER';

export type TokenValidation =
  | { readonly ok: true; readonly principalName: string; readonly expiresAtMs: number }
  | { readonly ok: false; readonly error: string };

/** Where OAUTHBEARER tokens are checked (JWT against a JWKS, in jwt.ts). */
export interface OAuthBearerTokenValidator {
  validate(token: string): TokenValidation;
}

const SEP = '\u0001';
// Kafka's OAuthBearerClientInitialResponse grammar (saslname with =2C / =3D escapes; key is
// letters; value is printable ASCII, space, tab, CR, LF).
// SASLNAME is unrolled (runs of plain characters between escapes), as in scram-messages.ts.
const NAME_CHAR = '[\\x01-\\x2B\\x2D-\\x3C\\x3E-\\x7F]';
const SASLNAME = `(?=[^,])${NAME_CHAR}*(?:=(?:2C|3D)${NAME_CHAR}*)*`;
const KEY = '[A-Za-z]+';
const VALUE = '[\\x21-\\x7E \\t\\r\\n]+';
const INITIAL_RESPONSE = new RegExp(`^n,(?:a=(${SASLNAME}))?,${SEP}((?:${KEY}=${VALUE}${SEP})*)${SEP}$`);
const AUTH = /^(\w+) +([-_.a-zA-Z0-9]+)$/;
/** Longest initial response accepted; a JWT is a few KiB. Keeps the pattern engine bounded. */
export const MAX_OAUTHBEARER_RESPONSE_CHARS = 64 * 1024;

export interface ClientInitialResponse {
  readonly authorizationId: string;
  readonly token: string;
  readonly extensions: ReadonlyMap<string, string>;
}

export function parseClientInitialResponse(text: string): ClientInitialResponse | string {
  if (text.length > MAX_OAUTHBEARER_RESPONSE_CHARS) return `Invalid OAUTHBEARER client first message: longer than ${MAX_OAUTHBEARER_RESPONSE_CHARS} characters`;
  const m = INITIAL_RESPONSE.exec(text);
  if (m === null) return 'Invalid OAUTHBEARER client first message';
  const pairs = new Map<string, string>();
  for (const kv of (m[2] as string).split(SEP)) {
    if (kv === '') continue;
    const eq = kv.indexOf('=');
    pairs.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  const auth = pairs.get('auth');
  if (auth === undefined) return "Invalid OAUTHBEARER client first message: 'auth' not specified";
  pairs.delete('auth');
  const a = AUTH.exec(auth);
  if (a === null) return "Invalid OAUTHBEARER client first message: invalid 'auth' format";
  if ((a[1] as string).toLowerCase() !== 'bearer') return `Invalid scheme in OAUTHBEARER client first message: ${a[1]}`;
  const authzid = m[1] === undefined ? '' : (m[1] as string).replace(/=2C|=3D/g, (e) => (e === '=2C' ? ',' : '='));
  return { authorizationId: authzid, token: a[2] as string, extensions: pairs };
}

export class OAuthBearerSaslServer implements SaslServer {
  readonly mechanism = OAUTHBEARER;
  private readonly validator: OAuthBearerTokenValidator;
  private state: 'awaiting-response' | 'awaiting-error-ack' | 'complete' | 'failed' = 'awaiting-response';
  private errorJson = '';
  private errorDetail = '';

  constructor(validator: OAuthBearerTokenValidator) {
    this.validator = validator;
  }

  evaluate(token: Uint8Array): SaslStep {
    if (this.state === 'awaiting-error-ack') {
      this.state = 'failed';
      // Kafka fails with the JSON error as the message once the client sends %x01; anything
      // else is not a valid reply either, and fails the same way.
      return failure('invalid-proof', this.errorJson, this.errorDetail);
    }
    if (this.state !== 'awaiting-response') return illegalState(OAUTHBEARER, this.state);
    const text = decodeUtf8(token);
    const parsed = text === null ? 'Invalid OAUTHBEARER client first message: not UTF-8' : parseClientInitialResponse(text);
    if (typeof parsed === 'string') {
      this.state = 'failed';
      return failure('invalid-encoding', genericFailureMessage(OAUTHBEARER), parsed);
    }
    const result = this.validator.validate(parsed.token);
    if (!result.ok) {
      this.state = 'awaiting-error-ack';
      this.errorJson = JSON.stringify({ status: 'invalid_token' });
      this.errorDetail = result.error;
      return { kind: 'challenge', token: Buffer.from(this.errorJson, 'utf8') };
    }
    if (parsed.authorizationId !== '' && parsed.authorizationId !== result.principalName) {
      this.state = 'failed';
      return failure(
        'other-error',
        `Authentication failed: Client requested an authorization id (${parsed.authorizationId}) that is different from the token's principal name (${result.principalName})`,
      );
    }
    this.state = 'complete';
    return { kind: 'success', token: EMPTY_TOKEN, authorizationId: result.principalName, credentialExpiresAtMs: result.expiresAtMs };
  }
}
