// SCRAM mechanisms and credentials (RFC 5802, RFC 7677), as Kafka defines and stores them.
//
// A credential is what the server keeps per (user, mechanism): salt, iteration count, StoredKey
// = H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key").
// Never the password, nor SaltedPassword (which would let its holder log in as the user); Kafka's
// ScramCredential holds the same four values. Passwords are used as UTF-8 bytes without SASLprep,
// as Kafka's ScramFormatter does, so credentials made by Kafka's tools match ours.

import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** The hash behind a SCRAM variant. */
export interface ScramDigest {
  /** node:crypto hash name. */
  readonly hash: string;
  /** Output length of the hash in bytes (the key length). */
  readonly keyLength: number;
}

export interface ScramMechanism extends ScramDigest {
  readonly name: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  /** Kafka's ScramMechanism type code (AlterUserScramCredentials / DescribeUserScramCredentials). */
  readonly type: 1 | 2;
  readonly minIterations: number;
}

/** Kafka's bounds: ScramMechanism.minIterations and ScramControlManager.MAX_ITERATIONS. */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

export const SCRAM_SHA_256: ScramMechanism = Object.freeze({
  name: 'SCRAM-SHA-256',
  type: 1,
  hash: 'sha256',
  keyLength: 32,
  minIterations: SCRAM_MIN_ITERATIONS,
});
export const SCRAM_SHA_512: ScramMechanism = Object.freeze({
  name: 'SCRAM-SHA-512',
  type: 2,
  hash: 'sha512',
  keyLength: 64,
  minIterations: SCRAM_MIN_ITERATIONS,
});
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = Object.freeze([SCRAM_SHA_256, SCRAM_SHA_512]);

export function scramMechanismByName(name: string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.name === name);
}

/** Kafka's ScramMechanism.fromType: 1 and 2; anything else is UNKNOWN (undefined here). */
export function scramMechanismByType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.type === type);
}

export interface ScramCredential {
  readonly salt: Uint8Array;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
  readonly iterations: number;
}

export function hmac(digest: ScramDigest, key: Uint8Array, data: Uint8Array | string): Uint8Array {
  return createHmac(digest.hash, key).update(data).digest();
}

export function hash(digest: ScramDigest, data: Uint8Array): Uint8Array {
  return createHash(digest.hash).update(data).digest();
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error(`xor of ${a.length} and ${b.length} bytes`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC-H, one block. */
export function saltPassword(digest: ScramDigest, password: string, salt: Uint8Array, iterations: number): Uint8Array {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, digest.keyLength, digest.hash);
}

export function clientKey(digest: ScramDigest, saltedPassword: Uint8Array): Uint8Array {
  return hmac(digest, saltedPassword, 'Client Key');
}

/** What AlterUserScramCredentials does with the client's SaltedPassword: keep only the keys. */
export function credentialFromSaltedPassword(digest: ScramDigest, salt: Uint8Array, saltedPassword: Uint8Array, iterations: number): ScramCredential {
  return {
    salt: Uint8Array.from(salt),
    storedKey: hash(digest, clientKey(digest, saltedPassword)),
    serverKey: hmac(digest, saltedPassword, 'Server Key'),
    iterations,
  };
}

/** A credential for `password` (CLI and tests), with a fresh random salt unless one is given. */
export function credentialFromPassword(digest: ScramDigest, password: string, iterations: number, salt: Uint8Array = randomBytes(32)): ScramCredential {
  return credentialFromSaltedPassword(digest, salt, saltPassword(digest, password, salt, iterations), iterations);
}
