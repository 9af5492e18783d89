// SyncGroup (API key 14): after a join, the leader hands in the assignment and every member
// receives its own share.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 adds throttle time; v3 adds groupInstanceId; v4 is the first flexible
// version; v5 carries protocolType/protocolName both ways so the coordinator can check them.
import type { MessageSpec } from '../spec.ts';

export const SyncGroupRequest: MessageSpec = {
  apiKey: 14,
  name: 'SyncGroup',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 4,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    { name: 'protocolType', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
    { name: 'protocolName', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
    {
      name: 'assignments',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'memberId', type: 'string', versions: '0+' },
          { name: 'assignment', type: 'bytes', versions: '0+' },
        ],
      },
    },
  ],
};

export const SyncGroupResponse: MessageSpec = {
  apiKey: 14,
  name: 'SyncGroup',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 4,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'protocolType', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
    { name: 'protocolName', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
    { name: 'assignment', type: 'bytes', versions: '0+' },
  ],
};
