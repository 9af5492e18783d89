// InitProducerId (API key 22): allocate a producer id and epoch for an idempotent or
// transactional producer.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 changes throttling order only; v2 is the first flexible version; v3 adds the
// current producerId/epoch so a producer can resume after INVALID_PRODUCER_EPOCH; v4 allows
// PRODUCER_FENCED; v5 allows TRANSACTION_ABORTABLE (KIP-890).
import type { MessageSpec } from '../spec.ts';

export const InitProducerIdRequest: MessageSpec = {
  apiKey: 22,
  name: 'InitProducerId',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 2,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '3+', default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '3+', default: -1 },
  ],
};

export const InitProducerIdResponse: MessageSpec = {
  apiKey: 22,
  name: 'InitProducerId',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+', default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
  ],
};
