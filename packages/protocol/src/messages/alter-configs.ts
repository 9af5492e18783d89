// AlterConfigs (API key 33): replace the whole set of dynamic config overrides of topics and
// brokers (the legacy, non-incremental API; keys left out of a resource are removed).
// Transcribed from the Kafka protocol specification, served versions 0-2.
// Version notes: v1 is v0 (only the throttling order changed); v2 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const AlterConfigsRequest: MessageSpec = {
  apiKey: 33,
  name: 'AlterConfigs',
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    {
      name: 'resources',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
          {
            name: 'configs',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '0+' },
                { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
              ],
            },
          },
        ],
      },
    },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
};

export const AlterConfigsResponse: MessageSpec = {
  apiKey: 33,
  name: 'AlterConfigs',
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'responses',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
        ],
      },
    },
  ],
};
