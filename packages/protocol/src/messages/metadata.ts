// Metadata (API key 3): brokers, topics and partition leadership.
// Transcribed from the Kafka protocol specification, served versions 0-12.
// Version notes: in v0 an empty topic list means "all topics"; from v1 that is a null list and
// an empty list means "none". v1 adds rack, controller and isInternal; v2 clusterId; v3 throttle
// time; v4 allowAutoTopicCreation (absent in v0-3, where it defaults to true); v5 offline
// replicas; v7 leader epoch; v8 authorized operations; v9 is the first flexible version; v10
// adds topic ids; v11 drops the cluster authorized operations (moved to DescribeCluster);
// v12 lets a topic be requested by id with a null name.
import type { MessageSpec } from '../spec.ts';

/** "No authorized operations were computed" (Integer.MIN_VALUE), the specification's default. */
const AUTHORIZED_OPERATIONS_UNKNOWN = -2147483648;

export const MetadataRequest: MessageSpec = {
  apiKey: 3,
  name: 'Metadata',
  type: 'request',
  validVersions: [0, 12],
  flexibleVersions: 9,
  fields: [
    {
      name: 'topics',
      versions: '0+',
      nullableVersions: '1+',
      type: {
        arrayOfStruct: [
          { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
          { name: 'name', type: 'string', versions: '0+', nullableVersions: '10+' },
        ],
      },
    },
    { name: 'allowAutoTopicCreation', type: 'bool', versions: '4+', default: true },
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '8-10' },
    { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: '8+' },
  ],
};

export const MetadataResponse: MessageSpec = {
  apiKey: 3,
  name: 'Metadata',
  type: 'response',
  validVersions: [0, 12],
  flexibleVersions: 9,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    {
      name: 'brokers',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'nodeId', type: 'int32', versions: '0+' },
          { name: 'host', type: 'string', versions: '0+' },
          { name: 'port', type: 'int32', versions: '0+' },
          { name: 'rack', type: 'string', versions: '1+', nullableVersions: '1+', default: null, ignorable: true },
        ],
      },
    },
    { name: 'clusterId', type: 'string', versions: '2+', nullableVersions: '2+', default: null, ignorable: true },
    { name: 'controllerId', type: 'int32', versions: '1+', default: -1, ignorable: true },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'name', type: 'string', versions: '0+', nullableVersions: '12+' },
          { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
          { name: 'isInternal', type: 'bool', versions: '1+', default: false, ignorable: true },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'errorCode', type: 'int16', versions: '0+' },
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'leaderId', type: 'int32', versions: '0+' },
                { name: 'leaderEpoch', type: 'int32', versions: '7+', default: -1, ignorable: true },
                { name: 'replicaNodes', type: { arrayOf: 'int32' }, versions: '0+' },
                { name: 'isrNodes', type: { arrayOf: 'int32' }, versions: '0+' },
                { name: 'offlineReplicas', type: { arrayOf: 'int32' }, versions: '5+', ignorable: true },
              ],
            },
          },
          {
            name: 'topicAuthorizedOperations',
            type: 'int32',
            versions: '8+',
            default: AUTHORIZED_OPERATIONS_UNKNOWN,
          },
        ],
      },
    },
    {
      name: 'clusterAuthorizedOperations',
      type: 'int32',
      versions: '8-10',
      default: AUTHORIZED_OPERATIONS_UNKNOWN,
    },
  ],
};
