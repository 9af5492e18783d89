// JWT access-token validation for SASL/OAUTHBEARER, as Kafka's broker validator does it
// (BrokerJwtValidator over jose4j, KIP-768), against keys from a JWKS document.
//
// A token is accepted when:
// - it is a JWS in compact form (three base64url parts) whose header names an algorithm other
//   than "none": RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA;
// - a key of the JWKS verifies its signature: the key whose `kid` is the header's, or, without a
//   `kid`, the only key of a fitting type; a key whose `alg` or `use` says otherwise is not used;
// - `exp` and `iat` are present (numbers); now - clock skew is before `exp`; when `nbf` is
//   present, now + clock skew is not before it;
// - `aud`: when expected audiences are configured (`sasl.oauthbearer.expected.audience`), one of
//   the token's audiences is among them; when none are configured, a token that carries an `aud`
//   is refused (jose4j's default, which Kafka keeps);
// - `iss` equals `sasl.oauthbearer.expected.issuer` when that is configured;
// - the subject claim (`sasl.oauthbearer.sub.claim.name`, default `sub`) is a non-blank string:
//   trimmed, it is the principal name;
// - the scope claim (`sasl.oauthbearer.scope.claim.name`, default `scope`), when present, is a
//   string or a list of non-blank strings.
// The clock is a parameter (tests and the broker's clock); the JWKS is parsed once per document
// (the wiring reloads it from `sasl.oauthbearer.jwks.endpoint.url`: a file, or HTTPS).

import { createPublicKey, type KeyObject, verify as verifySignature, constants } from 'node:crypto';

export interface JwtValidationOptions {
  readonly expectedAudiences?: readonly string[];
  readonly expectedIssuer?: string;
  /** `sasl.oauthbearer.clock.skew.seconds`; Kafka's default is 30. */
  readonly clockSkewSeconds?: number;
  readonly subClaimName?: string;
  readonly scopeClaimName?: string;
}

export type JwtValidation =
  | { readonly ok: true; readonly principalName: string; readonly expiresAtMs: number; readonly issuedAtMs: number; readonly scopes: readonly string[] }
  | { readonly ok: false; readonly error: string };

interface Jwk {
  readonly key: KeyObject;
  readonly kid: string | undefined;
  readonly kty: string;
  readonly alg: string | undefined;
  readonly use: string | undefined;
}

const ALGORITHMS: Readonly<Record<string, { kty: string; hash: string | null; pss?: boolean; curve?: string }>> = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { kty: 'EC', hash: 'sha256', curve: 'P-256' },
  ES384: { kty: 'EC', hash: 'sha384', curve: 'P-384' },
  ES512: { kty: 'EC', hash: 'sha512', curve: 'P-521' },
  EdDSA: { kty: 'OKP', hash: null },
};

/** The public keys of a JWKS document (`{"keys": [...]}`); keys of unknown types are skipped. */
export class JwksKeySet {
  private readonly keys: readonly Jwk[];

  private constructor(keys: Jwk[]) {
    this.keys = keys;
  }

  /** Parses a JWKS document; throws when it is not one or holds no usable public key. */
  static fromJson(text: string): JwksKeySet {
    const doc = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(doc.keys)) throw new Error('JWKS: no "keys" array');
    const keys: Jwk[] = [];
    for (const raw of doc.keys as Array<Record<string, unknown>>) {
      if (raw === null || typeof raw !== 'object' || !['RSA', 'EC', 'OKP'].includes(raw.kty as string)) continue;
      if ('d' in raw) throw new Error(`JWKS: key ${String(raw.kid)} holds a private key; publish only public keys`);
      const key = createPublicKey({ key: raw as never, format: 'jwk' });
      keys.push({ key, kid: raw.kid as string | undefined, kty: raw.kty as string, alg: raw.alg as string | undefined, use: raw.use as string | undefined });
    }
    if (keys.length === 0) throw new Error('JWKS: no RSA, EC or OKP public key');
    return new JwksKeySet(keys);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The key for a token header, or an error saying why there is none. */
  select(kid: string | undefined, alg: string): KeyObject | string {
    const spec = ALGORITHMS[alg] as (typeof ALGORITHMS)[string];
    const fits = (k: Jwk) => k.kty === spec.kty && (k.alg === undefined || k.alg === alg) && (k.use === undefined || k.use === 'sig');
    if (kid !== undefined) {
      const k = this.keys.find((x) => x.kid === kid);
      if (k === undefined) return `no JWKS key with kid ${JSON.stringify(kid)}`;
      if (!fits(k)) return `JWKS key ${JSON.stringify(kid)} does not fit algorithm ${alg}`;
      return k.key;
    }
    const candidates = this.keys.filter(fits);
    if (candidates.length !== 1) return `the token has no kid and ${candidates.length} JWKS keys fit algorithm ${alg}`;
    return (candidates[0] as Jwk).key;
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodeJson(part: string, what: string): Record<string, unknown> | string {
  if (!B64URL.test(part)) return `${what} is not base64url`;
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : `${what} is not a JSON object`;
  } catch {
    return `${what} is not JSON`;
  }
}

function checkSignature(alg: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const spec = ALGORITHMS[alg] as (typeof ALGORITHMS)[string];
  if (spec.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== undefined) {
    const curves: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
    if (key.asymmetricKeyDetails.namedCurve !== curves[spec.curve]) return false;
  }
  try {
    if (spec.kty === 'EC') return verifySignature(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (spec.pss === true)
      return verifySignature(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    return verifySignature(spec.hash, data, key, signature);
  } catch {
    return false;
  }
}

const bad = (error: string): JwtValidation => ({ ok: false, error: `Could not validate the access token: ${error}` });

export function validateJwt(token: string, keys: JwksKeySet, options: JwtValidationOptions, nowMs: number): JwtValidation {
  const parts = token.split('.');
  if (parts.length !== 3) return bad('not a JWS in compact serialization (three parts)');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h, 'the header');
  if (typeof header === 'string') return bad(header);
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === 'none') return bad(`algorithm ${JSON.stringify(alg)} is not allowed`);
  if (ALGORITHMS[alg] === undefined) return bad(`algorithm ${alg} is not supported`);
  if (header.crit !== undefined) return bad('critical header parameters are not supported');
  const key = keys.select(typeof header.kid === 'string' ? header.kid : undefined, alg);
  if (typeof key === 'string') return bad(key);
  if (!B64URL.test(s)) return bad('the signature is not base64url');
  if (!checkSignature(alg, key, Buffer.from(`${h}.${p}`, 'ascii'), Buffer.from(s, 'base64url'))) return bad('invalid signature');
  const claims = decodeJson(p, 'the payload');
  if (typeof claims === 'string') return bad(claims);

  const skewMs = (options.clockSkewSeconds ?? 30) * 1000;
  const { exp, iat, nbf, aud, iss } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return bad('no expiration time (exp) claim');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return bad('no issued at (iat) claim');
  if (exp < 0 || iat < 0) return bad('negative exp or iat');
  if (nowMs - skewMs >= exp * 1000) return bad(`the token expired at ${new Date(exp * 1000).toISOString()}`);
  if (nbf !== undefined && (typeof nbf !== 'number' || nowMs + skewMs < nbf * 1000)) return bad('the token is not yet valid (nbf)');
  const audiences = aud === undefined ? [] : Array.isArray(aud) ? aud : [aud];
  const expected = options.expectedAudiences ?? [];
  if (expected.length > 0) {
    if (!audiences.some((a) => typeof a === 'string' && expected.includes(a)))
      return bad(`audience ${JSON.stringify(aud)} is not one of ${JSON.stringify(expected)}`);
  } else if (aud !== undefined) {
    return bad(`the token has an audience (${JSON.stringify(aud)}) but no expected audience is configured`);
  }
  if (options.expectedIssuer !== undefined && iss !== options.expectedIssuer)
    return bad(`issuer ${JSON.stringify(iss)} is not ${JSON.stringify(options.expectedIssuer)}`);
  const subName = options.subClaimName ?? 'sub';
  const sub = claims[subName];
  if (typeof sub !== 'string' || sub.trim() === '') return bad(`the ${subName} claim is missing or empty`);
  const scopeName = options.scopeClaimName ?? 'scope';
  const scopeRaw = claims[scopeName];
  const scopes = typeof scopeRaw === 'string' ? [scopeRaw] : Array.isArray(scopeRaw) ? scopeRaw : [];
  if (scopes.some((x) => typeof x !== 'string' || x.trim() === '')) return bad(`the ${scopeName} claim holds an empty or non-string value`);
  return { ok: true, principalName: sub.trim(), expiresAtMs: exp * 1000, issuedAtMs: iat * 1000, scopes: scopes.map((x) => (x as string).trim()) };
}

/**
 * The OAUTHBEARER token validator over a JWKS: `keys` is read on every validation, so the wiring
 * can swap in a reloaded JWKS (file change, HTTPS refresh) without rebuilding servers.
 */
export class JwtTokenValidator {
  private readonly keys: () => JwksKeySet;
  private readonly options: JwtValidationOptions;
  private readonly now: () => number;

  constructor(keys: JwksKeySet | (() => JwksKeySet), options: JwtValidationOptions = {}, now: () => number = Date.now) {
    this.keys = typeof keys === 'function' ? keys : () => keys;
    this.options = options;
    this.now = now;
  }

  validate(token: string): { ok: true; principalName: string; expiresAtMs: number } | { ok: false; error: string } {
    const r = validateJwt(token, this.keys(), this.options, this.now());
    return r.ok ? { ok: true, principalName: r.principalName, expiresAtMs: r.expiresAtMs } : r;
  }
}
