// OffsetForLeaderEpoch (API key 23): the end offset of a leader epoch, used by consumers to
// detect log truncation after a leader change (KIP-320) and by followers.
// Transcribed from the Kafka protocol specification, served versions 2-4 (Kafka 4 dropped 0-1).
// Version notes: v2 adds the current leader epoch (fencing) and throttle time; v3 adds replicaId;
// v4 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const OffsetForLeaderEpochRequest: MessageSpec = {
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  type: 'request',
  validVersions: [2, 4],
  flexibleVersions: 4,
  fields: [
    // -2 (absent before v3) is the "debug consumer", allowed to see offsets past the high
    // watermark; consumers send -1 and followers their broker id.
    { name: 'replicaId', type: 'int32', versions: '3+', default: -2, ignorable: true },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partition', type: 'int32', versions: '0+' },
                { name: 'currentLeaderEpoch', type: 'int32', versions: '2+', default: -1, ignorable: true },
                { name: 'leaderEpoch', type: 'int32', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};

export const OffsetForLeaderEpochResponse: MessageSpec = {
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  type: 'response',
  validVersions: [2, 4],
  flexibleVersions: 4,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'errorCode', type: 'int16', versions: '0+' },
                { name: 'partition', type: 'int32', versions: '0+' },
                { name: 'leaderEpoch', type: 'int32', versions: '1+', default: -1, ignorable: true },
                { name: 'endOffset', type: 'int64', versions: '0+', default: -1 },
              ],
            },
          },
        ],
      },
    },
  ],
};
