// Errors the client raises. Each one carries enough to print one clear line: what failed, on
// which topic/partition/group/broker, and (in `hint`) what the user can do about it. A Kafka error
// code's default advice (which `sluice` command to run, which option to pass) is the CLI's
// business: packages/cli/src/output/errors.ts adds it when printing a KafkaApiError with no hint.

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

/** The caller asked for something impossible: a bad argument, not a broker or network failure (the CLI exits with 2). */
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
    super(
      `${address}: no common version of ${api} (this client speaks v${ours[0]}-v${ours[1]}, the broker ${brokerSide})`,
      'use a broker version that supports this operation',
    );
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
    super(`${operation} ${subject}: ${name}: ${detail}`, hint);
    this.name = 'KafkaApiError';
    this.errorCode = errorCode;
    this.errorName = name;
    this.retriable = known?.retriable ?? false;
    this.subject = subject;
  }
}

/** Throws KafkaApiError unless errorCode is NONE (0). */
export function checkError(operation: string, subject: string, errorCode: number, brokerMessage: string | null = null): void {
  if (errorCode !== 0) throw new KafkaApiError(operation, subject, errorCode, brokerMessage);
}
