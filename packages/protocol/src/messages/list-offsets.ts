// ListOffsets (API key 2): the offset for a timestamp, or the earliest / latest / max-timestamp
// offset (timestamps -2 / -1 / -3).
// Transcribed from the Kafka protocol specification, served versions 1-10 (Kafka 4 dropped 0, and
// with it the v0-only maxNumOffsets and oldStyleOffsets fields, which are therefore not listed).
// Version notes: v2 adds isolation level and throttle time; v4 the current/returned leader
// epoch; v5 allows OFFSET_NOT_AVAILABLE; v6 is the first flexible version; v7 allows the
// max-timestamp query (KIP-734); v8 the earliest-local query (-4, KIP-405); v9 the latest-tiered
// query (-5, KIP-1005); v10 adds timeoutMs (how long to wait for remote storage, KIP-1075). v11
// (the earliest-pending-upload query, -6) is not served: Sluice has no tiered storage.
import type { MessageSpec } from '../spec.ts';

export const ListOffsetsRequest: MessageSpec = {
  apiKey: 2,
  name: 'ListOffsets',
  type: 'request',
  validVersions: [1, 10],
  flexibleVersions: 6,
  fields: [
    { name: 'replicaId', type: 'int32', versions: '0+' },
    { name: 'isolationLevel', type: 'int8', versions: '2+' },
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
                { name: 'currentLeaderEpoch', type: 'int32', versions: '4+', default: -1, ignorable: true },
                { name: 'timestamp', type: 'int64', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
    { name: 'timeoutMs', type: 'int32', versions: '10+', ignorable: true },
  ],
};

export const ListOffsetsResponse: MessageSpec = {
  apiKey: 2,
  name: 'ListOffsets',
  type: 'response',
  validVersions: [1, 10],
  flexibleVersions: 6,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
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
                { name: 'timestamp', type: 'int64', versions: '1+', default: -1 },
                { name: 'offset', type: 'int64', versions: '1+', default: -1 },
                { name: 'leaderEpoch', type: 'int32', versions: '4+', default: -1 },
              ],
            },
          },
        ],
      },
    },
  ],
};
