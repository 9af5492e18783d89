// FindCoordinator (API key 10): which broker coordinates a consumer group or a transactional id.
// Transcribed from the Kafka protocol specification, described versions 0-5.
// Version notes: v1 adds keyType (0 = group, 1 = transaction) and the error message; v3 is the
// first flexible version; v4 batches lookups (coordinatorKeys in, coordinators out) and drops
// the single-key fields; v5 is v4 for clients that know TRANSACTION_ABORTABLE (KIP-890). (v6
// adds key type 2, share groups, not described.)
import type { MessageSpec } from '../spec.ts';

export const FindCoordinatorRequest: MessageSpec = {
  apiKey: 10,
  name: 'FindCoordinator',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'key', type: 'string', versions: '0-3' },
    { name: 'keyType', type: 'int8', versions: '1+', default: 0 },
    { name: 'coordinatorKeys', type: { arrayOf: 'string' }, versions: '4+' },
  ],
};

export const FindCoordinatorResponse: MessageSpec = {
  apiKey: 10,
  name: 'FindCoordinator',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0-3' },
    { name: 'errorMessage', type: 'string', versions: '1-3', nullableVersions: '1-3', ignorable: true },
    { name: 'nodeId', type: 'int32', versions: '0-3' },
    { name: 'host', type: 'string', versions: '0-3' },
    { name: 'port', type: 'int32', versions: '0-3' },
    {
      name: 'coordinators',
      versions: '4+',
      type: {
        arrayOfStruct: [
          { name: 'key', type: 'string', versions: '4+' },
          { name: 'nodeId', type: 'int32', versions: '4+' },
          { name: 'host', type: 'string', versions: '4+' },
          { name: 'port', type: 'int32', versions: '4+' },
          { name: 'errorCode', type: 'int16', versions: '4+' },
          { name: 'errorMessage', type: 'string', versions: '4+', nullableVersions: '4+', ignorable: true },
        ],
      },
    },
  ],
};
