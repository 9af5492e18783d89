// For handler tests: a request through the real codec, the handler, and the response back
// through the codec as a client decodes it. Test support only (src/testing/).

import { decodeRequest, decodeRequestHeader, decodeResponse, encodeRequest, encodeResponse } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { ApiHandler } from '../handlers/handler.ts';
import type { Session } from '../security/acl/authorizer.ts';

/**
 * Encodes `body` as a request at `apiVersion`, decodes it as the broker does, runs the handler and
 * returns the response as a client decodes it: every field shape is checked by the codec.
 */
export async function callHandler(
  handler: ApiHandler,
  broker: BrokerContext,
  apiVersion: number,
  body: object,
  clientId = 'test-client',
  session: Session = { principal: 'User:ANONYMOUS', host: '127.0.0.1' },
): Promise<any> {
  const frame = encodeRequest(handler.apiKey, apiVersion, 42, clientId, body).subarray(4);
  const header = decodeRequestHeader(frame);
  const request = decodeRequest(header, frame);
  const result = await handler.handle(
    { broker, header, connection: { id: 1, remoteAddress: '127.0.0.1', remotePort: 50000, listenerName: 'PLAINTEXT' }, session, receivedAt: 0 },
    request,
  );
  if (typeof result === 'symbol') throw new Error('the handler sent no response');
  const parts = encodeResponse(handler.apiKey, apiVersion, 42, result);
  if (parts.length !== 1 || !(parts[0] instanceof Uint8Array)) throw new Error('group responses are a single buffer');
  const { correlationId, body: response } = decodeResponse(handler.apiKey, apiVersion, parts[0].subarray(4));
  if (correlationId !== 42) throw new Error(`correlation id ${correlationId}`);
  return response;
}
