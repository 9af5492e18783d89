// CreatePartitions (API key 37): grow a topic's partition count.
// Transcribed from the Kafka protocol specification, served versions 0-3.
// Version notes: v1 is the same as v0; v2 is the first flexible version; v3 allows
// THROTTLING_QUOTA_EXCEEDED (KIP-599).
import type { MessageSpec } from '../spec.ts';

export const CreatePartitionsRequest: MessageSpec = {
  apiKey: 37,
  name: 'CreatePartitions',
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: 2,
  fields: [
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          // The new total partition count, not the number to add.
          { name: 'count', type: 'int32', versions: '0+' },
          {
            // null: let the broker place the new partitions.
            name: 'assignments',
            versions: '0+',
            nullableVersions: '0+',
            type: {
              arrayOfStruct: [{ name: 'brokerIds', type: { arrayOf: 'int32' }, versions: '0+' }],
            },
          },
        ],
      },
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
};

export const CreatePartitionsResponse: MessageSpec = {
  apiKey: 37,
  name: 'CreatePartitions',
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        ],
      },
    },
  ],
};
