// ConsumerGroupHeartbeat (API key 68): a member of a KIP-848 consumer group joins, heartbeats,
// acknowledges its assignment and leaves, all through this one request.
// Transcribed from Kafka's ConsumerGroupHeartbeatRequest/Response.json, served versions 0-1.
// Version notes: every version is flexible; v1 adds SubscribedTopicRegex and (KIP-1082) has the
// consumer generate its own member id (the response's memberId echoes it). Fields documented as
// "null if it didn't change since the last heartbeat" keep the member's previous value.
import type { FieldSpec, MessageSpec } from '../spec.ts';

const topicPartitions: FieldSpec[] = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'partitions', type: { arrayOf: 'int32' }, versions: '0+' },
];

export const ConsumerGroupHeartbeatRequest: MessageSpec = {
  apiKey: 68,
  name: 'ConsumerGroupHeartbeat',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 0,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    // 0 to join, -1 to leave, -2 a static member leaving that will rejoin.
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'instanceId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '0+', default: -1 },
    { name: 'subscribedTopicNames', type: { arrayOf: 'string' }, versions: '0+', nullableVersions: '0+', default: null },
    { name: 'subscribedTopicRegex', type: 'string', versions: '1+', nullableVersions: '1+', default: null },
    { name: 'serverAssignor', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'topicPartitions', versions: '0+', nullableVersions: '0+', default: null, type: { arrayOfStruct: topicPartitions } },
  ],
};

export const ConsumerGroupHeartbeatResponse: MessageSpec = {
  apiKey: 68,
  name: 'ConsumerGroupHeartbeat',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 0,
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
