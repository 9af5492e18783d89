// OffsetDelete (API key 47): delete a group's committed offsets for some partitions
// (kafka-consumer-groups --delete-offsets, Admin.deleteConsumerGroupOffsets).
// Transcribed from Kafka's message definition, served version 0 (the only one Kafka 4.4 has).
// Version notes: not flexible.
import type { MessageSpec } from '../spec.ts';

export const OffsetDeleteRequest: MessageSpec = {
  apiKey: 47,
  name: 'OffsetDelete',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: null,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'partitions', versions: '0+', type: { arrayOfStruct: [{ name: 'partitionIndex', type: 'int32', versions: '0+' }] } },
        ],
      },
    },
  ],
};

export const OffsetDeleteResponse: MessageSpec = {
  apiKey: 47,
  name: 'OffsetDelete',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: null,
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
