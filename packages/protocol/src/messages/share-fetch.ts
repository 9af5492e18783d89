// ShareFetch (API key 78): a share-group member fetches records it then holds under an
// acquisition lock, and acknowledges earlier deliveries in the same request (piggy-backed acks).
// Transcribed from Kafka's ShareFetchRequest/Response.json, served versions 1-2.
// Version notes: every version is flexible; v0 (Kafka 4.0 early access, with PartitionMaxBytes)
// is not served. v1 adds MaxRecords and BatchSize to the request and AcquisitionLockTimeoutMs to
// the response. v2 (Kafka 4.2) adds ShareAcquireMode (KIP-1206: 0 batch-optimized, 1
// record-limit) and IsRenewAck (KIP-1222: the acknowledgements carry type 4, Renew).
import type { FieldSpec, MessageSpec } from '../spec.ts';

/** One acknowledgement range: a type per offset, or one type for the whole range. */
export const acknowledgementBatch: FieldSpec[] = [
  { name: 'firstOffset', type: 'int64', versions: '0+' },
  { name: 'lastOffset', type: 'int64', versions: '0+' },
  // 0 gap, 1 accept, 2 release, 3 reject, 4 renew (v2).
  { name: 'acknowledgeTypes', type: { arrayOf: 'int8' }, versions: '0+' },
];

export const leaderIdAndEpoch: FieldSpec[] = [
  { name: 'leaderId', type: 'int32', versions: '0+' },
  { name: 'leaderEpoch', type: 'int32', versions: '0+' },
];

export const nodeEndpoint: FieldSpec[] = [
  { name: 'nodeId', type: 'int32', versions: '0+' },
  { name: 'host', type: 'string', versions: '0+' },
  { name: 'port', type: 'int32', versions: '0+' },
  { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
];

export const ShareFetchRequest: MessageSpec = {
  apiKey: 78,
  name: 'ShareFetch',
  type: 'request',
  validVersions: [1, 2],
  flexibleVersions: 1,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullableVersions: '0+' },
    // 0 opens a share session, -1 closes it, otherwise the next epoch of the open session.
    { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
    { name: 'maxWaitMs', type: 'int32', versions: '0+' },
    { name: 'minBytes', type: 'int32', versions: '0+' },
    { name: 'maxBytes', type: 'int32', versions: '0+', default: 0x7fffffff },
    { name: 'maxRecords', type: 'int32', versions: '1+' },
    { name: 'batchSize', type: 'int32', versions: '1+' },
    { name: 'shareAcquireMode', type: 'int8', versions: '2+' },
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
    {
      name: 'forgottenTopicsData',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topicId', type: 'uuid', versions: '0+' },
          { name: 'partitions', type: { arrayOf: 'int32' }, versions: '0+' },
        ],
      },
    },
  ],
};

export const ShareFetchResponse: MessageSpec = {
  apiKey: 78,
  name: 'ShareFetch',
  type: 'response',
  validVersions: [1, 2],
  flexibleVersions: 1,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'acquisitionLockTimeoutMs', type: 'int32', versions: '1+' },
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
                { name: 'acknowledgeErrorCode', type: 'int16', versions: '0+' },
                { name: 'acknowledgeErrorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
                { name: 'currentLeader', versions: '0+', type: { struct: leaderIdAndEpoch } },
                { name: 'records', type: 'records', versions: '0+', nullableVersions: '0+' },
                {
                  name: 'acquiredRecords',
                  versions: '0+',
                  type: {
                    arrayOfStruct: [
                      { name: 'firstOffset', type: 'int64', versions: '0+' },
                      { name: 'lastOffset', type: 'int64', versions: '0+' },
                      { name: 'deliveryCount', type: 'int16', versions: '0+' },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
    { name: 'nodeEndpoints', versions: '0+', type: { arrayOfStruct: nodeEndpoint } },
  ],
};
