// ListPartitionReassignments (API key 46): the reassignments in progress
// (kafka-reassign-partitions --verify / --list, Admin.listPartitionReassignments).
// Transcribed from Kafka's message definition, served version 0 (the only one).
// Version notes: flexible.
import type { MessageSpec } from '../spec.ts';

export const ListPartitionReassignmentsRequest: MessageSpec = {
  apiKey: 46,
  name: 'ListPartitionReassignments',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    {
      // null: every partition being reassigned.
      name: 'topics',
      versions: '0+',
      nullableVersions: '0+',
      default: null,
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'partitionIndexes', type: { arrayOf: 'int32' }, versions: '0+' },
        ],
      },
    },
  ],
};

export const ListPartitionReassignmentsResponse: MessageSpec = {
  apiKey: 46,
  name: 'ListPartitionReassignments',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
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
                { name: 'replicas', type: { arrayOf: 'int32' }, versions: '0+' },
                { name: 'addingReplicas', type: { arrayOf: 'int32' }, versions: '0+' },
                { name: 'removingReplicas', type: { arrayOf: 'int32' }, versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
