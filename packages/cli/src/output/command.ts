// What every client command shares: the --bootstrap-server and --command-config options,
// option-value parsers that turn bad input into usage errors (exit 2), and running an action with
// a connected client that is always closed afterwards.

import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_BOOTSTRAP, KafkaClient, UsageError } from '@sluice/client';
import { readCommandConfig } from './command-config.ts';

export interface ClientCommandOptions {
  bootstrapServer: string;
  commandConfig?: string;
}

/** Adds --bootstrap-server (Kafka tools' spelling) with the Kafka default, and --command-config. */
export function withBootstrap(cmd: Command): Command {
  return cmd
    .option('--bootstrap-server <host:port>', 'broker(s) to connect to, comma-separated', DEFAULT_BOOTSTRAP)
    .option('--command-config <file>', "client properties in Kafka's format (client.id, request.timeout.ms, …), as Kafka's tools take them");
}

/** Connects, runs `action`, closes the client whatever happens. */
export async function withClient<T>(opts: { bootstrapServer: string; commandConfig?: string }, action: (client: KafkaClient) => Promise<T>): Promise<T> {
  const fromFile = opts.commandConfig === undefined ? {} : readCommandConfig(opts.commandConfig, (m) => process.stderr.write(`WARN ${m}\n`));
  // Brokers see the command as 'sluice-cli' (client id and KIP-511 software name), not as the library.
  const client = await KafkaClient.connect({ clientId: 'sluice-cli', clientSoftwareName: 'sluice-cli', ...fromFile, bootstrap: opts.bootstrapServer });
  try {
    return await action(client);
  } finally {
    client.close();
  }
}

/** Commander argParser: an integer within [min, max]. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** Commander argParser for repeatable options: collects every value. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Parses repeated "key=value" strings; throws UsageError naming the option on a malformed one. */
export function parseKeyValues(option: string, values: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of values ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`${option} ${JSON.stringify(kv)} is not key=value`, `write it as ${option} name=value`);
    out.set(kv.slice(0, eq).trim(), kv.slice(eq + 1));
  }
  return out;
}

/** Exactly one of the named options must be set; returns its name. */
export function exactlyOne(opts: Record<string, unknown>, names: readonly string[], what: string): string {
  const set = names.filter((n) => opts[n] !== undefined && opts[n] !== false);
  if (set.length !== 1) {
    const flags = names.map((n) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
    throw new UsageError(set.length === 0 ? `${what}: one of ${flags} is required` : `${what}: use only one of ${flags}`);
  }
  return set[0];
}

/**
 * Writes to stdout, waiting when the pipe is full (so a slow reader bounds our memory). A reader
 * that went away (EPIPE) ends the wait too; the caller learns of it from its 'error' listener.
 */
export function writeOut(text: string): Promise<void> | void {
  const out = process.stdout;
  if (out.write(text)) return;
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('error', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('error', done);
    out.once('close', done);
  });
}
