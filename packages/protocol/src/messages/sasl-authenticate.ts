// SaslAuthenticate (API key 36): one SASL token exchange, framed as a Kafka request.
// Transcribed from the Kafka protocol specification, served versions 0-2 (served by the
// broker: packages/broker/src/connection-session.ts (SASL listeners) and handlers/sasl-authenticate.ts).
// Version notes: v1 adds the session lifetime (KIP-368 re-authentication); v2 is the first
// flexible version.
import type { MessageSpec } from '../spec.ts';

export const SaslAuthenticateRequest: MessageSpec = {
  apiKey: 36,
  name: 'SaslAuthenticate',
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [{ name: 'authBytes', type: 'bytes', versions: '0+' }],
};

export const SaslAuthenticateResponse: MessageSpec = {
  apiKey: 36,
  name: 'SaslAuthenticate',
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'authBytes', type: 'bytes', versions: '0+' },
    // 0: the session does not expire (no re-authentication required).
    { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', default: 0 },
  ],
};
