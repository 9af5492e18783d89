// DescribeCluster (API key 60): cluster id, controller and brokers (the admin client's view).
// Transcribed from the Kafka protocol specification, served versions 0-1.
// Version notes: every version is flexible; v1 adds the endpoint type (1 brokers, 2 controllers,
// KIP-919) and the MISMATCHED_ENDPOINT_TYPE / UNSUPPORTED_ENDPOINT_TYPE errors.
import type { MessageSpec } from '../spec.ts';

export const DescribeClusterRequest: MessageSpec = {
  apiKey: 60,
  name: 'DescribeCluster',
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 0,
  fields: [
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '0+' },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
  ],
};

export const DescribeClusterResponse: MessageSpec = {
  apiKey: 60,
  name: 'DescribeCluster',
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 0,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
    { name: 'clusterId', type: 'string', versions: '0+' },
    { name: 'controllerId', type: 'int32', versions: '0+', default: -1 },
    {
      name: 'brokers',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'brokerId', type: 'int32', versions: '0+' },
          { name: 'host', type: 'string', versions: '0+' },
          { name: 'port', type: 'int32', versions: '0+' },
          { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        ],
      },
    },
    // Integer.MIN_VALUE: authorized operations were not requested.
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
  ],
};
