// OffsetCommit (API key 8): a consumer stores its committed offsets in the group coordinator.
// Transcribed from the Kafka protocol specification, served versions 2-9 (Kafka 4 dropped 0-1).
// Version notes: v2-v4 carry retentionTimeMs (removed in v5: retention is a broker setting);
// v3 adds throttle time; v6 adds the committed leader epoch; v7 adds groupInstanceId; v8 is the
// first flexible version; v9 is v8 for the KIP-848 consumer protocol, where the generation field
// carries the member epoch. (v1's per-partition commitTimestamp is below the served range.)
import type { MessageSpec } from '../spec.ts';

export const OffsetCommitRequest: MessageSpec = {
  apiKey: 8,
  name: 'OffsetCommit',
  type: 'request',
  validVersions: [2, 9],
  flexibleVersions: 8,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    // -1 with an empty memberId: a simple (non-member) commit, no generation check.
    { name: 'generationIdOrMemberEpoch', type: 'int32', versions: '1+', default: -1, ignorable: true },
    { name: 'memberId', type: 'string', versions: '1+', ignorable: true },
    { name: 'groupInstanceId', type: 'string', versions: '7+', nullableVersions: '7+', default: null },
    { name: 'retentionTimeMs', type: 'int64', versions: '2-4', default: -1, ignorable: true },
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
                { name: 'committedOffset', type: 'int64', versions: '0+' },
                { name: 'committedLeaderEpoch', type: 'int32', versions: '6+', default: -1, ignorable: true },
                { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};

export const OffsetCommitResponse: MessageSpec = {
  apiKey: 8,
  name: 'OffsetCommit',
  type: 'response',
  validVersions: [2, 9],
  flexibleVersions: 8,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
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
