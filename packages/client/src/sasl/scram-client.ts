// The client's side of SCRAM (RFC 5802, with RFC 7677's SHA-256 and Kafka's SHA-512): three
// messages, no channel binding ("n,," — Kafka has none), and the server's signature checked at
// the end so a broker that does not know the password cannot pass as the real one.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

const DIGESTS: Record<ScramMechanism, { hash: 'sha256' | 'sha512'; bytes: number }> = {
  'SCRAM-SHA-256': { hash: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { hash: 'sha512', bytes: 64 },
};

/** Kafka refuses fewer (its ScramMechanism minIterations); a server asking for fewer is not trusted. */
const MIN_ITERATIONS = 4096;
const GS2_HEADER = 'n,,';

export class ScramClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramClientError';
  }
}

/** RFC 5802 saslname: ',' and '=' escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new ScramClientError(`malformed SCRAM message: ${JSON.stringify(message)}`);
    out.set(part[0], part.slice(2));
  }
  return out;
}

/** One SCRAM exchange: firstMessage, then finalMessage(serverFirst), then verifyServerFinal(serverFinal). */
export class ScramClient {
  private readonly hash: 'sha256' | 'sha512';
  private readonly keyBytes: number;
  private readonly clientFirstBare: string;
  private readonly clientNonce: string;
  private readonly password: string;
  private expectedServerSignature: Buffer | null = null;

  constructor(
    mechanism: ScramMechanism,
    username: string,
    password: string,
    /** Fixed only by tests (RFC 7677's example); random otherwise. */
    nonce: string = randomBytes(24).toString('base64url'),
  ) {
    this.password = password;
    const d = DIGESTS[mechanism];
    if (d === undefined) throw new ScramClientError(`unknown SCRAM mechanism ${mechanism}`);
    this.hash = d.hash;
    this.keyBytes = d.bytes;
    this.clientNonce = nonce;
    this.clientFirstBare = `n=${saslName(username)},r=${nonce}`;
  }

  firstMessage(): string {
    return GS2_HEADER + this.clientFirstBare;
  }

  /** The client-final message with the proof, for the server-first message. */
  finalMessage(serverFirst: string): string {
    const attrs = attributes(serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations)) {
      throw new ScramClientError(`SCRAM server-first message lacks r, s or i: ${JSON.stringify(serverFirst)}`);
    }
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw new ScramClientError('SCRAM server nonce does not extend the client nonce');
    }
    if (iterations < MIN_ITERATIONS) throw new ScramClientError(`SCRAM server asks for ${iterations} iterations, fewer than ${MIN_ITERATIONS}`);
    const salted = pbkdf2Sync(this.password.normalize('NFKC'), Buffer.from(salt, 'base64'), iterations, this.keyBytes, this.hash);
    const clientKey = this.hmac(salted, 'Client Key');
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ clientSignature[i];
    this.expectedServerSignature = this.hmac(this.hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Throws unless the server-final message carries the signature only a holder of the password's keys can make. */
  verifyServerFinal(serverFinal: string): void {
    const attrs = attributes(serverFinal);
    const error = attrs.get('e');
    if (error !== undefined) throw new ScramClientError(`SCRAM authentication failed: ${error}`);
    const v = attrs.get('v');
    if (v === undefined || this.expectedServerSignature === null) throw new ScramClientError('SCRAM server-final message has no signature');
    const got = Buffer.from(v, 'base64');
    if (got.length !== this.expectedServerSignature.length || !timingSafeEqual(got, this.expectedServerSignature)) {
      throw new ScramClientError("SCRAM server signature does not match: the server does not hold this user's credentials");
    }
  }

  private hmac(key: Buffer, text: string): Buffer {
    return createHmac(this.hash, key).update(text).digest();
  }
}
