// SASL/SCRAM server (RFC 5802, RFC 7677 for SHA-256; SHA-512 as Kafka adds it): a sans-io state
// machine of two client tokens.
//
//   client-first  n,[a=authzid],n=user,r=cnonce[,ext]   -> server-first  r=cnonce+snonce,s=salt,i=N
//   client-final  c=base64(gs2 header),r=nonce,p=proof   -> server-final  v=ServerSignature
//
// Kafka's ScramSaslServer semantics, which this follows:
// - the credential is looked up at the first message; an unknown user fails there ("Invalid user
//   credentials", sent to the client as the generic SASL failure message);
// - an authzid, when given, must equal the username; that failure's own message reaches the
//   client (Kafka throws SaslAuthenticationException for it);
// - a credential with fewer iterations than the mechanism's minimum (4096) is refused;
// - the nonce in the final message must equal client nonce + server nonce;
// - the proof is checked by recomputing StoredKey from it and comparing in constant time;
// - extensions other than `tokenauth` are ignored. `tokenauth=true` asks for delegation-token
//   authentication, which Sluice does not have: refused.
// - failures are reported in the SaslAuthenticate response (SASL_AUTHENTICATION_FAILED), never
//   as an RFC 5802 `e=` server-final message: Kafka's server never sends `e=`. The RFC's error
//   names are kept as the failure `reason` for logs and metrics.
// In addition (RFC 5802, which Kafka leaves unchecked): the channel binding must be the base64 of
// the gs2 header the client sent ("biws" for "n,,").

import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from './constant-time.ts';
import type { ScramCredential, ScramDigest } from './scram-credential.ts';
import { hash, hmac, xor } from './scram-credential.ts';
import { type ClientFirstMessage, formatServerFinal, formatServerFirst, parseClientFinal, parseClientFirst } from './scram-messages.ts';
import { decodeUtf8, failure, genericFailureMessage, illegalState, type SaslServer, type SaslStep } from './sasl-server.ts';

/** Where the SCRAM server finds a user's credential for a mechanism. */
export interface ScramCredentialLookup {
  scramCredential(username: string, mechanism: string): ScramCredential | undefined;
}

/** The SCRAM variant a server runs: a digest, the mechanism name, the iteration floor. */
export interface ScramServerMechanism extends ScramDigest {
  readonly name: string;
  readonly minIterations: number;
}

/** Produces the server's nonce part; injectable so tests can replay the RFC exchanges. */
export type NonceSource = () => string;

/** 24 random bytes as base64url: printable, no ','. Kafka uses 130 random bits in base 36. */
export const randomNonce: NonceSource = () => randomBytes(24).toString('base64url');

const TOKEN_AUTH = 'tokenauth';

export class ScramSaslServer implements SaslServer {
  readonly mechanism: string;
  private readonly digest: ScramServerMechanism;
  private readonly credentials: ScramCredentialLookup;
  private readonly nonce: NonceSource;
  private state: 'awaiting-client-first' | 'awaiting-client-final' | 'complete' | 'failed' = 'awaiting-client-first';
  // Between the two messages:
  private clientFirst: ClientFirstMessage | null = null;
  private serverFirst = '';
  private fullNonce = '';
  private credential: ScramCredential | null = null;

  constructor(mechanism: ScramServerMechanism, credentials: ScramCredentialLookup, options: { readonly nonce?: NonceSource } = {}) {
    this.mechanism = mechanism.name;
    this.digest = mechanism;
    this.credentials = credentials;
    this.nonce = options.nonce ?? randomNonce;
  }

  evaluate(token: Uint8Array): SaslStep {
    let step: SaslStep;
    switch (this.state) {
      case 'awaiting-client-first':
        step = this.onClientFirst(token);
        break;
      case 'awaiting-client-final':
        step = this.onClientFinal(token);
        break;
      default:
        return illegalState(this.mechanism, this.state);
    }
    if (step.kind === 'challenge') {
      this.state = 'awaiting-client-final';
    } else {
      this.state = step.kind === 'success' ? 'complete' : 'failed';
      this.clearCredentials();
    }
    return step;
  }

  private refuse(reason: Parameters<typeof failure>[0], detail: string): SaslStep {
    return failure(reason, genericFailureMessage(this.mechanism), detail);
  }

  private onClientFirst(token: Uint8Array): SaslStep {
    const text = decodeUtf8(token);
    if (text === null) return this.refuse('invalid-encoding', 'SCRAM client first message is not valid UTF-8');
    const parsed = parseClientFirst(text);
    if (!parsed.ok) return this.refuse(parsed.reason, parsed.error);
    const first = parsed.value;
    if ((first.extensions.get(TOKEN_AUTH) ?? '').toLowerCase() === 'true') {
      return this.refuse('extensions-not-supported', 'Token authentication (tokenauth=true) requested, but delegation tokens are not supported');
    }
    const credential = this.credentials.scramCredential(first.username, this.mechanism);
    if (credential === undefined) return this.refuse('unknown-user', `Authentication failed: Invalid user credentials for ${JSON.stringify(first.username)}`);
    if (first.authorizationId !== '' && first.authorizationId !== first.username) {
      return failure('other-error', 'Authentication failed: Client requested an authorization id that is different from username');
    }
    if (credential.iterations < this.digest.minIterations) {
      return this.refuse('other-error', `Iterations ${credential.iterations} is less than the minimum ${this.digest.minIterations} for ${this.mechanism}`);
    }
    const serverNonce = this.nonce();
    this.clientFirst = first;
    this.credential = credential;
    this.fullNonce = first.clientNonce + serverNonce;
    this.serverFirst = formatServerFirst(this.fullNonce, credential.salt, credential.iterations);
    return { kind: 'challenge', token: Buffer.from(this.serverFirst, 'utf8') };
  }

  private onClientFinal(token: Uint8Array): SaslStep {
    const first = this.clientFirst as ClientFirstMessage;
    const credential = this.credential as ScramCredential;
    const text = decodeUtf8(token);
    if (text === null) return this.refuse('invalid-encoding', 'SCRAM client final message is not valid UTF-8');
    const parsed = parseClientFinal(text);
    if (!parsed.ok) return this.refuse(parsed.reason, parsed.error);
    const final = parsed.value;
    // Kafka's rule (ScramSaslServer): the final nonce must end with the server-first nonce, not
    // equal it. librdkafka sends its client nonce again in front of the combined one, and Kafka
    // accepts that; the proof covers the message as sent, so nothing is weakened.
    if (!final.nonce.endsWith(this.fullNonce)) return this.refuse('other-error', 'Invalid client nonce in the final client message.');
    if (Buffer.compare(Buffer.from(final.channelBinding), Buffer.from(first.gs2Header, 'utf8')) !== 0) {
      return this.refuse('channel-bindings-dont-match', 'Channel binding (c=) does not match the gs2 header of the client first message');
    }
    const authMessage = `${first.bare},${this.serverFirst},${final.withoutProof}`;
    const clientSignature = hmac(this.digest, credential.storedKey, authMessage);
    if (final.proof.length !== clientSignature.length) return this.refuse('invalid-proof', 'Invalid client credentials (proof length)');
    // ClientKey = ClientProof XOR ClientSignature; the client knew the password iff H(ClientKey) = StoredKey.
    const computedStoredKey = hash(this.digest, xor(final.proof, clientSignature));
    if (!constantTimeEqual(computedStoredKey, credential.storedKey)) return this.refuse('invalid-proof', 'Invalid client credentials');
    const serverSignature = hmac(this.digest, credential.serverKey, authMessage);
    return { kind: 'success', token: Buffer.from(formatServerFinal(serverSignature), 'utf8'), authorizationId: first.username };
  }

  private clearCredentials(): void {
    this.clientFirst = null;
    this.credential = null;
    this.serverFirst = '';
    this.fullNonce = '';
  }
}
