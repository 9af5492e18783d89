// ShareAcknowledge (API key 79): a share-group member acknowledges records it acquired through
// ShareFetch (accept, release, reject; v2 also renew) without fetching more.
// Transcribed from Kafka's ShareAcknowledgeRequest/Response.json, served versions 1-2.
// Version notes: every version is flexible; v0 (Kafka 4.0 early access) is not served. v2 (Kafka
// 4.2, KIP-1222) adds IsRenewAck to the request and AcquisitionLockTimeoutMs to the response.
import type { MessageSpec } from '../spec.ts';
import { acknowledgementBatch, leaderIdAndEpoch, nodeEndpoint } from './share-fetch.ts';

export const ShareAcknowledgeRequest: MessageSpec = {
  apiKey: 79,
  name: 'ShareAcknowledge',
  type: 'request',
  validVersions: [1, 2],
  flexibleVersions: 1,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
    { name: 'isRenewAck', type: 'bool', versions: '2+' },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topicId', type: 'uuid', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'acknowledgementBatches', versions: '0+', type: { arrayOfStruct: acknowledgementBatch } },
              ],
            },
          },
        ],
      },
    },
  ],
};

export const ShareAcknowledgeResponse: MessageSpec = {
  apiKey: 79,
  name: 'ShareAcknowledge',
  type: 'response',
  validVersions: [1, 2],
  flexibleVersions: 1,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'acquisitionLockTimeoutMs', type: 'int32', versions: '2+' },
    {
      name: 'responses',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topicId', type: 'uuid', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
                { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
                { name: 'currentLeader', versions: '0+', type: { struct: leaderIdAndEpoch } },
              ],
            },
          },
        ],
      },
    },
    { name: 'nodeEndpoints', versions: '0+', type: { arrayOfStruct: nodeEndpoint } },
  ],
};
