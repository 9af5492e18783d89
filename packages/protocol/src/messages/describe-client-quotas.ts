// DescribeClientQuotas (API key 48): the client quotas (KIP-546) whose entity matches a filter.
// Transcribed from the Kafka protocol specification, served versions 0–1 (v1 is flexible; served
// by the broker: packages/broker/src/handlers/describe-client-quotas.ts).
// Match types: 0 = the exact name in `match`, 1 = the entity type's default (`match` null),
// 2 = any name of that type, default included. `strict`: only entities with exactly the listed
// types match (else entities with more types match too).
import type { MessageSpec } from '../spec.ts';

export const DescribeClientQuotasRequest: MessageSpec = {
  apiKey: 48,
  name: 'DescribeClientQuotas',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 1,
  fields: [
    {
      name: 'components',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'entityType', type: 'string', versions: '0+' },
          { name: 'matchType', type: 'int8', versions: '0+' },
          { name: 'match', type: 'string', versions: '0+', nullableVersions: '0+' },
        ],
      },
    },
    { name: 'strict', type: 'bool', versions: '0+' },
  ],
};

export const DescribeClientQuotasResponse: MessageSpec = {
  apiKey: 48,
  name: 'DescribeClientQuotas',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 1,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      name: 'entries',
      versions: '0+',
      nullableVersions: '0+',
      type: {
        arrayOfStruct: [
          {
            name: 'entity',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'entityType', type: 'string', versions: '0+' },
                { name: 'entityName', type: 'string', versions: '0+', nullableVersions: '0+' },
              ],
            },
          },
          {
            name: 'values',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'key', type: 'string', versions: '0+' },
                { name: 'value', type: 'float64', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
