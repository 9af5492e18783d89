// ApiVersions (API key 18): the client asks which API versions the broker serves.
// Transcribed from the Kafka protocol specification, served versions 0-5.
// Version notes: v1 adds throttle time; v3 is the first flexible version, adds the client's
// software name/version and the feature tagged fields; v4 only lifts a client-side restriction on
// feature minVersion 0; v5 (KIP-1242) adds the cluster id and node id the client expects to reach,
// so a misrouted connection is told to rebootstrap (the response is unchanged). Whatever the
// version, the response header is v0 (handled in the codec).
import type { MessageSpec } from '../spec.ts';

export const ApiVersionsRequest: MessageSpec = {
  apiKey: 18,
  name: 'ApiVersions',
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'clientSoftwareName', type: 'string', versions: '3+', ignorable: true },
    { name: 'clientSoftwareVersion', type: 'string', versions: '3+', ignorable: true },
    // Both unset (null, -1) on a bootstrap connection or when the client does not check; both set
    // otherwise. Plain (not tagged) fields, as kafka-clients 4.4 and franz-go put them on the wire.
    { name: 'clusterId', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
    { name: 'nodeId', type: 'int32', versions: '5+', default: -1, ignorable: true },
  ],
};

export const ApiVersionsResponse: MessageSpec = {
  apiKey: 18,
  name: 'ApiVersions',
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: 3,
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'apiKeys',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'apiKey', type: 'int16', versions: '0+' },
          { name: 'minVersion', type: 'int16', versions: '0+' },
          { name: 'maxVersion', type: 'int16', versions: '0+' },
        ],
      },
    },
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    {
      name: 'supportedFeatures',
      versions: '3+',
      taggedVersions: '3+',
      tag: 0,
      ignorable: true,
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '3+' },
          { name: 'minVersion', type: 'int16', versions: '3+' },
          { name: 'maxVersion', type: 'int16', versions: '3+' },
        ],
      },
    },
    {
      name: 'finalizedFeaturesEpoch',
      type: 'int64',
      versions: '3+',
      taggedVersions: '3+',
      tag: 1,
      default: -1,
      ignorable: true,
    },
    {
      name: 'finalizedFeatures',
      versions: '3+',
      taggedVersions: '3+',
      tag: 2,
      ignorable: true,
      type: {
        arrayOfStruct: [
          { name: 'name', type: 'string', versions: '3+' },
          // The specification lists max before min here, unlike supportedFeatures.
          { name: 'maxVersionLevel', type: 'int16', versions: '3+' },
          { name: 'minVersionLevel', type: 'int16', versions: '3+' },
        ],
      },
    },
    {
      name: 'zkMigrationReady',
      type: 'bool',
      versions: '3+',
      taggedVersions: '3+',
      tag: 3,
      default: false,
      ignorable: true,
    },
  ],
};
