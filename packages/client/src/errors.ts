// Errors the client raises. Each one carries enough to print one clear line: what failed, on
// which topic/partition/group/broker, and (in `hint`) what the user can do about it.

import { errorByCode } from '@sluice/protocol';

/** Base class: every client error has a `hint` (may be empty) for the one-line report. */
export class ClientError extends Error {
  readonly hint: string;
  constructor(message: string, hint = '', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientError';
    this.hint = hint;
  }
}

/** The command line asked for something impossible (exit code 2). */
export class UsageError extends ClientError {
  constructor(message: string, hint = '') {
    super(message, hint);
    this.name = 'UsageError';
  }
}

/** Could not reach a broker, or the connection dropped. */
export class ConnectionError extends ClientError {
  readonly address: string;
  constructor(address: string, message: string, hint = '', options?: { cause?: unknown }) {
    super(`${address}: ${message}`, hint, options);
    this.name = 'ConnectionError';
    this.address = address;
  }
}

/** The broker did not answer within the request timeout. */
export class RequestTimeoutError extends ClientError {
  constructor(address: string, what: string, timeoutMs: number) {
    super(`${address}: no answer to ${what} within ${timeoutMs} ms`, 'the broker may be overloaded; retry, or raise --timeout-ms where the command has it');
    this.name = 'RequestTimeoutError';
  }
}

/** The broker serves no version of an API we speak (or none at all). */
export class UnsupportedApiError extends ClientError {
  constructor(address: string, api: string, ours: readonly [number, number], theirs: readonly [number, number] | null) {
    const brokerSide = theirs === null ? 'does not serve it' : `serves v${theirs[0]}-v${theirs[1]}`;
    super(`${address}: no common version of ${api} (this client speaks v${ours[0]}-v${ours[1]}, the broker ${brokerSide})`, 'use a broker version that supports this operation');
    this.name = 'UnsupportedApiError';
  }
}

/** A Kafka error code in a response. `subject` names what it was about (topic, partition, group). */
export class KafkaApiError extends ClientError {
  readonly errorCode: number;
  readonly errorName: string;
  readonly retriable: boolean;
  readonly subject: string;

  constructor(operation: string, subject: string, errorCode: number, brokerMessage: string | null = null, hint = '') {
    const known = errorByCode(errorCode);
    const name = known?.name ?? `UNKNOWN_ERROR_CODE_${errorCode}`;
    const detail = (brokerMessage !== null && brokerMessage !== '' ? brokerMessage : (known?.message ?? 'unknown error code')).replace(/\.$/, '');
    super(`${operation} ${subject}: ${name}: ${detail}`, hint || hintFor(name));
    this.name = 'KafkaApiError';
    this.errorCode = errorCode;
    this.errorName = name;
    this.retriable = known?.retriable ?? false;
    this.subject = subject;
  }
}

// Default hints for the errors a CLI user runs into; callers may pass a more specific one.
function hintFor(errorName: string): string {
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
      return 'stop the group\'s consumers first';
    case 'COORDINATOR_NOT_AVAILABLE':
    case 'COORDINATOR_LOAD_IN_PROGRESS':
    case 'NOT_COORDINATOR':
      return 'the group coordinator is not ready; retry in a moment';
    case 'OFFSET_OUT_OF_RANGE':
      return 'pick an offset between the earliest and latest offset, or use --from-beginning';
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
      return 'send smaller records, or raise the topic\'s max.message.bytes';
    case 'POLICY_VIOLATION':
    case 'INVALID_REQUEST':
      return 'the broker rejected the request as given; check the options';
    default:
      return '';
  }
}

/** Throws KafkaApiError unless errorCode is NONE (0). */
export function checkError(operation: string, subject: string, errorCode: number, brokerMessage: string | null = null): void {
  if (errorCode !== 0) throw new KafkaApiError(operation, subject, errorCode, brokerMessage);
}
