// ShareGroupHeartbeat (API key 76): a member of a KIP-932 share group joins, heartbeats and
// leaves through this one request, and learns the partitions it may fetch from.
// Transcribed from Kafka's ShareGroupHeartbeatRequest/Response.json, served version 1.
// Version notes: every version is flexible; v0 was Kafka 4.0's early access and is not served
// (Kafka 4.1 removed it); v1 is the stable version. The member id is made by the client. Fields
// documented as "null if unchanged since the last heartbeat" keep the member's previous value.
import type { FieldSpec, MessageSpec } from '../spec.ts';

const topicPartitions: FieldSpec[] = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'partitions', type: { arrayOf: 'int32' }, versions: '0+' },
];

export const ShareGroupHeartbeatRequest: MessageSpec = {
  apiKey: 76,
  name: 'ShareGroupHeartbeat',
  type: 'request',
  validVersions: [1, 1],
  flexibleVersions: 1,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    // 0 to join, -1 to leave.
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'subscribedTopicNames', type: { arrayOf: 'string' }, versions: '0+', nullableVersions: '0+', default: null },
  ],
};

export const ShareGroupHeartbeatResponse: MessageSpec = {
  apiKey: 76,
  name: 'ShareGroupHeartbeat',
  type: 'response',
  validVersions: [1, 1],
  flexibleVersions: 1,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'heartbeatIntervalMs', type: 'int32', versions: '0+' },
    // null when unchanged since the member's last heartbeat.
    {
      name: 'assignment',
      versions: '0+',
      nullableVersions: '0+',
      default: null,
      type: { struct: [{ name: 'topicPartitions', versions: '0+', type: { arrayOfStruct: topicPartitions } }] },
    },
  ],
};
