// DescribeLogDirs (API key 35): each log directory of the broker, with the size of every
// partition replica in it (kafka-log-dirs, Admin.describeLogDirs / describeReplicaLogDirs).
// Transcribed from Kafka's message definition, served versions 1-5 (Kafka 4 dropped v0).
// Version notes: v1 is the same as v0 (throttling order only); v2 is the first flexible version;
// v3 adds the top-level error code; v4 adds each directory's total and usable bytes; v5 adds
// whether the directory is cordoned (no new replicas placed there, KIP-1066).
import type { MessageSpec } from '../spec.ts';

export const DescribeLogDirsRequest: MessageSpec = {
  apiKey: 35,
  name: 'DescribeLogDirs',
  type: 'request',
  validVersions: [1, 5],
  flexibleVersions: 2,
  fields: [
    {
      // null: every topic.
      name: 'topics',
      versions: '0+',
      nullableVersions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'topic', type: 'string', versions: '0+' },
          { name: 'partitions', type: { arrayOf: 'int32' }, versions: '0+' },
        ],
      },
    },
  ],
};

export const DescribeLogDirsResponse: MessageSpec = {
  apiKey: 35,
  name: 'DescribeLogDirs',
  type: 'response',
  validVersions: [1, 5],
  flexibleVersions: 2,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '3+' },
    {
      name: 'results',
      versions: '0+',
      type: {
        arrayOfStruct: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'logDir', type: 'string', versions: '0+' },
          {
            name: 'topics',
            versions: '0+',
            type: {
              arrayOfStruct: [
                { name: 'name', type: 'string', versions: '0+' },
                {
                  name: 'partitions',
                  versions: '0+',
                  type: {
                    arrayOfStruct: [
                      { name: 'partitionIndex', type: 'int32', versions: '0+' },
                      { name: 'partitionSize', type: 'int64', versions: '0+' },
                      // Log end offset minus high watermark (current log), or the lag behind the
                      // current log (a future log being moved by AlterReplicaLogDirs).
                      { name: 'offsetLag', type: 'int64', versions: '0+' },
                      { name: 'isFutureKey', type: 'bool', versions: '0+' },
                    ],
                  },
                },
              ],
            },
          },
          { name: 'totalBytes', type: 'int64', versions: '4+', default: -1, ignorable: true },
          { name: 'usableBytes', type: 'int64', versions: '4+', default: -1, ignorable: true },
          { name: 'isCordoned', type: 'bool', versions: '5+', default: false, ignorable: true },
        ],
      },
    },
  ],
};
