// EndTxn (API key 26): a transactional producer commits or aborts its ongoing transaction.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 changes throttling order only; v2 allows PRODUCER_FENCED; v3 is the first
// flexible version; v4 allows TRANSACTION_ABORTABLE (KIP-890); v5 is sent only when the
// `transaction.version` feature is 2 (KIP-890 part 2): the coordinator bumps the epoch on every
// EndTxn and the response carries the producer id and epoch for the next transaction.
import type { MessageSpec } from '../spec.ts';

export const EndTxnRequest: MessageSpec = {
  apiKey: 26,
  name: 'EndTxn',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    // true = commit, false = abort.
    { name: 'committed', type: 'bool', versions: '0+' },
  ],
};

export const EndTxnResponse: MessageSpec = {
  apiKey: 26,
  name: 'EndTxn',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '5+', default: -1, ignorable: true },
    { name: 'producerEpoch', type: 'int16', versions: '5+', default: -1, ignorable: true },
  ],
};
