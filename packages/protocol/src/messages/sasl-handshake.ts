// SaslHandshake (API key 17): the client picks a SASL mechanism.
// Transcribed from the Kafka protocol specification, served versions 0-1 (served by the
// broker: packages/broker/src/connection-session.ts (SASL listeners) and handlers/sasl-handshake.ts).
// Version notes: v0 is followed by raw SASL tokens outside Kafka framing; v1 by SaslAuthenticate
// requests. The response version cannot be bumped (KAFKA-9577), so it never becomes flexible.
import type { MessageSpec } from '../spec.ts';

export const SaslHandshakeRequest: MessageSpec = {
  apiKey: 17,
  name: 'SaslHandshake',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: null,
  fields: [{ name: 'mechanism', type: 'string', versions: '0+' }],
};

export const SaslHandshakeResponse: MessageSpec = {
  apiKey: 17,
  name: 'SaslHandshake',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: null,
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'mechanisms', type: { arrayOf: 'string' }, versions: '0+' },
  ],
};
