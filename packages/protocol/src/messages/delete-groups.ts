// DeleteGroups (API key 42): delete empty groups and their committed offsets.
// Transcribed from the Kafka protocol specification, served versions 0-2.
// Version notes: v1 only changes throttling behaviour; v2 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const DeleteGroupsRequest: MessageSpec = {
  apiKey: 42,
  name: 'DeleteGroups',
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    // The specification's own spelling ("GroupsNames").
    { name: 'groupsNames', type: { arrayOf: 'string' }, versions: '0+' },
  ],
};

export const DeleteGroupsResponse: MessageSpec = {
  apiKey: 42,
  name: 'DeleteGroups',
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'groupId', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
        ],
      },
    },
  ],
};
