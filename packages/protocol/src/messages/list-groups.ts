// ListGroups (API key 16): every group this broker coordinates.
// Transcribed from the Kafka protocol specification, served versions 0-4.
// Version notes: v1 adds throttle time; v3 is the first flexible version; v4 adds a state
// filter to the request and each group's state to the response.
import type { MessageSpec } from '../spec.ts';

export const ListGroupsRequest: MessageSpec = {
  apiKey: 16,
  name: 'ListGroups',
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: 3,
  fields: [
    // Empty: list groups in every state.
    { name: 'statesFilter', type: { arrayOf: 'string' }, versions: '4+' },
  ],
};

export const ListGroupsResponse: MessageSpec = {
  apiKey: 16,
  name: 'ListGroups',
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'groups',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'groupId', type: 'string', versions: '0+' },
          { name: 'protocolType', type: 'string', versions: '0+' },
          { name: 'groupState', type: 'string', versions: '4+', ignorable: true },
        ],
      },
    },
  ],
};
