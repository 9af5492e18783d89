// UpdateFeatures (API key 57): upgrade or downgrade finalized feature levels
// (kafka-features upgrade / downgrade / disable, Admin.updateFeatures).
// Transcribed from Kafka's message definition, served versions 0-2.
// Version notes: every version is flexible; v1 replaces allowDowngrade with upgradeType
// (1 upgrade, 2 safe downgrade, 3 unsafe downgrade) and adds validateOnly; v2 drops the
// per-feature results from the response (the top-level error says it all).
import type { MessageSpec } from '../spec.ts';

export const UpdateFeaturesRequest: MessageSpec = {
  apiKey: 57,
  name: 'UpdateFeatures',
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 0,
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    {
      name: 'featureUpdates',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'feature', type: 'string', versions: '0+' },
          // The new maximum version level; below 1 (with a downgrade allowed) removes the feature.
          { name: 'maxVersionLevel', type: 'int16', versions: '0+' },
          { name: 'allowDowngrade', type: 'bool', versions: '0' },
          { name: 'upgradeType', type: 'int8', versions: '1+', default: 1 },
        ],
      },
    },
    { name: 'validateOnly', type: 'bool', versions: '1+', default: false },
  ],
};

export const UpdateFeaturesResponse: MessageSpec = {
  apiKey: 57,
  name: 'UpdateFeatures',
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    {
      name: 'results',
      versions: '0-1',
      ignorable: true,
      type: {
        arrayOfStruct: [
          { name: 'feature', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        ],
      },
    },
  ],
};
