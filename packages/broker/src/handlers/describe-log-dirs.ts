// DescribeLogDirs (key 35).
// Behavior: as Kafka's ReplicaManager.describeLogDirs. One result per configured log dir (its
// absolute path), listing the partitions whose log lives there, filtered by the request (null
// topics: every partition; unknown topics and partitions are simply absent, as in Kafka): the
// bytes of its segments on disk, the offset lag (log end offset minus high watermark, the
// current log's definition) and isFutureKey false (Sluice never moves a replica between dirs:
// AlterReplicaLogDirs is not served). v4+ adds the filesystem's total and usable bytes (statfs;
// Kafka's FileStore total and usable space). A dir whose filesystem cannot be read (gone,
// unmounted) is KAFKA_STORAGE_ERROR with no topics, as Kafka reports an offline dir; an offline
// partition is left out of its dir's list (Sluice takes partitions offline one by one, Kafka
// whole dirs, so the dir itself stays online). Never cordoned (KIP-1066 is not implemented).
// Authorization as Kafka's KafkaApis: DESCRIBE on the cluster, else no results and (v3+)
// CLUSTER_AUTHORIZATION_FAILED as the top-level error (v1–2 have no field for it: just empty).
// Version notes: served v1–5 (Kafka 4 dropped v0). v2+ flexible; v3 top-level error code; v4
// totalBytes/usableBytes; v5 isCordoned.

import { statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode } from '@sluice/protocol';
import type { Partition } from '../partition.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

interface DescribedPartition {
  partitionIndex: number;
  partitionSize: number;
  offsetLag: number;
  isFutureKey: boolean;
}

function describePartition(p: Partition): DescribedPartition {
  return { partitionIndex: p.index, partitionSize: p.log.sizeBytes, offsetLag: Math.max(0, p.logEndOffset - p.highWatermark), isFutureKey: false };
}

export const describeLogDirsHandler = defineHandler({
  apiKey: 35,
  minVersion: 1,
  maxVersion: 5,
  handle(ctx, request) {
    const { broker } = ctx;
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    }
    // Which partitions were asked for: null means all of them.
    const wanted: Map<string, Set<number>> | null = request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]));
    const byDir = new Map<string, Map<string, DescribedPartition[]>>();
    for (const dir of broker.config.logDirs) byDir.set(resolve(dir), new Map());
    for (const topic of broker.topics.topics) {
      const indexes = wanted === null ? null : wanted.get(topic.name);
      if (indexes === undefined) continue;
      for (const p of topic.partitions) {
        if ((indexes !== null && !indexes.has(p.index)) || p.offline) continue;
        const topics = byDir.get(resolve(p.logDir));
        if (topics === undefined) continue;
        const list = topics.get(topic.name) ?? [];
        list.push(describePartition(p));
        topics.set(topic.name, list);
      }
    }
    const results = [...byDir].map(([logDir, topics]) => {
      let fs: { blocks: number; bavail: number; bsize: number };
      try {
        fs = statfsSync(logDir);
      } catch {
        return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir, topics: [], totalBytes: -1, usableBytes: -1, isCordoned: false };
      }
      return {
        errorCode: ErrorCode.NONE,
        logDir,
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        totalBytes: fs.blocks * fs.bsize,
        usableBytes: fs.bavail * fs.bsize,
        isCordoned: false,
      };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
  },
});
