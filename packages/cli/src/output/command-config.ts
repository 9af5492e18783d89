// --command-config FILE: client properties in Kafka's format, as Kafka's tools take them
// (`kafka-topics.sh --command-config client.properties`). What @sluice/client supports is
// applied, security included: `security.protocol` SSL / SASL_SSL / SASL_PLAINTEXT, the trust
// store as PEM (`ssl.truststore.location` with `ssl.truststore.type=PEM` or unset, or
// `ssl.truststore.certificates`), a PEM key store for mTLS, `sasl.mechanism` PLAIN or
// SCRAM-SHA-256/512 with the username/password of `sasl.jaas.config`. Security settings it
// cannot honour (a JKS trust store, GSSAPI, no credentials) are refused with a usage error
// rather than ignored, so a command never talks plaintext or unauthenticated to a broker the
// user meant to reach securely. Other keys are reported the way Kafka's clients log them
// ("…was supplied but isn't a known config") and ignored.

import { readFileSync } from 'node:fs';
import { JaasParseError, parseJaasConfig } from '@sluice/broker';
import { type ClientOptions, type ClientTlsOptions, SASL_MECHANISMS, type SaslCredentials, type SaslMechanism, UsageError } from '@sluice/client';

/** Parses Java properties text: `key=value`, `key: value` or `key value`; `#`/`!` comments; `\` continues a line. */
export function parseClientProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trimStart();
    const m = /^((?:[^=:\s\\]|\\.)+)\s*[=:\s]\s*(.*)$/.exec(line) ?? /^((?:[^=:\s\\]|\\.)+)$/.exec(line);
    if (m === null) continue;
    const unescapeText = (s: string) => s.replace(/\\(.)/g, (_all, c: string) => ({ t: '\t', n: '\n', r: '\r', f: '\f' })[c] ?? c);
    out.set(unescapeText(m[1]), unescapeText((m[2] ?? '').trimEnd()));
  }
  return out;
}

/** Kafka client keys this client applies, and how. */
const APPLIED: Record<string, (value: string, options: Partial<Mutable<ClientOptions>>) => void> = {
  'client.id': (v, o) => {
    o.clientId = v;
  },
  'request.timeout.ms': (v, o) => {
    o.requestTimeoutMs = positiveInt('request.timeout.ms', v);
  },
  'socket.connection.setup.timeout.ms': (v, o) => {
    o.connectTimeoutMs = positiveInt('socket.connection.setup.timeout.ms', v);
  },
  // Read with the ssl.* / sasl.* keys after the loop (securityOptions).
  'security.protocol': () => {},
  // The tools take the servers from --bootstrap-server; Kafka's do the same when both are given.
  'bootstrap.servers': () => {},
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function positiveInt(key: string, value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${key}=${value} in --command-config is not a positive integer`);
  return n;
}

/** Prefixes of the security settings that need TLS or SASL. */
const SECURITY_PREFIXES = ['ssl.', 'sasl.'];
const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
/** The ssl.* / sasl.* keys securityOptions reads. */
const SECURITY_KEYS = new Set([
  'ssl.truststore.location',
  'ssl.truststore.type',
  'ssl.truststore.certificates',
  'ssl.keystore.location',
  'ssl.keystore.type',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.key',
  'sasl.mechanism',
  'sasl.jaas.config',
]);

function readPemFile(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${key}=${path} in --command-config: ${(err as Error).message}`);
  }
}

function tlsOptions(props: ReadonlyMap<string, string>): ClientTlsOptions {
  let ca = props.get('ssl.truststore.certificates');
  const truststore = props.get('ssl.truststore.location');
  if (ca === undefined && truststore !== undefined) {
    const type = (props.get('ssl.truststore.type') ?? 'PEM').toUpperCase();
    if (type !== 'PEM') {
      throw new UsageError(
        `ssl.truststore.type=${type} in --command-config: the sluice command reads PEM trust stores only`,
        'convert it: keytool -exportcert -rfc, or openssl pkcs12 -nokeys',
      );
    }
    ca = readPemFile('ssl.truststore.location', truststore);
  }
  let cert = props.get('ssl.keystore.certificate.chain');
  let key = props.get('ssl.keystore.key');
  const keystore = props.get('ssl.keystore.location');
  if (cert === undefined && keystore !== undefined) {
    const type = (props.get('ssl.keystore.type') ?? 'PEM').toUpperCase();
    if (type !== 'PEM')
      throw new UsageError(`ssl.keystore.type=${type} in --command-config: the sluice command reads PEM key stores only (key and chain in one file)`);
    cert = readPemFile('ssl.keystore.location', keystore);
    key = cert;
  }
  return { ca, cert, key };
}

function saslCredentials(props: ReadonlyMap<string, string>): SaslCredentials {
  // Kafka's default mechanism is GSSAPI, which this client does not speak: say so rather than guess.
  const mechanism = (props.get('sasl.mechanism') ?? 'GSSAPI').toUpperCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new UsageError(`sasl.mechanism=${mechanism} in --command-config: the sluice command speaks ${SASL_MECHANISMS.join(', ')}`, 'set sasl.mechanism');
  }
  const jaas = props.get('sasl.jaas.config');
  const need = `sasl.jaas.config in --command-config must give username and password for ${mechanism}`;
  const example = `sasl.jaas.config=org.apache.kafka.common.security.${mechanism === 'PLAIN' ? 'plain.PlainLoginModule' : 'scram.ScramLoginModule'} required username="…" password="…";`;
  if (jaas === undefined) throw new UsageError(need, example);
  let options: ReadonlyMap<string, string> | undefined;
  try {
    options = parseJaasConfig(jaas)[0]?.options;
  } catch (err) {
    if (err instanceof JaasParseError) throw new UsageError(`sasl.jaas.config in --command-config: ${err.message}`, example);
    throw err;
  }
  const username = options?.get('username');
  const password = options?.get('password');
  if (username === undefined || password === undefined) throw new UsageError(need, example);
  return { mechanism: mechanism as SaslMechanism, username, password };
}

/** TLS and SASL as `security.protocol` asks; PLAINTEXT (the default) sets neither. */
function securityOptions(props: ReadonlyMap<string, string>): Pick<ClientOptions, 'tls' | 'sasl'> {
  const protocol = (props.get('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  if (!SECURITY_PROTOCOLS.includes(protocol))
    throw new UsageError(`security.protocol=${protocol} in --command-config is not one of ${SECURITY_PROTOCOLS.join(', ')}`);
  return {
    tls: protocol === 'SSL' || protocol === 'SASL_SSL' ? tlsOptions(props) : undefined,
    sasl: protocol.startsWith('SASL_') ? saslCredentials(props) : undefined,
  };
}

/** The client options a --command-config file sets; `warn` is told about keys that are ignored. */
export function clientOptionsFromProperties(props: ReadonlyMap<string, string>, warn: (message: string) => void): Partial<ClientOptions> {
  const options: Partial<Mutable<ClientOptions>> = {};
  const plaintext = (props.get('security.protocol') ?? 'PLAINTEXT').toUpperCase() === 'PLAINTEXT';
  for (const [key, value] of props) {
    const apply = APPLIED[key];
    if (apply !== undefined) apply(value, options);
    else if (SECURITY_PREFIXES.some((p) => key.startsWith(p))) {
      if (plaintext) warn(`The configuration '${key}' was supplied but isn't used (security.protocol is PLAINTEXT).`);
      else if (!SECURITY_KEYS.has(key)) warn(`The configuration '${key}' was supplied but isn't used by the sluice command.`);
    } else warn(`The configuration '${key}' was supplied but isn't a known config.`);
  }
  const { tls, sasl } = securityOptions(props);
  if (tls !== undefined) options.tls = tls;
  if (sasl !== undefined) options.sasl = sasl;
  return options;
}

/** Reads a --command-config file; a missing file is a usage error. */
export function readCommandConfig(file: string, warn: (message: string) => void): Partial<ClientOptions> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--command-config ${file}: ${(err as Error).message}`);
  }
  return clientOptionsFromProperties(parseClientProperties(text), warn);
}
