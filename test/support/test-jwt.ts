// A test identity provider for OAUTHBEARER: an RSA key made at test time, its public half as a
// JWKS document (what `sasl.oauthbearer.jwks.endpoint.url` points at) and RS256-signed JWTs.

import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export interface TestIssuer {
  /** The JWKS JSON holding the public key (kid `test-key`). */
  readonly jwks: string;
  /** A compact JWT signed with the private key, carrying `claims`. */
  token(claims: Record<string, unknown>): string;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export function makeTestJwtIssuer(kid = 'test-key'): TestIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = (publicKey as KeyObject).export({ format: 'jwk' });
  return {
    jwks: JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] }),
    token(claims) {
      const signingInput = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
      return `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), privateKey))}`;
    },
  };
}
