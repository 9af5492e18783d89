// DescribeUserScramCredentials (API key 50): which SCRAM mechanisms (and iteration counts) each
// user has; never the salt or keys (KIP-554).
// Transcribed from the Kafka protocol specification, served version 0 (flexible; served by
// the broker: packages/broker/src/handlers/describe-user-scram-credentials.ts).
// Version notes: a null or empty user list describes every user that has credentials.
import type { MessageSpec } from '../spec.ts';

export const DescribeUserScramCredentialsRequest: MessageSpec = {
  apiKey: 50,
  name: 'DescribeUserScramCredentials',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    {
      name: 'users',
      versions: '0+',
      nullableVersions: '0+',
      type: { arrayOfStruct: [{ name: 'name', type: 'string', versions: '0+' }] },
    },
  ],
};

export const DescribeUserScramCredentialsResponse: MessageSpec = {
  apiKey: 50,
  name: 'DescribeUserScramCredentials',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      name: 'results',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'user', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          {
            name: 'credentialInfos',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'mechanism', type: 'int8', versions: '0+' },
                { name: 'iterations', type: 'int32', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
