// SaslAuthenticate (key 36), v0–2.
// As SaslHandshake: on a SASL listener the connection's session answers every SaslAuthenticate
// (challenges, success with SessionLifetimeMs, SASL_AUTHENTICATION_FAILED then close). One that
// reaches this handler came where there is nothing to authenticate; Kafka's KafkaApis answers it
// SASL_AUTHENTICATION_FAILED with this message.

import { ErrorCode } from '@sluice/protocol';
import { defineHandler } from './handler.ts';

export const saslAuthenticateHandler = defineHandler({
  apiKey: 36,
  minVersion: 0,
  maxVersion: 2,
  handle() {
    return {
      errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
      errorMessage: 'SaslAuthenticate request received after successful authentication',
      authBytes: new Uint8Array(0),
      sessionLifetimeMs: 0,
    };
  },
});
