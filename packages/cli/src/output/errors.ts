// How a failed command ends: one line on stderr (what failed, on what, and what to do about it),
// the stack only with --verbose, and an exit code scripts can branch on:
//   0 success, 1 the operation failed (broker said no, unreachable, bad file), 2 bad usage.

import { ProtocolError } from '@sluice/protocol';
import { ClientError, KafkaApiError, UsageError } from '@sluice/client';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Commander's usage errors carry codes like 'commander.unknownOption'; help/version are not errors. */
function commanderCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('commander.') ? code : null;
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  const code = commanderCode(err);
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT_OK;
  // 'commander.help' is asked-for help (exitCode 0) or help shown for a missing subcommand (1).
  if (code === 'commander.help') return (err as { exitCode?: number }).exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (code !== null) return EXIT_USAGE;
  return EXIT_FAILURE;
}

// What a `sluice` user can do about a Kafka error code, for a KafkaApiError raised without a
// more specific hint (the client library knows nothing of the command line).
function hintForKafkaError(errorName: string): string {
  switch (errorName) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return 'check the name with `sluice topics list`';
    case 'TOPIC_ALREADY_EXISTS':
      return 'pick another name, or pass --if-not-exists';
    case 'INVALID_PARTITIONS':
      return 'partitions must be at least 1, and alter can only increase the count';
    case 'INVALID_REPLICATION_FACTOR':
      return 'the replication factor cannot exceed the number of brokers (see `sluice cluster`)';
    case 'INVALID_CONFIG':
      return 'see the topic-level config names and values the broker accepts';
    case 'GROUP_ID_NOT_FOUND':
      return 'check the group id with `sluice groups list`';
    case 'NON_EMPTY_GROUP':
      return "stop the group's consumers first";
    case 'COORDINATOR_NOT_AVAILABLE':
    case 'COORDINATOR_LOAD_IN_PROGRESS':
    case 'NOT_COORDINATOR':
      return 'the group coordinator is not ready; retry in a moment';
    case 'OFFSET_OUT_OF_RANGE':
      return 'pick an offset between the earliest and latest offset, or use --from-beginning';
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
      return "send smaller records, or raise the topic's max.message.bytes";
    case 'POLICY_VIOLATION':
    case 'INVALID_REQUEST':
      return 'the broker rejected the request as given; check the options';
    default:
      return '';
  }
}

/** The single line printed for an error (without the "sluice: " prefix). */
export function describeError(err: unknown): string {
  if (err instanceof ClientError) {
    const hint = err.hint === '' && err instanceof KafkaApiError ? hintForKafkaError(err.errorName) : err.hint;
    return hint === '' ? err.message : `${err.message}; ${hint}`;
  }
  if (err instanceof ProtocolError) return `unreadable answer from the broker (${err.code}): ${err.message}; is it a Kafka-compatible broker?`;
  const sys = err as NodeJS.ErrnoException | null;
  if (sys !== null && typeof sys === 'object' && typeof sys.code === 'string' && typeof sys.syscall === 'string') {
    const where = sys.path === undefined ? '' : ` ${sys.path}`;
    return `${sys.syscall}${where}: ${sys.code} (${sys.message.replace(/^[A-Z]+: /, '')})`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Writes the report for `err` and returns the exit code. */
export function reportError(err: unknown, verbose: boolean, stderr: { write(s: string): unknown } = process.stderr): number {
  const code = exitCodeFor(err);
  if (code === EXIT_OK) return code;
  // Commander has already printed its own usage message.
  if (commanderCode(err) === null) {
    const oneLine = describeError(err).replace(/\s*\n\s*/g, ' ');
    stderr.write(`sluice: ${oneLine}\n`);
  }
  if (verbose && err instanceof Error && err.stack !== undefined) stderr.write(`${err.stack}\n`);
  return code;
}
