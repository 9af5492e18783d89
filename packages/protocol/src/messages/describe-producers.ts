// DescribeProducers (API key 61): the producers a partition leader tracks — epoch, last
// sequence and timestamp, coordinator epoch, and the first offset of an open transaction (the
// admin client's describeProducers, `kafka-transactions.sh describe-producers`, and the tool's
// hanging-transaction search).
// Transcribed from the Kafka protocol specification, served version 0 (flexible).
// Version notes: only v0. producerEpoch is an int32 here (Kafka's DescribeProducersResponseData holds an int), unlike DescribeTransactions' int16.
import type { MessageSpec } from '../spec.ts';

export const DescribeProducersRequest: MessageSpec = {
  apiKey: 61,
  name: 'DescribeProducers',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
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
  ],
};

export const DescribeProducersResponse: MessageSpec = {
  apiKey: 61,
  name: 'DescribeProducers',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
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
                { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
                {
                  name: 'activeProducers',
                  versions: '0+',
                  type: {
                    arrayOfStruct: [
                      { name: 'producerId', type: 'int64', versions: '0+' },
                      { name: 'producerEpoch', type: 'int32', versions: '0+' },
                      { name: 'lastSequence', type: 'int32', versions: '0+', default: -1 },
                      { name: 'lastTimestamp', type: 'int64', versions: '0+', default: -1 },
                      { name: 'coordinatorEpoch', type: 'int32', versions: '0+' },
                      // -1: no open transaction.
                      { name: 'currentTxnStartOffset', type: 'int64', versions: '0+', default: -1 },
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
