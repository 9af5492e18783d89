// DeleteTopics (API key 20): delete topics by name (v1-5) or by name or id (v6).
// Transcribed from the Kafka protocol specification, served versions 1-6 (Kafka 4 dropped 0).
// Version notes: v1 adds throttle time; v3 allows TOPIC_DELETION_DISABLED; v4 is the first
// flexible version; v5 adds a per-topic error message and THROTTLING_QUOTA_EXCEEDED (KIP-599);
// v6 replaces the name list with {name, topicId} entries and returns topic ids.
import type { MessageSpec } from '../spec.ts';

export const DeleteTopicsRequest: MessageSpec = {
  apiKey: 20,
  name: 'DeleteTopics',
  type: 'request',
  validVersions: [1, 6],
  flexibleVersions: 4,
  fields: [
    {
      name: 'topics',
      versions: '6+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '6+', nullableVersions: '6+', default: null },
          { name: 'topicId', type: 'uuid', versions: '6+' },
        ],
      },
    },
    { name: 'topicNames', type: { arrayOf: 'string' }, versions: '0-5', ignorable: true },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
};

export const DeleteTopicsResponse: MessageSpec = {
  apiKey: 20,
  name: 'DeleteTopics',
  type: 'response',
  validVersions: [1, 6],
  flexibleVersions: 4,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    {
      name: 'responses',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+', nullableVersions: '6+' },
          { name: 'topicId', type: 'uuid', versions: '6+', ignorable: true },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          {
            name: 'errorMessage',
            type: 'string',
            versions: '5+',
            nullableVersions: '5+',
            default: null,
            ignorable: true,
          },
        ],
      },
    },
  ],
};
