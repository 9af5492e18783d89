// AddPartitionsToTxn (API key 24): add partitions to a producer's ongoing transaction (client,
// v0-3), or, from a partition leader, add or only check them (broker-side verification, v4+).
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 changes throttling order only; v2 allows PRODUCER_FENCED; v3 is the first
// flexible version; v4 batches several transactions (the `transactions` array, with VerifyOnly
// for KIP-890's verification) and adds a top-level error code — the single-transaction fields
// become `v3AndBelow*`, the specification's own names; v5 allows TRANSACTION_ABORTABLE.
// Versions 0-3 are sent by clients, 4+ by brokers, as in Kafka.
import type { FieldSpec, MessageSpec } from '../spec.ts';

const topicFields = (versions: string): readonly FieldSpec[] => [
  { name: 'name', type: 'string', versions },
  { name: 'partitions', type: { arrayOf: 'int32' }, versions },
];

const topicResultFields: readonly FieldSpec[] = [
  { name: 'name', type: 'string', versions: '0+' },
  {
    name: 'resultsByPartition',
    versions: '0+',
    type: {
      arrayOfStruct: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'partitionErrorCode', type: 'int16', versions: '0+' },
      ],
    },
  },
];

export const AddPartitionsToTxnRequest: MessageSpec = {
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    {
      name: 'transactions',
      versions: '4+',
      type: {
        arrayOfStruct: [
          { name: 'transactionalId', type: 'string', versions: '4+' },
          { name: 'producerId', type: 'int64', versions: '4+' },
          { name: 'producerEpoch', type: 'int16', versions: '4+' },
          // true: only check that the partitions are in the transaction (a leader verifying a
          // transactional produce), never add them.
          { name: 'verifyOnly', type: 'bool', versions: '4+', default: false },
          { name: 'topics', versions: '4+', type: { arrayOfStruct: topicFields('0+') } },
        ],
      },
    },
    { name: 'v3AndBelowTransactionalId', type: 'string', versions: '0-3' },
    { name: 'v3AndBelowProducerId', type: 'int64', versions: '0-3' },
    { name: 'v3AndBelowProducerEpoch', type: 'int16', versions: '0-3' },
    { name: 'v3AndBelowTopics', versions: '0-3', type: { arrayOfStruct: topicFields('0+') } },
  ],
};

export const AddPartitionsToTxnResponse: MessageSpec = {
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '4+', ignorable: true },
    {
      name: 'resultsByTransaction',
      versions: '4+',
      type: {
        arrayOfStruct: [
          { name: 'transactionalId', type: 'string', versions: '4+' },
          { name: 'topicResults', versions: '4+', type: { arrayOfStruct: topicResultFields } },
        ],
      },
    },
    { name: 'resultsByTopicV3AndBelow', versions: '0-3', type: { arrayOfStruct: topicResultFields } },
  ],
};
