// Fetch (API key 1): read record batches from partitions (consumers and followers).
// Transcribed from the Kafka protocol specification, served versions 4-13 (Kafka 4 dropped 0-3).
// Version notes: v4 adds isolation level, last stable offset and aborted transactions; v5 log
// start offsets; v7 incremental fetch sessions (sessionId/epoch, forgotten topics); v9 the
// current leader epoch; v10 allows zstd; v11 rack-aware reads (rackId, preferredReadReplica);
// v12 is the first flexible version and adds lastFetchedEpoch plus tagged diverging epoch,
// current leader and snapshot id; v13 names topics by id instead of by name (KIP-516).
import type { MessageSpec } from '../spec.ts';

export const FetchRequest: MessageSpec = {
  apiKey: 1,
  name: 'Fetch',
  type: 'request',
  validVersions: [4, 13],
  flexibleVersions: 12,
  fields: [
    {
      name: 'clusterId',
      type: 'string',
      versions: '12+',
      nullableVersions: '12+',
      default: null,
      taggedVersions: '12+',
      tag: 0,
      ignorable: true,
    },
    // -1 for a consumer; a follower's broker id otherwise.
    { name: 'replicaId', type: 'int32', versions: '0-14', default: -1 },
    { name: 'maxWaitMs', type: 'int32', versions: '0+' },
    { name: 'minBytes', type: 'int32', versions: '0+' },
    { name: 'maxBytes', type: 'int32', versions: '3+', default: 0x7fffffff, ignorable: true },
    { name: 'isolationLevel', type: 'int8', versions: '4+', default: 0 },
    { name: 'sessionId', type: 'int32', versions: '7+', default: 0 },
    { name: 'sessionEpoch', type: 'int32', versions: '7+', default: -1 },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '0-12', ignorable: true },
          { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partition', type: 'int32', versions: '0+' },
                { name: 'currentLeaderEpoch', type: 'int32', versions: '9+', default: -1, ignorable: true },
                { name: 'fetchOffset', type: 'int64', versions: '0+' },
                { name: 'lastFetchedEpoch', type: 'int32', versions: '12+', default: -1 },
                { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1 },
                { name: 'partitionMaxBytes', type: 'int32', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
    {
      name: 'forgottenTopicsData',
      versions: '7+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '7-12', ignorable: true },
          { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
          { name: 'partitions', type: { arrayOf: 'int32' }, versions: '7+' },
        ],
      },
    },
    { name: 'rackId', type: 'string', versions: '11+', default: '', ignorable: true },
  ],
};

export const FetchResponse: MessageSpec = {
  apiKey: 1,
  name: 'Fetch',
  type: 'response',
  validVersions: [4, 13],
  flexibleVersions: 12,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '7+', ignorable: true },
    { name: 'sessionId', type: 'int32', versions: '7+', default: 0 },
    {
      name: 'responses',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '0-12', ignorable: true },
          { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
                { name: 'highWatermark', type: 'int64', versions: '0+' },
                { name: 'lastStableOffset', type: 'int64', versions: '4+', default: -1, ignorable: true },
                { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1, ignorable: true },
                {
                  // Where the follower's log diverges from the leader's (tagged, v12+).
                  name: 'divergingEpoch',
                  versions: '12+',
                  taggedVersions: '12+',
                  tag: 0,
                  type: {
                    struct: [
                      { name: 'epoch', type: 'int32', versions: '12+', default: -1 },
                      { name: 'endOffset', type: 'int64', versions: '12+', default: -1 },
                    ],
                  },
                },
                {
                  name: 'currentLeader',
                  versions: '12+',
                  taggedVersions: '12+',
                  tag: 1,
                  type: {
                    struct: [
                      { name: 'leaderId', type: 'int32', versions: '12+', default: -1 },
                      { name: 'leaderEpoch', type: 'int32', versions: '12+', default: -1 },
                    ],
                  },
                },
                {
                  // The specification orders endOffset before epoch here, unlike divergingEpoch.
                  name: 'snapshotId',
                  versions: '12+',
                  taggedVersions: '12+',
                  tag: 2,
                  type: {
                    struct: [
                      { name: 'endOffset', type: 'int64', versions: '0+', default: -1 },
                      { name: 'epoch', type: 'int32', versions: '0+', default: -1 },
                    ],
                  },
                },
                {
                  name: 'abortedTransactions',
                  versions: '4+',
                  nullableVersions: '4+',
                  ignorable: true,
                  type: {
                    arrayOfStruct: [
                      { name: 'producerId', type: 'int64', versions: '4+' },
                      { name: 'firstOffset', type: 'int64', versions: '4+' },
                    ],
                  },
                },
                { name: 'preferredReadReplica', type: 'int32', versions: '11+', default: -1 },
                { name: 'records', type: 'records', versions: '0+', nullableVersions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
