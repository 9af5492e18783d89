// The share-group offset admin APIs (KIP-932): DescribeShareGroupOffsets (API key 90),
// AlterShareGroupOffsets (91) and DeleteShareGroupOffsets (92) read, set and remove the
// share-partition start offsets of a share group.
// Transcribed from Kafka's {Describe,Alter,Delete}ShareGroupOffsets{Request,Response}.json,
// served version 0 of each.
// Version notes: every version is flexible. Kafka 4.2's DescribeShareGroupOffsets v1 (the lag
// of each share-partition) is not served.
import type { FieldSpec, MessageSpec } from '../spec.ts';

const errorFields: FieldSpec[] = [
  { name: 'errorCode', type: 'int16', versions: '0+' },
  { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
];

export const DescribeShareGroupOffsetsRequest: MessageSpec = {
  apiKey: 90,
  name: 'DescribeShareGroupOffsets',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    {
      name: 'groups',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'groupId', type: 'string', versions: '0+' },
          // null: every share-partition of the group.
          {
            name: 'topics',
            versions: '0+',
            nullableVersions: '0+',
            default: null,
            type: {
              arrayOfStruct: [
                { name: 'topicName', type: 'string', versions: '0+' },
                { name: 'partitions', type: { arrayOf: 'int32' }, versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};

export const DescribeShareGroupOffsetsResponse: MessageSpec = {
  apiKey: 90,
  name: 'DescribeShareGroupOffsets',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'groups',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'groupId', type: 'string', versions: '0+' },
          {
            name: 'topics',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'topicName', type: 'string', versions: '0+' },
                { name: 'topicId', type: 'uuid', versions: '0+' },
                {
                  name: 'partitions',
                  versions: '0+',
                  type: {
                    arrayOfStruct: [
                      { name: 'partitionIndex', type: 'int32', versions: '0+' },
                      { name: 'startOffset', type: 'int64', versions: '0+' },
                      { name: 'leaderEpoch', type: 'int32', versions: '0+' },
                      ...errorFields,
                    ],
                  },
                },
              ],
            },
          },
          ...errorFields,
        ],
      },
    },
  ],
};

export const AlterShareGroupOffsetsRequest: MessageSpec = {
  apiKey: 91,
  name: 'AlterShareGroupOffsets',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topicName', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'startOffset', type: 'int64', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};

export const AlterShareGroupOffsetsResponse: MessageSpec = {
  apiKey: 91,
  name: 'AlterShareGroupOffsets',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    ...errorFields,
    {
      name: 'responses',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topicName', type: 'string', versions: '0+' },
          { name: 'topicId', type: 'uuid', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: { arrayOfStruct: [{ name: 'partitionIndex', type: 'int32', versions: '0+' }, ...errorFields] },
          },
        ],
      },
    },
  ],
};

export const DeleteShareGroupOffsetsRequest: MessageSpec = {
  apiKey: 92,
  name: 'DeleteShareGroupOffsets',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', versions: '0+', type: { arrayOfStruct: [{ name: 'topicName', type: 'string', versions: '0+' }] } },
  ],
};

export const DeleteShareGroupOffsetsResponse: MessageSpec = {
  apiKey: 92,
  name: 'DeleteShareGroupOffsets',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    ...errorFields,
    {
      name: 'responses',
      versions: '0+',
      type: {
        arrayOfStruct: [{ name: 'topicName', type: 'string', versions: '0+' }, { name: 'topicId', type: 'uuid', versions: '0+' }, ...errorFields],
      },
    },
  ],
};
