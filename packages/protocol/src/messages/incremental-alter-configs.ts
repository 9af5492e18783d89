// IncrementalAlterConfigs (API key 44): set, delete, append to or subtract from individual
// config keys of topics and brokers.
// Transcribed from the Kafka protocol specification, served versions 0-1.
// Version notes: v1 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const IncrementalAlterConfigsRequest: MessageSpec = {
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 1,
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
                // 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT.
                { name: 'configOperation', type: 'int8', versions: '0+' },
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

export const IncrementalAlterConfigsResponse: MessageSpec = {
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 1,
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
