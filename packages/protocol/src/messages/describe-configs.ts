// DescribeConfigs (API key 32): the configuration of topics (resource type 2) and brokers (4).
// Transcribed from the Kafka protocol specification, served versions 1-4 (Kafka 4 dropped 0, and
// with it the v0-only isDefault field, which is therefore not listed).
// Version notes: v1 adds synonyms and the config source; v2 changes throttling order only; v3
// adds the config type and documentation; v4 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const DescribeConfigsRequest: MessageSpec = {
  apiKey: 32,
  name: 'DescribeConfigs',
  type: 'request',
  validVersions: [1, 4],
  flexibleVersions: 4,
  fields: [
    {
      name: 'resources',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
          // null: every key of the resource.
          { name: 'configurationKeys', type: { arrayOf: 'string' }, versions: '0+', nullableVersions: '0+' },
        ],
      },
    },
    { name: 'includeSynonyms', type: 'bool', versions: '1+', default: false },
    { name: 'includeDocumentation', type: 'bool', versions: '3+', default: false },
  ],
};

export const DescribeConfigsResponse: MessageSpec = {
  apiKey: 32,
  name: 'DescribeConfigs',
  type: 'response',
  validVersions: [1, 4],
  flexibleVersions: 4,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
          {
            name: 'configs',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '0+' },
                { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
                { name: 'readOnly', type: 'bool', versions: '0+' },
                { name: 'configSource', type: 'int8', versions: '1+', default: -1, ignorable: true },
                { name: 'isSensitive', type: 'bool', versions: '0+' },
                {
                  name: 'synonyms',
                  versions: '1+',
                  ignorable: true,
                  type: {
                    arrayOfStruct: [
                      { name: 'name', type: 'string', versions: '1+' },
                      { name: 'value', type: 'string', versions: '1+', nullableVersions: '0+' },
                      { name: 'source', type: 'int8', versions: '1+' },
                    ],
                  },
                },
                { name: 'configType', type: 'int8', versions: '3+', default: 0, ignorable: true },
                {
                  name: 'documentation',
                  type: 'string',
                  versions: '3+',
                  nullableVersions: '0+',
                  // No "null" default in the specification, so v1-2 decode to the empty string.
                  default: '',
                  ignorable: true,
                },
              ],
            },
          },
        ],
      },
    },
  ],
};
