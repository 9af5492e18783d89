// What a handler is: one file per API key registers one of these. ApiVersions is derived from
// the registry (handlers/index.ts), so the broker advertises exactly what it serves.

import type { RequestHeader } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';

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
  /** When the request's frame was complete (ms, performance.now()), for latency metrics. */
  readonly receivedAt: number;
}

/** A response body, or NO_RESPONSE when the protocol says nothing is sent (Produce acks=0). */
export const NO_RESPONSE = Symbol('no response');
/**
 * No response, and the connection closes once earlier responses are out: how Kafka tells an
 * acks=0 producer that its request failed (the client then refreshes metadata).
 */
export const CLOSE_CONNECTION = Symbol('close connection');
export type HandlerResult = object | typeof NO_RESPONSE | typeof CLOSE_CONNECTION;

export interface ApiHandler {
  readonly apiKey: number;
  /** Versions this handler decodes and answers. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Lowest version advertised in ApiVersions when below minVersion (Produce: 0, served from 3). */
  readonly advertisedMinVersion?: number;
  handle(ctx: RequestContext, request: any): HandlerResult | Promise<HandlerResult>;
}
