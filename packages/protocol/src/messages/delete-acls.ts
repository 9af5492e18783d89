// DeleteAcls (API key 31): remove every ACL binding matching each filter; one result per filter,
// listing the bindings it removed.
// Transcribed from the Kafka protocol specification, served versions 0-3 (served by the
// broker: packages/broker/src/handlers/delete-acls.ts).
// Version notes: v1 adds the pattern type filter (v0 filters are LITERAL, 3); v2 is the first
// flexible version; v3 adds the USER resource type (no wire change).
import type { MessageSpec } from '../spec.ts';

export const DeleteAclsRequest: MessageSpec = {
  apiKey: 31,
  name: 'DeleteAcls',
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: 2,
  fields: [
    {
      name: 'filters',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'resourceTypeFilter', type: 'int8', versions: '0+' },
          { name: 'resourceNameFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'patternTypeFilter', type: 'int8', versions: '1+', default: 3 },
          { name: 'principalFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'hostFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'operation', type: 'int8', versions: '0+' },
          { name: 'permissionType', type: 'int8', versions: '0+' },
        ],
      },
    },
  ],
};

export const DeleteAclsResponse: MessageSpec = {
  apiKey: 31,
  name: 'DeleteAcls',
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'filterResults',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          {
            name: 'matchingAcls',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'errorCode', type: 'int16', versions: '0+' },
                { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
                { name: 'resourceType', type: 'int8', versions: '0+' },
                { name: 'resourceName', type: 'string', versions: '0+' },
                { name: 'patternType', type: 'int8', versions: '1+', default: 3 },
                { name: 'principal', type: 'string', versions: '0+' },
                { name: 'host', type: 'string', versions: '0+' },
                { name: 'operation', type: 'int8', versions: '0+' },
                { name: 'permissionType', type: 'int8', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
