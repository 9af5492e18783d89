// Produce (API key 0): append record batches to partitions.
// Transcribed from the Kafka protocol specification, served versions 3-11 (the broker advertises
// 0-11 and rejects 0-2, as Kafka 4 does; that special case lives in the broker, not here).
// Version notes: v3 adds transactionalId and requires RecordBatch v2; v4-v7 change only the errors
// and compression codecs a client must accept; v8 adds per-record errors and an error message;
// v9 is the first flexible version; v10 adds the current leader and node endpoints as tagged
// response fields (KIP-951); v11 allows TRANSACTION_ABORTABLE (KIP-890).
import type { FieldSpec, MessageSpec } from '../spec.ts';

export const ProduceRequest: MessageSpec = {
  apiKey: 0,
  name: 'Produce',
  type: 'request',
  validVersions: [3, 11],
  flexibleVersions: 9,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    { name: 'acks', type: 'int16', versions: '0+' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    {
      name: 'topicData',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'partitionData',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'index', type: 'int32', versions: '0+' },
                { name: 'records', type: 'records', versions: '0+', nullableVersions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};

/** The leader a client should move to after NOT_LEADER_OR_FOLLOWER (tagged, v10+). */
const currentLeader: FieldSpec = {
  name: 'currentLeader',
  versions: '10+',
  taggedVersions: '10+',
  tag: 0,
  type: {
    struct: [
      { name: 'leaderId', type: 'int32', versions: '10+', default: -1 },
      { name: 'leaderEpoch', type: 'int32', versions: '10+', default: -1 },
    ],
  },
};

export const ProduceResponse: MessageSpec = {
  apiKey: 0,
  name: 'Produce',
  type: 'response',
  validVersions: [3, 11],
  flexibleVersions: 9,
  fields: [
    {
      name: 'responses',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'partitionResponses',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'index', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
                { name: 'baseOffset', type: 'int64', versions: '0+' },
                { name: 'logAppendTimeMs', type: 'int64', versions: '2+', default: -1, ignorable: true },
                { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1, ignorable: true },
                {
                  name: 'recordErrors',
                  versions: '8+',
                  ignorable: true,
                  type: {
                    arrayOfStruct: [
                      { name: 'batchIndex', type: 'int32', versions: '8+' },
                      {
                        name: 'batchIndexErrorMessage',
                        type: 'string',
                        versions: '8+',
                        nullableVersions: '8+',
                        default: null,
                      },
                    ],
                  },
                },
                {
                  name: 'errorMessage',
                  type: 'string',
                  versions: '8+',
                  nullableVersions: '8+',
                  default: null,
                  ignorable: true,
                },
                currentLeader,
              ],
            },
          },
        ],
      },
    },
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', default: 0, ignorable: true },
    {
      // Endpoints of the leaders named in currentLeader (tagged, v10+).
      name: 'nodeEndpoints',
      versions: '10+',
      taggedVersions: '10+',
      tag: 0,
      type: {
        arrayOfStruct: [
          { name: 'nodeId', type: 'int32', versions: '10+' },
          { name: 'host', type: 'string', versions: '10+' },
          { name: 'port', type: 'int32', versions: '10+' },
          { name: 'rack', type: 'string', versions: '10+', nullableVersions: '10+', default: null },
        ],
      },
    },
  ],
};
