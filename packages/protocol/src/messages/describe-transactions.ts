// DescribeTransactions (API key 65): the coordinator's view of transactional ids (the admin
// client's describeTransactions, `kafka-transactions.sh describe`).
// Transcribed from the Kafka protocol specification, served version 0 (flexible).
// Version notes: only v0. producerEpoch is an int16, as everywhere else (Kafka's generated
// DescribeTransactionsResponseData reads a short; an int32 here shifted every later field, and
// Kafka's admin client failed with "non-nullable field topics was serialized as null").
import type { MessageSpec } from '../spec.ts';

export const DescribeTransactionsRequest: MessageSpec = {
  apiKey: 65,
  name: 'DescribeTransactions',
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [{ name: 'transactionalIds', type: { arrayOf: 'string' }, versions: '0+' }],
};

export const DescribeTransactionsResponse: MessageSpec = {
  apiKey: 65,
  name: 'DescribeTransactions',
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    {
      name: 'transactionStates',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'transactionalId', type: 'string', versions: '0+' },
          // Kafka's state name: 'Empty', 'Ongoing', 'PrepareCommit', …
          { name: 'transactionState', type: 'string', versions: '0+' },
          { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
          { name: 'transactionStartTimeMs', type: 'int64', versions: '0+' },
          { name: 'producerId', type: 'int64', versions: '0+' },
          { name: 'producerEpoch', type: 'int16', versions: '0+' },
          {
            // Partitions of the ongoing transaction; while preparing, those still without a marker.
            name: 'topicPartitions',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '0+' },
                { name: 'partitionIndexes', type: { arrayOf: 'int32' }, versions: '0+' },
              ],
            },
          },
        ],
      },
    },
  ],
};
