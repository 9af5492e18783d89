// The TLS side of SSL and SASL_SSL listeners: per listener, the server config built from its
// ssl.* settings (once, then again when a key store or trust store file changes) and the
// principal of a connection from its client certificate. Each ssl.* key is read as Kafka reads
// it for that listener: `listener.name.<listener>.<key>`, else the broker-wide `<key>`, so two TLS
// listeners may have different certificates, trust stores or client-auth modes. The TLS session
// itself runs in the Rust data plane (crates/sluice-log writer, crates/sluice-tls); see
// connection.ts for how a TLS connection's bytes reach the request path.
//
// Certificate reload: by file watch (fs.watchFile, polling every `RELOAD_POLL_MS`, so editors
// that replace the file by rename are seen too). A changed file is loaded whole into a new
// config; new connections get it, open ones keep theirs (as Kafka's reconfigured SslFactory).
// A file that does not load (half-written, wrong password) keeps the previous config and logs
// why. Not through AlterConfigs: the ssl.* keys stay read-only there.

import { unwatchFile, watchFile } from 'node:fs';
import { TlsConfig, type TlsSettings } from '@sluice/native';
import type { BrokerConfig } from './config.ts';
import { ConfigError } from './config.ts';
import type { Logger } from './logger.ts';
import { ANONYMOUS_PRINCIPAL, SslPrincipalMapper, userPrincipal } from './security/index.ts';

const RELOAD_POLL_MS = 1000;

/** Kafka's ssl.* keys, as `listener` sees them, as the native settings object (absent keys left out). */
export function tlsSettingsFrom(config: BrokerConfig, listener: string): TlsSettings {
  const opt = (key: string): string | undefined => {
    const v = config.listenerValue(listener, key);
    return v === null || v === '' ? undefined : String(v);
  };
  const list = (key: string): string[] | undefined => {
    const v = (config.listenerValue(listener, key) as string[] | null) ?? [];
    return v.length > 0 ? v : undefined;
  };
  return {
    keystoreType: opt('ssl.keystore.type'),
    keystoreLocation: opt('ssl.keystore.location'),
    keystorePassword: opt('ssl.keystore.password'),
    keyPassword: opt('ssl.key.password'),
    keystoreCertificateChain: opt('ssl.keystore.certificate.chain'),
    keystoreKey: opt('ssl.keystore.key'),
    truststoreType: opt('ssl.truststore.type'),
    truststoreLocation: opt('ssl.truststore.location'),
    truststorePassword: opt('ssl.truststore.password'),
    truststoreCertificates: opt('ssl.truststore.certificates'),
    clientAuth: opt('ssl.client.auth'),
    enabledProtocols: list('ssl.enabled.protocols'),
    cipherSuites: list('ssl.cipher.suites'),
  };
}

/**
 * A TLS config error as the broker's ConfigError naming the key as it was set for the listener
 * (the native message starts with the setting's plain name).
 */
function asConfigError(err: unknown, config: BrokerConfig, listener: string): ConfigError {
  const message = (err as Error).message;
  const m = /^([a-z.]+): (.*)$/s.exec(message);
  const key = m?.[1] ?? 'ssl.keystore.location';
  return new ConfigError(config.listenerKeyName(listener, key), m?.[2] ?? message);
}

/** One TLS listener's server config, principal mapping and certificate reload. */
export class TlsListenerConfig {
  readonly listener: string;
  readonly handshakeTimeoutMs: number;
  private config: TlsConfig;
  private readonly settings: TlsSettings;
  private readonly mapper: SslPrincipalMapper;
  private readonly watched: string[] = [];
  private readonly log: Logger;

  /** Throws ConfigError naming the setting when the listener's ssl.* settings do not make a config. */
  constructor(brokerConfig: BrokerConfig, listener: string, logger: Logger) {
    this.listener = listener;
    this.log = logger;
    this.settings = tlsSettingsFrom(brokerConfig, listener);
    this.handshakeTimeoutMs = brokerConfig.int('sluice.ssl.handshake.timeout.ms');
    try {
      this.config = new TlsConfig(this.settings);
    } catch (err) {
      throw asConfigError(err, brokerConfig, listener);
    }
    this.mapper = new SslPrincipalMapper(brokerConfig.listenerValue(listener, 'ssl.principal.mapping.rules') as string);
    for (const path of [this.settings.keystoreLocation, this.settings.truststoreLocation]) {
      if (path === undefined || path === null) continue;
      watchFile(path, { interval: RELOAD_POLL_MS, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload(path);
      });
      this.watched.push(path);
    }
  }

  /** The config new connections get. */
  get current(): TlsConfig {
    return this.config;
  }

  /**
   * The principal of a TLS connection: `User:ANONYMOUS` without a client certificate, else
   * `User:` + the subject through ssl.principal.mapping.rules. Throws NoMatchingRuleError when
   * no rule applies (the connection is refused, as Kafka fails its authentication).
   */
  principalOf(peerSubject: string | undefined): string {
    if (peerSubject === undefined) return ANONYMOUS_PRINCIPAL;
    return userPrincipal(this.mapper.name(peerSubject));
  }

  close(): void {
    for (const path of this.watched) unwatchFile(path);
    this.watched.length = 0;
  }

  private reload(path: string): void {
    try {
      this.config = new TlsConfig(this.settings);
      this.log.info({ listener: this.listener, file: path }, 'TLS certificates reloaded; new connections use them');
    } catch (err) {
      this.log.error(
        { listener: this.listener, file: path, err: (err as Error).message },
        'TLS certificates changed but do not load; keeping the previous ones',
      );
    }
  }
}
