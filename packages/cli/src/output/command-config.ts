// --command-config FILE: client properties in Kafka's format, as Kafka's tools take them
// (`kafka-topics.sh --command-config client.properties`). What @sluice/client supports is
// applied; the security settings it does not speak yet (TLS, SASL) are refused with a usage
// error rather than ignored, so a command never talks plaintext to a broker the user meant to
// reach securely. Other keys are reported the way Kafka's clients log them
// ("…was supplied but isn't a known config") and ignored.

import { readFileSync } from 'node:fs';
import { type ClientOptions, UsageError } from '@sluice/client';

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
  'security.protocol': (v) => {
    if (v.toUpperCase() !== 'PLAINTEXT') {
      throw new UsageError(
        `security.protocol=${v} in --command-config: the sluice command speaks PLAINTEXT only (no TLS or SASL in @sluice/client yet)`,
        "connect to a PLAINTEXT listener, or use Kafka's own tools with this file",
      );
    }
  },
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

/** The client options a --command-config file sets; `warn` is told about keys that are ignored. */
export function clientOptionsFromProperties(props: ReadonlyMap<string, string>, warn: (message: string) => void): Partial<ClientOptions> {
  const options: Partial<Mutable<ClientOptions>> = {};
  for (const [key, value] of props) {
    const apply = APPLIED[key];
    if (apply !== undefined) apply(value, options);
    else if (SECURITY_PREFIXES.some((p) => key.startsWith(p))) {
      // ssl.*/sasl.* only matter with a security.protocol other than PLAINTEXT, which is refused above.
      if ((props.get('security.protocol') ?? 'PLAINTEXT').toUpperCase() === 'PLAINTEXT') {
        warn(`The configuration '${key}' was supplied but isn't used (security.protocol is PLAINTEXT).`);
      }
    } else warn(`The configuration '${key}' was supplied but isn't a known config.`);
  }
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
