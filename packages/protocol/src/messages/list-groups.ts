// ListGroups (API key 16): every group this broker coordinates.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 adds throttle time; v3 is the first flexible version; v4 adds a state
// filter to the request and each group's state to the response; v5 (KIP-848) adds a group type
// filter to the request and each group's type (classic, consumer) to the response.
import type { MessageSpec } from '../spec.ts';

export const ListGroupsRequest: MessageSpec = {
  apiKey: 16,
  name: 'ListGroups',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    // Empty: list groups in every state.
    { name: 'statesFilter', type: { arrayOf: 'string' }, versions: '4+' },
    // Empty: list groups of every type.
    { name: 'typesFilter', type: { arrayOf: 'string' }, versions: '5+' },
  ],
};

export const ListGroupsResponse: MessageSpec = {
  apiKey: 16,
  name: 'ListGroups',
  type: 'response',
  validVersions: [0, 5],
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
          { name: 'groupType', type: 'string', versions: '5+', ignorable: true },
        ],
      },
    },
  ],
};
