// How this broker connects to the other brokers (replica fetchers), as Kafka's inter-broker
// client does: over the inter-broker listener (`inter.broker.listener.name`, else the listener
// named by `security.inter.broker.protocol`) of the target broker, with that listener's security
// protocol; TLS trust and the client certificate from the listener's ssl.* settings; SASL with
// `sasl.mechanism.inter.broker.protocol` and the user name / password of the listener's JAAS
// config for that mechanism (`listener.name.<l>.<mech>.sasl.jaas.config`, else
// `sasl.jaas.config`): the `username` / `password` options of Kafka's PlainLoginModule and
// ScramLoginModule. Read once at start; every problem is a ConfigError naming the key.
//
// node:tls reads PEM only, so the trust store must be PEM (`ssl.truststore.type=PEM` with a
// location or inline certificates); a client key store may be PEM or PKCS12.

import { readFileSync } from 'node:fs';
import { type ClientTlsOptions, type ConnectionOptions, SASL_MECHANISMS, type SaslMechanism } from '@sluice/client';
import { type BrokerConfig, ConfigError } from '../config.ts';
import { isSaslProtocol, isTlsProtocol } from '../security/index.ts';
import { parseJaasConfig } from '../security/sasl/jaas.ts';
import { tlsSettingsFrom } from '../tls-listener.ts';

export type InterBrokerConnection = Pick<ConnectionOptions, 'tls' | 'sasl'>;

export function interBrokerConnection(config: BrokerConfig): InterBrokerConnection {
  const listener = config.interBrokerListener;
  return {
    tls: isTlsProtocol(listener.securityProtocol) ? interBrokerTls(config, listener.name) : undefined,
    sasl: isSaslProtocol(listener.securityProtocol) ? interBrokerSasl(config, listener.name) : undefined,
  };
}

function readPem(config: BrokerConfig, listener: string, key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(config.listenerKeyName(listener, key), `cannot read ${path} for inter-broker TLS: ${(err as Error).message}`);
  }
}

function interBrokerTls(config: BrokerConfig, listener: string): ClientTlsOptions {
  const s = tlsSettingsFrom(config, listener);
  let ca: string | undefined;
  if (s.truststoreCertificates !== undefined) ca = s.truststoreCertificates;
  else if (s.truststoreLocation !== undefined) {
    if ((s.truststoreType ?? 'JKS').toUpperCase() !== 'PEM') {
      throw new ConfigError(
        config.listenerKeyName(listener, 'ssl.truststore.type'),
        `the inter-broker listener ${listener} needs a PEM trust store (ssl.truststore.type=PEM) for the brokers' own connections`,
      );
    }
    ca = readPem(config, listener, 'ssl.truststore.location', s.truststoreLocation);
  }
  let cert: string | undefined;
  let key: string | undefined;
  let pfx: Buffer | undefined;
  if (s.keystoreCertificateChain !== undefined && s.keystoreKey !== undefined) {
    cert = s.keystoreCertificateChain;
    key = s.keystoreKey;
  } else if (s.keystoreLocation !== undefined) {
    if ((s.keystoreType ?? 'JKS').toUpperCase() === 'PEM') {
      // One file with the key and the chain: OpenSSL's PEM reader picks the blocks it needs.
      cert = readPem(config, listener, 'ssl.keystore.location', s.keystoreLocation);
      key = cert;
    } else {
      pfx = readFileSync(s.keystoreLocation);
    }
  }
  return { ca, cert, key, pfx, passphrase: pfx !== undefined ? s.keystorePassword : s.keyPassword };
}

function interBrokerSasl(config: BrokerConfig, listener: string): { mechanism: SaslMechanism; username: string; password: string } {
  const mechanismKey = config.listenerKeyName(listener, 'sasl.mechanism.inter.broker.protocol');
  const mechanism = String(config.listenerValue(listener, 'sasl.mechanism.inter.broker.protocol')).toUpperCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new ConfigError(
      mechanismKey,
      `${mechanism} cannot be used between brokers; the inter-broker listener ${listener} is SASL: set ${mechanismKey} to one of ${SASL_MECHANISMS.join(', ')}`,
    );
  }
  const jaasKey = config.listenerKeyName(listener, 'sasl.jaas.config', mechanism);
  const jaas = config.listenerValue(listener, 'sasl.jaas.config', mechanism);
  const missing = `the inter-broker listener ${listener} uses SASL ${mechanism}: its JAAS config (listener.name.${listener.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config) must give this broker's username and password`;
  if (jaas === null || jaas === '') throw new ConfigError(jaasKey, missing);
  const modules = parseJaasConfig(String(jaas));
  const options = modules[0]?.options;
  const username = options?.get('username');
  const password = options?.get('password');
  if (username === undefined || password === undefined) throw new ConfigError(jaasKey, missing);
  return { mechanism: mechanism as SaslMechanism, username, password };
}
