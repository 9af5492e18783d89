// AlterClientQuotas (API key 49): sets or removes client quota values per entity (KIP-546).
// Transcribed from the Kafka protocol specification, served versions 0–1 (v1 is flexible; served
// by the broker: packages/broker/src/handlers/alter-client-quotas.ts).
// An entity is a set of (type, name) pairs; a null name is the type's default entity.
import type { MessageSpec } from '../spec.ts';

const entity = {
  name: 'entity',
  versions: '0+',
  type: {
    arrayOfStruct: [
      { name: 'entityType', type: 'string', versions: '0+' },
      { name: 'entityName', type: 'string', versions: '0+', nullableVersions: '0+' },
    ],
  },
} as const;

export const AlterClientQuotasRequest: MessageSpec = {
  apiKey: 49,
  name: 'AlterClientQuotas',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 1,
  fields: [
    {
      name: 'entries',
      versions: '0+',
      type: {
        arrayOfStruct: [
          entity,
          {
            name: 'ops',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'key', type: 'string', versions: '0+' },
                { name: 'value', type: 'float64', versions: '0+' },
                { name: 'remove', type: 'bool', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
};

export const AlterClientQuotasResponse: MessageSpec = {
  apiKey: 49,
  name: 'AlterClientQuotas',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 1,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'entries',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          entity,
        ],
      },
    },
  ],
};
