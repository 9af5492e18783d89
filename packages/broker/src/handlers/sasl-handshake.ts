// SaslHandshake (key 17), v0–1.
// On a SASL listener the connection's session (connection-session.ts, the SaslAuthenticator)
// answers every SaslHandshake itself — the first one and a KIP-368 re-authentication — so a
// request reaches this handler only where Kafka's KafkaApis would get it: on a listener without
// SASL. Kafka answers ILLEGAL_SASL_STATE there, with no mechanisms.

import { ErrorCode } from '@sluice/protocol';
import { defineHandler } from './handler.ts';

export const saslHandshakeHandler = defineHandler({
  apiKey: 17,
  minVersion: 0,
  maxVersion: 1,
  handle() {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  },
});
