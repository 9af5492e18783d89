// Structured logging: one pino root per broker, one child per subsystem (`logger.child({
// subsystem: 'network' })`: topics, handlers, groups, network, metrics). JSON lines to stdout for
// machines; when stdout is a terminal, pino-pretty's human format instead (loaded only then).
// Levels come from `sluice.log.level`. Never a line per record: the request path logs only
// what goes wrong with a connection, and debug-level outcomes of a whole request.

import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

export type { Logger };

export interface LogOutputOptions {
  /** Human-readable lines; default: whether stdout is a TTY. */
  readonly pretty?: boolean;
  /** Where lines go; default stdout. */
  readonly destination?: DestinationStream;
}

export function createLogger(level: string, options: LogOutputOptions = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const common: LoggerOptions = { level, base: { pid: process.pid } };
  if (pretty) {
    const stream = prettyStream({
      colorize: options.destination === undefined && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      // Synchronous: a terminal is slow anyway, and lines must not be lost on process.exit.
      sync: true,
      ...(options.destination === undefined ? {} : { destination: options.destination as NodeJS.WritableStream }),
    });
    return pino(common, stream);
  }
  const json: LoggerOptions = {
    ...common,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers: `"level":"info"` is what log pipelines match on.
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination === undefined ? pino(json) : pino(json, options.destination);
}

/** pino-pretty is CommonJS and only needed on a terminal: required lazily, synchronously. */
function prettyStream(options: PrettyOptions): DestinationStream {
  const require = createRequire(import.meta.url);
  const build = require('pino-pretty') as (options: PrettyOptions) => DestinationStream;
  return build(options);
}

export const silentLogger: Logger = pino({ level: 'silent' });
