// ListTransactions (API key 66): the transactional ids a coordinator knows, filtered (the admin
// client's listTransactions, `kafka-transactions.sh list`).
// Transcribed from the Kafka protocol specification, served versions 0-2 (all flexible).
// Version notes: v1 adds durationFilter (KIP-994: only transactions running longer than it);
// v2 adds transactionalIdPattern (KIP-1152: a regular expression over the id; a bad one answers
// INVALID_REGULAR_EXPRESSION). The response is the same in every version.
import type { MessageSpec } from '../spec.ts';

export const ListTransactionsRequest: MessageSpec = {
  apiKey: 66,
  name: 'ListTransactions',
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 0,
  fields: [
    // Empty: every state; else only transactions in one of these state names.
    { name: 'stateFilters', type: { arrayOf: 'string' }, versions: '0+' },
    // Empty: every producer id; else only these.
    { name: 'producerIdFilters', type: { arrayOf: 'int64' }, versions: '0+' },
    // < 0: no filter.
    { name: 'durationFilter', type: 'int64', versions: '1+', default: -1 },
    // null or empty: no filter.
    { name: 'transactionalIdPattern', type: 'string', versions: '2+', nullableVersions: '2+', default: null },
  ],
};

export const ListTransactionsResponse: MessageSpec = {
  apiKey: 66,
  name: 'ListTransactions',
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    // State names the coordinator did not recognise among the filters.
    { name: 'unknownStateFilters', type: { arrayOf: 'string' }, versions: '0+' },
    {
      name: 'transactionStates',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'transactionalId', type: 'string', versions: '0+' },
          { name: 'producerId', type: 'int64', versions: '0+' },
          { name: 'transactionState', type: 'string', versions: '0+' },
        ],
      },
    },
  ],
};
