// Heartbeat (API key 12): a classic-group member proves it is alive and learns of rebalances.
// Transcribed from the Kafka protocol specification, served versions 0-4.
// Version notes: v1 adds throttle time; v3 adds groupInstanceId; v4 is the first flexible version.
import type { MessageSpec } from '../spec.ts';

export const HeartbeatRequest: MessageSpec = {
  apiKey: 12,
  name: 'Heartbeat',
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: 4,
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
  ],
};

export const HeartbeatResponse: MessageSpec = {
  apiKey: 12,
  name: 'Heartbeat',
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: 4,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
};
