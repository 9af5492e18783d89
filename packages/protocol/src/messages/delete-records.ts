// DeleteRecords (API key 21): move a partition's log start offset forward.
// Transcribed from the Kafka protocol specification, served versions 0-2.
// Version notes: v1 is the same as v0 (throttling order only); v2 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const DeleteRecordsRequest: MessageSpec = {
  apiKey: 21,
  name: 'DeleteRecords',
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
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
                // Delete everything before this offset; -1 means the high watermark.
                { name: 'offset', type: 'int64', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
};

export const DeleteRecordsResponse: MessageSpec = {
  apiKey: 21,
  name: 'DeleteRecords',
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
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
                { name: 'lowWatermark', type: 'int64', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
