// Which SASL mechanisms Sluice serves, and a factory of servers for a listener's enabled ones.
// Kafka's default `sasl.enabled.mechanisms` is GSSAPI (Kerberos), which Sluice does not serve:
// a listener that enables a mechanism missing here is refused at start with a message naming it,
// never silently served without it.

import { OAUTHBEARER, type OAuthBearerTokenValidator, OAuthBearerSaslServer } from './oauthbearer.ts';
import type { PlainCredentialSource } from './plain.ts';
import { PLAIN, PlainSaslServer } from './plain.ts';
import { SCRAM_MECHANISMS, scramMechanismByName } from './scram-credential.ts';
import type { NonceSource, ScramCredentialLookup } from './scram-server.ts';
import { ScramSaslServer } from './scram-server.ts';
import type { SaslServer } from './sasl-server.ts';

export const SUPPORTED_SASL_MECHANISMS: readonly string[] = Object.freeze([PLAIN, ...SCRAM_MECHANISMS.map((m) => m.name), OAUTHBEARER]);

export interface CredentialSources {
  /** Needed when PLAIN is enabled. */
  readonly plain?: PlainCredentialSource;
  /** Needed when a SCRAM mechanism is enabled. */
  readonly scram?: ScramCredentialLookup;
  /** Needed when OAUTHBEARER is enabled: JWT validation against the configured JWKS. */
  readonly oauthbearer?: OAuthBearerTokenValidator;
  /** SCRAM server nonces; random unless a test injects them. */
  readonly nonce?: NonceSource;
}

/**
 * Checks a listener's `sasl.enabled.mechanisms` against what Sluice serves and the credential
 * sources configured, and returns the SaslServer factory for it. Throws naming the problem.
 */
export function saslServerFactory(listener: string, enabled: readonly string[], sources: CredentialSources): (mechanism: string) => SaslServer {
  if (enabled.length === 0) throw new Error(`listener ${listener}: sasl.enabled.mechanisms is empty`);
  for (const m of enabled) {
    if (!SUPPORTED_SASL_MECHANISMS.includes(m))
      throw new Error(`listener ${listener}: SASL mechanism ${m} is not supported (supported: ${SUPPORTED_SASL_MECHANISMS.join(', ')})`);
    if (m === PLAIN && sources.plain === undefined)
      throw new Error(
        `listener ${listener}: PLAIN is enabled but no PLAIN credentials are configured (listener.name.${listener.toLowerCase()}.plain.sasl.jaas.config)`,
      );
    if (m === OAUTHBEARER && sources.oauthbearer === undefined)
      throw new Error(`listener ${listener}: OAUTHBEARER is enabled but no token validator is configured (sasl.oauthbearer.jwks.endpoint.url)`);
    if (scramMechanismByName(m) !== undefined && sources.scram === undefined)
      throw new Error(`listener ${listener}: ${m} is enabled but no SCRAM credential store is configured`);
  }
  return (mechanism) => {
    if (!enabled.includes(mechanism)) throw new Error(`SASL mechanism ${mechanism} is not enabled on listener ${listener}`);
    if (mechanism === PLAIN) return new PlainSaslServer(sources.plain as PlainCredentialSource);
    if (mechanism === OAUTHBEARER) return new OAuthBearerSaslServer(sources.oauthbearer as OAuthBearerTokenValidator);
    const scram = scramMechanismByName(mechanism);
    if (scram === undefined) throw new Error(`unreachable: ${mechanism} validated above`);
    return new ScramSaslServer(scram, sources.scram as ScramCredentialLookup, sources.nonce === undefined ? {} : { nonce: sources.nonce });
  };
}
