// What a handler is: one file per API key registers one of these. ApiVersions is derived from
// the registry (handlers/index.ts), so the broker advertises exactly what it serves.
//
// The contract is typed by API key: `ApiHandler<K>` takes the generated request type of key K and
// answers its generated response type (@sluice/protocol's RequestTypes / ResponseTypes, generated
// from the message descriptions the codec is compiled from). Write a handler with
// `defineHandler({ apiKey: ApiKey.X, … })` so K is inferred from the key. The connection decodes
// a frame by its header's API key and hands the body to the handler registered under that same
// key (the registry refuses two handlers for one key), which is what makes the request the
// handler's type. The registry holds them as `ApiHandler` (K = every served key): `handle` is a
// method, so an `ApiHandler<12>` is one, and the connection passes the decoded union through.

import type { RequestHeader, RequestTypes, ResponseTypes, ServedApiKey } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { Session } from '../security/acl/authorizer.ts';

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly listenerName: string;
}

export interface RequestContext {
  readonly broker: BrokerContext;
  readonly header: RequestHeader;
  readonly connection: ConnectionInfo;
  /** Who sent the request: the principal (`User:ANONYMOUS` without SASL) and the client's address. */
  readonly session: Session;
  /** When the request's frame was complete (ms, performance.now()), for latency metrics. */
  readonly receivedAt: number;
  /**
   * Mutes the connection for `ms` (quotas). Responses with a throttleTimeMs above 0 do this by
   * themselves; a request answered with no response (Produce acks=0) calls it. Absent in tests.
   */
  readonly throttle?: (ms: number) => void;
}

/** A response body, or NO_RESPONSE when the protocol says nothing is sent (Produce acks=0). */
export const NO_RESPONSE = Symbol('no response');
/**
 * No response, and the connection closes once earlier responses are out: how Kafka tells an
 * acks=0 producer that its request failed (the client then refreshes metadata).
 */
export const CLOSE_CONNECTION = Symbol('close connection');
export type HandlerResult<K extends ServedApiKey = ServedApiKey> = ResponseTypes[K] | typeof NO_RESPONSE | typeof CLOSE_CONNECTION;

export interface ApiHandler<K extends ServedApiKey = ServedApiKey> {
  readonly apiKey: K;
  /** Versions this handler decodes and answers. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Lowest version advertised in ApiVersions when below minVersion (Produce: 0, served from 3). */
  readonly advertisedMinVersion?: number;
  /**
   * Answers one request. Fields absent from the request's version hold their defaults; the answer
   * is one body for all versions (the encoder skips what the version lacks).
   */
  handle(ctx: RequestContext, request: RequestTypes[K]): HandlerResult<K> | Promise<HandlerResult<K>>;
}

/** Declares a handler, inferring its API key (and so its request and response types). */
export function defineHandler<K extends ServedApiKey>(handler: ApiHandler<K>): ApiHandler<K> {
  return handler;
}
