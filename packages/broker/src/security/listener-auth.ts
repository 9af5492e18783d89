// What a listener needs to authenticate its connections, resolved once at start from the
// configuration (Kafka's per-listener keys, config.ts) so that a listener it cannot serve fails
// the start with one line naming the key, never at the first client:
// - PLAINTEXT: nothing; every connection is `User:ANONYMOUS`.
// - SASL_PLAINTEXT: `sasl.enabled.mechanisms` checked against what Sluice serves and the
//   credential sources configured (PLAIN: the listener's JAAS `user_<name>` options; SCRAM: the
//   broker's credential store; OAUTHBEARER: the JWKS file of `sasl.oauthbearer.jwks.endpoint.url`),
//   `sasl.server.max.receive.size`, `connections.max.reauth.ms` (per mechanism too) and
//   `sluice.authentication.timeout.ms`; `newAuthenticator()` gives each connection its state machine.
// - SSL: no SASL (the principal comes from the client certificate, if any); SASL_SSL: SASL as
//   SASL_PLAINTEXT, over the TLS session the native writer runs.

import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrokerConfig, Listener } from '../config.ts';
import { isSaslProtocol, type SecurityProtocol } from './listener-security.ts';
import { JwksKeySet, JwtTokenValidator } from './sasl/jwt.ts';
import { type CredentialSources, saslServerFactory } from './sasl/mechanisms.ts';
import { OAUTHBEARER } from './sasl/oauthbearer.ts';
import { PLAIN } from './sasl/plain.ts';
import { plainCredentialsFromJaasConfig } from './sasl/plain-credentials.ts';
import { SaslAuthenticator } from './sasl/sasl-authenticator.ts';
import type { ScramCredentialLookup } from './sasl/scram-server.ts';

export interface SaslListenerSettings {
  readonly mechanisms: readonly string[];
  /** `sasl.server.max.receive.size`: the frame limit until the connection has authenticated. */
  readonly maxReceiveBytes: number;
  /** `sluice.authentication.timeout.ms`: how long a connection may take to authenticate. */
  readonly authenticationTimeoutMs: number;
  newAuthenticator(): SaslAuthenticator;
}

export interface ListenerAuth {
  readonly listener: string;
  readonly protocol: SecurityProtocol;
  /** Null on listeners without SASL. */
  readonly sasl: SaslListenerSettings | null;
}

export class ListenerAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenerAuthError';
  }
}

/** Resolves a listener's authentication settings; throws ListenerAuthError naming the problem. */
export function listenerAuth(config: BrokerConfig, listener: Listener, scram: ScramCredentialLookup): ListenerAuth {
  const base = { listener: listener.name, protocol: listener.securityProtocol };
  if (!isSaslProtocol(listener.securityProtocol)) return { ...base, sasl: null };
  const name = listener.name;
  const mechanisms = config.listenerValue(name, 'sasl.enabled.mechanisms') as string[];
  const sources: { plain?: CredentialSources['plain']; scram?: ScramCredentialLookup; oauthbearer?: CredentialSources['oauthbearer'] } = { scram };
  try {
    if (mechanisms.includes(PLAIN)) {
      const jaas = config.listenerValue(name, 'sasl.jaas.config', PLAIN);
      const key = config.listenerKeyName(name, 'sasl.jaas.config', PLAIN);
      if (typeof jaas === 'string' && jaas.trim() !== '') sources.plain = plainCredentialsFromJaasConfig(jaas, key);
    }
    if (mechanisms.includes(OAUTHBEARER)) sources.oauthbearer = oauthValidator(config, name);
    const createServer = saslServerFactory(name, mechanisms, sources);
    const reauthMs = new Map(mechanisms.map((m) => [m, config.listenerValue(name, 'connections.max.reauth.ms', m) as number]));
    const maxReceiveBytes = config.listenerValue(name, 'sasl.server.max.receive.size') as number;
    const authenticationTimeoutMs = config.listenerValue(name, 'sluice.authentication.timeout.ms') as number;
    return {
      ...base,
      sasl: {
        mechanisms,
        maxReceiveBytes,
        authenticationTimeoutMs,
        newAuthenticator: () => new SaslAuthenticator({ enabledMechanisms: mechanisms, createServer, maxReauthMs: (m) => reauthMs.get(m) ?? 0 }),
      },
    };
  } catch (err) {
    if (err instanceof ListenerAuthError) throw err;
    throw new ListenerAuthError(`listener ${name}: ${(err as Error).message}`);
  }
}

/**
 * OAUTHBEARER's validator over the JWKS file of `sasl.oauthbearer.jwks.endpoint.url` (a `file:`
 * URL). Each `sasl.oauthbearer.*` key is read as Kafka's validator reads it: per listener and
 * mechanism (`listener.name.<l>.oauthbearer.<key>`), per listener, then broker-wide. The file is read again when its modification time changes, so keys rotate without a
 * restart; a rotation that does not parse keeps the previous keys (and is logged by the caller's
 * failed validations).
 */
function oauthValidator(config: BrokerConfig, listener: string): JwtTokenValidator {
  const url = config.listenerValue(listener, 'sasl.oauthbearer.jwks.endpoint.url', OAUTHBEARER);
  if (typeof url !== 'string' || url === '')
    throw new ListenerAuthError(`listener ${listener}: OAUTHBEARER is enabled but sasl.oauthbearer.jwks.endpoint.url is not set`);
  if (!url.startsWith('file:'))
    throw new ListenerAuthError(`listener ${listener}: sasl.oauthbearer.jwks.endpoint.url must be a file: URL (HTTPS JWKS endpoints are not supported yet)`);
  const path = fileURLToPath(url);
  let keys = JwksKeySet.fromJson(readFileSync(path, 'utf8'));
  let mtime = statSync(path).mtimeMs;
  const current = () => {
    try {
      const m = statSync(path).mtimeMs;
      if (m !== mtime) {
        keys = JwksKeySet.fromJson(readFileSync(path, 'utf8'));
        mtime = m;
      }
    } catch {
      // Keep the last good keys; the file may be mid-rotation.
    }
    return keys;
  };
  const audiences = config.listenerValue(listener, 'sasl.oauthbearer.expected.audience', OAUTHBEARER) as string[];
  const issuer = config.listenerValue(listener, 'sasl.oauthbearer.expected.issuer', OAUTHBEARER);
  return new JwtTokenValidator(current, {
    ...(audiences.length > 0 ? { expectedAudiences: audiences } : {}),
    ...(typeof issuer === 'string' && issuer !== '' ? { expectedIssuer: issuer } : {}),
    clockSkewSeconds: config.listenerValue(listener, 'sasl.oauthbearer.clock.skew.seconds', OAUTHBEARER) as number,
    subClaimName: config.listenerValue(listener, 'sasl.oauthbearer.sub.claim.name', OAUTHBEARER) as string,
    scopeClaimName: config.listenerValue(listener, 'sasl.oauthbearer.scope.claim.name', OAUTHBEARER) as string,
  });
}
