// AlterUserScramCredentials (API key 51): delete and upsert SCRAM credentials (KIP-554). The
// client salts the password itself: the request carries salt and SaltedPassword, never the
// password. One result per user named in the request.
// Transcribed from the Kafka protocol specification, served version 0 (flexible; served by
// the broker: packages/broker/src/handlers/alter-user-scram-credentials.ts).
// Version notes: mechanism codes are ScramMechanism's (1 SCRAM-SHA-256, 2 SCRAM-SHA-512).
import type { MessageSpec } from '../spec.ts';

export const AlterUserScramCredentialsRequest: MessageSpec = {
  apiKey: 51,
  name: 'AlterUserScramCredentials',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    {
      name: 'deletions',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'mechanism', type: 'int8', versions: '0+' },
        ],
      },
    },
    {
      name: 'upsertions',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'mechanism', type: 'int8', versions: '0+' },
          { name: 'iterations', type: 'int32', versions: '0+' },
          { name: 'salt', type: 'bytes', versions: '0+' },
          { name: 'saltedPassword', type: 'bytes', versions: '0+' },
        ],
      },
    },
  ],
};

export const AlterUserScramCredentialsResponse: MessageSpec = {
  apiKey: 51,
  name: 'AlterUserScramCredentials',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'user', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        ],
      },
    },
  ],
};
