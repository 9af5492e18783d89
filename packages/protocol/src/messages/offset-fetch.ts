// OffsetFetch (API key 9): a consumer reads back the committed offsets of a group.
// Transcribed from the Kafka protocol specification, served versions 1-9 (Kafka 4 dropped 0).
// Version notes: v2 allows topics = null (all topics of the group) and adds a top-level error
// code; v3 adds throttle time; v5 adds the committed leader epoch; v6 is the first flexible
// version; v7 adds requireStable; v8 replaces the single group with a batch of groups (request
// `groups`, response `groups`), so the top-level groupId/topics/errorCode exist only up to v7;
// v9 adds memberId/memberEpoch per group for the KIP-848 consumer protocol.
import type { FieldSpec, MessageSpec } from '../spec.ts';

// The per-partition result is the same before and after the v8 batching, only its version range
// differs; built by a function so the two copies cannot drift apart.
function partitionResult(versions: string, epochVersions: string): FieldSpec[] {
  return [
    { name: 'partitionIndex', type: 'int32', versions },
    { name: 'committedOffset', type: 'int64', versions },
    { name: 'committedLeaderEpoch', type: 'int32', versions: epochVersions, default: -1, ignorable: true },
    { name: 'metadata', type: 'string', versions, nullableVersions: versions },
    { name: 'errorCode', type: 'int16', versions },
  ];
}

export const OffsetFetchRequest: MessageSpec = {
  apiKey: 9,
  name: 'OffsetFetch',
  type: 'request',
  validVersions: [1, 9],
  flexibleVersions: 6,
  fields: [
    { name: 'groupId', type: 'string', versions: '0-7' },
    {
      name: 'topics',
      versions: '0-7',
      nullableVersions: '2-7',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0-7' },
          { name: 'partitionIndexes', type: { arrayOf: 'int32' }, versions: '0-7' },
        ],
      },
    },
    {
      name: 'groups',
      versions: '8+',
      type: {
        arrayOfStruct: [
          { name: 'groupId', type: 'string', versions: '8+' },
          { name: 'memberId', type: 'string', versions: '9+', nullableVersions: '9+', default: null, ignorable: true },
          { name: 'memberEpoch', type: 'int32', versions: '9+', default: -1, ignorable: true },
          {
            name: 'topics',
            versions: '8+',
            nullableVersions: '8+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '8+' },
                { name: 'partitionIndexes', type: { arrayOf: 'int32' }, versions: '8+' },
              ],
            },
          },
        ],
      },
    },
    { name: 'requireStable', type: 'bool', versions: '7+', default: false },
  ],
};

export const OffsetFetchResponse: MessageSpec = {
  apiKey: 9,
  name: 'OffsetFetch',
  type: 'response',
  validVersions: [1, 9],
  flexibleVersions: 6,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    {
      name: 'topics',
      versions: '0-7',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0-7' },
          { name: 'partitions', versions: '0-7', type: { arrayOfStruct: partitionResult('0-7', '5-7') } },
        ],
      },
    },
    { name: 'errorCode', type: 'int16', versions: '2-7', default: 0, ignorable: true },
    {
      name: 'groups',
      versions: '8+',
      type: {
        arrayOfStruct: [
          { name: 'groupId', type: 'string', versions: '8+' },
          {
            name: 'topics',
            versions: '8+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '8+' },
                { name: 'partitions', versions: '8+', type: { arrayOfStruct: partitionResult('8+', '8+') } },
              ],
            },
          },
          { name: 'errorCode', type: 'int16', versions: '8+', default: 0, ignorable: true },
        ],
      },
    },
  ],
};
