// DescribeGroups (API key 15): state, protocol and members of classic groups.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 adds throttle time; v3 adds authorized operations (requested by flag);
// v4 adds each member's groupInstanceId; v5 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const DescribeGroupsRequest: MessageSpec = {
  apiKey: 15,
  name: 'DescribeGroups',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 5,
  fields: [
    { name: 'groups', type: { arrayOf: 'string' }, versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '3+' },
  ],
};

export const DescribeGroupsResponse: MessageSpec = {
  apiKey: 15,
  name: 'DescribeGroups',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 5,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    {
      name: 'groups',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'groupId', type: 'string', versions: '0+' },
          { name: 'groupState', type: 'string', versions: '0+' },
          { name: 'protocolType', type: 'string', versions: '0+' },
          // The selected protocol name (e.g. the assignor); Kafka fills it only when Stable.
          { name: 'protocolData', type: 'string', versions: '0+' },
          {
            name: 'members',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'memberId', type: 'string', versions: '0+' },
                {
                  name: 'groupInstanceId',
                  type: 'string',
                  versions: '4+',
                  nullableVersions: '4+',
                  default: null,
                  ignorable: true,
                },
                { name: 'clientId', type: 'string', versions: '0+' },
                { name: 'clientHost', type: 'string', versions: '0+' },
                { name: 'memberMetadata', type: 'bytes', versions: '0+' },
                { name: 'memberAssignment', type: 'bytes', versions: '0+' },
              ],
            },
          },
          // INT32_MIN means "not requested" (includeAuthorizedOperations was false).
          { name: 'authorizedOperations', type: 'int32', versions: '3+', default: -2147483648 },
        ],
      },
    },
  ],
};
