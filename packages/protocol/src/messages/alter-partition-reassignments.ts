// AlterPartitionReassignments (API key 45): move partitions to other replicas, or cancel a move
// (kafka-reassign-partitions --execute / --cancel, Admin.alterPartitionReassignments).
// Transcribed from Kafka's message definition, served versions 0-1.
// Version notes: every version is flexible; v1 adds allowReplicationFactorChange (KIP-1071: false
// refuses a reassignment that changes a partition's replica count), echoed in the response.
import type { MessageSpec } from '../spec.ts';

export const AlterPartitionReassignmentsRequest: MessageSpec = {
  apiKey: 45,
  name: 'AlterPartitionReassignments',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 0,
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    { name: 'allowReplicationFactorChange', type: 'bool', versions: '1+', default: true },
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
                // The new replica set; null cancels a pending reassignment.
                { name: 'replicas', type: { arrayOf: 'int32' }, versions: '0+', nullableVersions: '0+', default: null },
              ],
            },
          },
        ],
      },
    },
  ],
};

export const AlterPartitionReassignmentsResponse: MessageSpec = {
  apiKey: 45,
  name: 'AlterPartitionReassignments',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'allowReplicationFactorChange', type: 'bool', versions: '1+', default: true, ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    {
      name: 'responses',
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
                { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
              ],
            },
          },
        ],
      },
    },
  ],
};
