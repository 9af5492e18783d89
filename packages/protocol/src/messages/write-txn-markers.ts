// WriteTxnMarkers (API key 27): the transaction coordinator asks partition leaders to append
// COMMIT/ABORT control batches. Broker-to-broker; a single-node broker writes its own markers
// directly, but serves the API as Kafka 4 does for tools and other coordinators.
// Transcribed from the Kafka protocol specification, served versions 1-2 (Kafka 4 removed v0).
// Version notes: v1 is flexible (the new baseline); v2 adds the marker's transactionVersion
// (0/1 = the classic protocol, 2 = KIP-890 part 2).
import type { MessageSpec } from '../spec.ts';

export const WriteTxnMarkersRequest: MessageSpec = {
  apiKey: 27,
  name: 'WriteTxnMarkers',
  type: 'request',
  validVersions: [1, 2],
  flexibleVersions: 1,
  fields: [
    {
      name: 'markers',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'producerId', type: 'int64', versions: '0+' },
          { name: 'producerEpoch', type: 'int16', versions: '0+' },
          // true = COMMIT, false = ABORT.
          { name: 'transactionResult', type: 'bool', versions: '0+' },
          {
            name: 'topics',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '0+' },
                { name: 'partitionIndexes', type: { arrayOf: 'int32' }, versions: '0+' },
              ],
            },
          },
          { name: 'coordinatorEpoch', type: 'int32', versions: '0+' },
          { name: 'transactionVersion', type: 'int8', versions: '2+', default: 0, ignorable: true },
        ],
      },
    },
  ],
};

export const WriteTxnMarkersResponse: MessageSpec = {
  apiKey: 27,
  name: 'WriteTxnMarkers',
  type: 'response',
  validVersions: [1, 2],
  flexibleVersions: 1,
  fields: [
    {
      name: 'markers',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'producerId', type: 'int64', versions: '0+' },
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
      },
    },
  ],
};
