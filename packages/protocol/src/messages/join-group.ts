// JoinGroup (API key 11): a member joins (or rejoins) a classic consumer group.
// Transcribed from the Kafka protocol specification, served versions 2-9 (Kafka 4 dropped 0-1).
// Version notes: v4 answers a first join with MEMBER_ID_REQUIRED and the assigned member id;
// v5 adds static membership (groupInstanceId); v6 is the first flexible version; v7 returns
// protocolType and makes protocolName nullable; v8 adds the join reason; v9 adds skipAssignment.
import type { MessageSpec } from '../spec.ts';

export const JoinGroupRequest: MessageSpec = {
  apiKey: 11,
  name: 'JoinGroup',
  type: 'request',
  validVersions: [2, 9],
  flexibleVersions: 6,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'sessionTimeoutMs', type: 'int32', versions: '0+' },
    // -1 is only a placeholder: a coordinator falls back to sessionTimeoutMs when it is absent.
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '1+', default: -1, ignorable: true },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
    { name: 'protocolType', type: 'string', versions: '0+' },
    {
      name: 'protocols',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'metadata', type: 'bytes', versions: '0+' },
        ],
      },
    },
    { name: 'reason', type: 'string', versions: '8+', nullableVersions: '8+', default: null, ignorable: true },
  ],
};

export const JoinGroupResponse: MessageSpec = {
  apiKey: 11,
  name: 'JoinGroup',
  type: 'response',
  validVersions: [2, 9],
  flexibleVersions: 6,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+', default: -1 },
    { name: 'protocolType', type: 'string', versions: '7+', nullableVersions: '7+', default: null, ignorable: true },
    { name: 'protocolName', type: 'string', versions: '0+', nullableVersions: '7+' },
    { name: 'leader', type: 'string', versions: '0+' },
    { name: 'skipAssignment', type: 'bool', versions: '9+', default: false },
    { name: 'memberId', type: 'string', versions: '0+' },
    {
      name: 'members',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'memberId', type: 'string', versions: '0+' },
          { name: 'groupInstanceId', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
          { name: 'metadata', type: 'bytes', versions: '0+' },
        ],
      },
    },
  ],
};
