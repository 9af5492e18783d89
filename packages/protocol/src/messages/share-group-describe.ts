// ShareGroupDescribe (API key 77): members, epochs and assignments of KIP-932 share groups.
// Transcribed from Kafka's ShareGroupDescribeRequest/Response.json, served version 1.
// Version notes: every version is flexible; v0 (Kafka 4.0 early access) is not served; v1 is the
// stable version (its answer may carry TOPIC_AUTHORIZATION_FAILED).
import type { FieldSpec, MessageSpec } from '../spec.ts';

const assignment: FieldSpec[] = [
  {
    name: 'topicPartitions',
    versions: '0+',
    type: {
      arrayOfStruct: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'topicName', type: 'string', versions: '0+' },
        { name: 'partitions', type: { arrayOf: 'int32' }, versions: '0+' },
      ],
    },
  },
];

export const ShareGroupDescribeRequest: MessageSpec = {
  apiKey: 77,
  name: 'ShareGroupDescribe',
  type: 'request',
  validVersions: [1, 1],
  flexibleVersions: 1,
  fields: [
    { name: 'groupIds', type: { arrayOf: 'string' }, versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '0+' },
  ],
};

export const ShareGroupDescribeResponse: MessageSpec = {
  apiKey: 77,
  name: 'ShareGroupDescribe',
  type: 'response',
  validVersions: [1, 1],
  flexibleVersions: 1,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'groups',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          { name: 'groupId', type: 'string', versions: '0+' },
          { name: 'groupState', type: 'string', versions: '0+' },
          { name: 'groupEpoch', type: 'int32', versions: '0+' },
          { name: 'assignmentEpoch', type: 'int32', versions: '0+' },
          { name: 'assignorName', type: 'string', versions: '0+' },
          {
            name: 'members',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'memberId', type: 'string', versions: '0+' },
                { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
                { name: 'memberEpoch', type: 'int32', versions: '0+' },
                { name: 'clientId', type: 'string', versions: '0+' },
                { name: 'clientHost', type: 'string', versions: '0+' },
                { name: 'subscribedTopicNames', type: { arrayOf: 'string' }, versions: '0+' },
                { name: 'assignment', versions: '0+', type: { struct: assignment } },
              ],
            },
          },
          // Kafka's "not requested" value unless the request asked for it.
          { name: 'authorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
        ],
      },
    },
  ],
};
