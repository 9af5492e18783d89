// CreateAcls (API key 30): add ACL bindings, one result per creation in request order.
// Transcribed from the Kafka protocol specification, served versions 0-3 (served by the
// broker: packages/broker/src/handlers/create-acls.ts).
// Version notes: v1 adds the resource pattern type (v0 creations are LITERAL, pattern type 3);
// v2 is the first flexible version; v3 adds the USER resource type (no wire change).
import type { MessageSpec } from '../spec.ts';

export const CreateAclsRequest: MessageSpec = {
  apiKey: 30,
  name: 'CreateAcls',
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: 2,
  fields: [
    {
      name: 'creations',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
          { name: 'resourcePatternType', type: 'int8', versions: '1+', default: 3 },
          { name: 'principal', type: 'string', versions: '0+' },
          { name: 'host', type: 'string', versions: '0+' },
          { name: 'operation', type: 'int8', versions: '0+' },
          { name: 'permissionType', type: 'int8', versions: '0+' },
        ],
      },
    },
  ],
};

export const CreateAclsResponse: MessageSpec = {
  apiKey: 30,
  name: 'CreateAcls',
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        ],
      },
    },
  ],
};
