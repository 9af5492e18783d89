// TxnOffsetCommit (API key 28): a transactional producer commits a consumer group's offsets as
// part of its transaction; the group coordinator holds them pending until the COMMIT marker.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 changes throttling order only; v2 adds the committed leader epoch; v3 is the
// first flexible version and adds generationId, memberId and groupInstanceId (KIP-447: the
// coordinator fences a zombie by its generation); v4 allows TRANSACTION_ABORTABLE (KIP-890); v5
// is v4 for `transaction.version` 2, where the group's partition is added implicitly.
import type { MessageSpec } from '../spec.ts';

export const TxnOffsetCommitRequest: MessageSpec = {
  apiKey: 28,
  name: 'TxnOffsetCommit',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    // -1 with an empty memberId (and any version below 3): no generation check.
    { name: 'generationId', type: 'int32', versions: '3+', default: -1 },
    { name: 'memberId', type: 'string', versions: '3+', default: '' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'committedOffset', type: 'int64', versions: '0+' },
                { name: 'committedLeaderEpoch', type: 'int32', versions: '2+', default: -1, ignorable: true },
                { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};

export const TxnOffsetCommitResponse: MessageSpec = {
  apiKey: 28,
  name: 'TxnOffsetCommit',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'topics',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
