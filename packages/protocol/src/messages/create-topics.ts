// CreateTopics (API key 19): create topics with a partition count, replication factor or manual
// assignment, and topic-level configs.
// Transcribed from the Kafka protocol specification, served versions 2-7 (Kafka 4 dropped 0-1).
// Version notes: v2 adds throttle time; v4 lets numPartitions/replicationFactor be -1 (broker
// defaults, KIP-464); v5 is the first flexible version and returns the created topic's
// partitions, replication factor and configs (KIP-525); v6 allows THROTTLING_QUOTA_EXCEEDED;
// v7 returns the topic id.
import type { MessageSpec } from '../spec.ts';

export const CreateTopicsRequest: MessageSpec = {
  apiKey: 19,
  name: 'CreateTopics',
  type: 'request',
  validVersions: [2, 7],
  flexibleVersions: 5,
  fields: [
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          // -1 (v4+): use the broker's num.partitions / default.replication.factor.
          { name: 'numPartitions', type: 'int32', versions: '0+' },
          { name: 'replicationFactor', type: 'int16', versions: '0+' },
          {
            name: 'assignments',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'brokerIds', type: { arrayOf: 'int32' }, versions: '0+' },
              ],
            },
          },
          {
            name: 'configs',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '0+' },
                { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
              ],
            },
          },
        ],
      },
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    { name: 'validateOnly', type: 'bool', versions: '1+', default: false },
  ],
};

export const CreateTopicsResponse: MessageSpec = {
  apiKey: 19,
  name: 'CreateTopics',
  type: 'response',
  validVersions: [2, 7],
  flexibleVersions: 5,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'topicId', type: 'uuid', versions: '7+', ignorable: true },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '1+', nullableVersions: '0+', ignorable: true },
          {
            name: 'topicConfigErrorCode',
            type: 'int16',
            versions: '5+',
            taggedVersions: '5+',
            tag: 0,
            ignorable: true,
          },
          { name: 'numPartitions', type: 'int32', versions: '5+', default: -1, ignorable: true },
          { name: 'replicationFactor', type: 'int16', versions: '5+', default: -1, ignorable: true },
          {
            name: 'configs',
            versions: '5+',
            nullableVersions: '5+',
            // The specification gives no "null" default, so its default is the empty list
            // (what a v2-4 response decodes to), not null.
            default: [],
            ignorable: true,
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '5+' },
                { name: 'value', type: 'string', versions: '5+', nullableVersions: '5+' },
                { name: 'readOnly', type: 'bool', versions: '5+' },
                { name: 'configSource', type: 'int8', versions: '5+', default: -1, ignorable: true },
                { name: 'isSensitive', type: 'bool', versions: '5+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
