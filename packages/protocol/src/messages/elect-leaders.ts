// ElectLeaders (API key 43): elect the preferred (or, unclean, any) replica leader of partitions
// (kafka-leader-election, Admin.electLeaders).
// Transcribed from Kafka's message definition, served versions 0-2.
// Version notes: v1 adds the election type (0 preferred, 1 unclean) and the top-level error
// code; v2 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const ElectLeadersRequest: MessageSpec = {
  apiKey: 43,
  name: 'ElectLeaders',
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    { name: 'electionType', type: 'int8', versions: '1+' },
    {
      // null: every partition.
      name: 'topicPartitions',
      versions: '0+',
      nullableVersions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '0+' },
          { name: 'partitions', type: { arrayOf: 'int32' }, versions: '0+' },
        ],
      },
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
  ],
};

export const ElectLeadersResponse: MessageSpec = {
  apiKey: 43,
  name: 'ElectLeaders',
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '1+' },
    {
      name: 'replicaElectionResults',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '0+' },
          {
            name: 'partitionResult',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionId', type: 'int32', versions: '0+' },
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
