// ConsumerGroupDescribe (API key 69): members, epochs and assignments of KIP-848 consumer groups.
// Transcribed from Kafka's ConsumerGroupDescribeRequest/Response.json, served versions 0-1.
// Version notes: every version is flexible; v1 (KIP-1099) adds each member's MemberType
// (-1 unknown, 0 classic, 1 consumer); the request is the same in both versions.
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

export const ConsumerGroupDescribeRequest: MessageSpec = {
  apiKey: 69,
  name: 'ConsumerGroupDescribe',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 0,
  fields: [
    { name: 'groupIds', type: { arrayOf: 'string' }, versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '0+' },
  ],
};

export const ConsumerGroupDescribeResponse: MessageSpec = {
  apiKey: 69,
  name: 'ConsumerGroupDescribe',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 0,
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
                { name: 'instanceId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
                { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
                { name: 'memberEpoch', type: 'int32', versions: '0+' },
                { name: 'clientId', type: 'string', versions: '0+' },
                { name: 'clientHost', type: 'string', versions: '0+' },
                { name: 'subscribedTopicNames', type: { arrayOf: 'string' }, versions: '0+' },
                { name: 'subscribedTopicRegex', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
                { name: 'assignment', versions: '0+', type: { struct: assignment } },
                { name: 'targetAssignment', versions: '0+', type: { struct: assignment } },
                { name: 'memberType', type: 'int8', versions: '1+', default: -1, ignorable: true },
              ],
            },
          },
          // Not computed here (no ACLs yet): Kafka's "not requested" value.
          { name: 'authorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
        ],
      },
    },
  ],
};
