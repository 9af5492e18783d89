// LeaveGroup (API key 13): one or more members leave a classic consumer group.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 adds throttle time; v3 replaces the single memberId with a batch of member
// identities (memberId + groupInstanceId) and per-member results; v4 is the first flexible
// version; v5 adds a per-member reason.
import type { MessageSpec } from '../spec.ts';

export const LeaveGroupRequest: MessageSpec = {
  apiKey: 13,
  name: 'LeaveGroup',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 4,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0-2' },
    {
      name: 'members',
      versions: '3+',
      type: {
        arrayOfStruct: [
          { name: 'memberId', type: 'string', versions: '3+' },
          { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
          { name: 'reason', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
        ],
      },
    },
  ],
};

export const LeaveGroupResponse: MessageSpec = {
  apiKey: 13,
  name: 'LeaveGroup',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 4,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'members',
      versions: '3+',
      type: {
        arrayOfStruct: [
          { name: 'memberId', type: 'string', versions: '3+' },
          { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+' },
          { name: 'errorCode', type: 'int16', versions: '3+' },
        ],
      },
    },
  ],
};
