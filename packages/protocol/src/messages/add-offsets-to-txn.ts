// AddOffsetsToTxn (API key 25): a transactional producer announces that it will commit offsets
// for a consumer group in its transaction (the coordinator adds the group's __consumer_offsets
// partition to the transaction).
// Transcribed from the Kafka protocol specification, served versions 0-4.
// Version notes: v1 changes throttling order only; v2 allows PRODUCER_FENCED; v3 is the first
// flexible version; v4 allows TRANSACTION_ABORTABLE (KIP-890).
import type { MessageSpec } from '../spec.ts';

export const AddOffsetsToTxnRequest: MessageSpec = {
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: 3,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
  ],
};

export const AddOffsetsToTxnResponse: MessageSpec = {
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
};
