// ListPartitionReassignments (key 46).
// Behavior: as a single-broker KRaft Kafka answers: no reassignment is ever in progress
// (AlterPartitionReassignments completes at once), so the answer lists no topics, whether the
// request names topics (unknown ones are left out, as Kafka does) or asks for all (null).
// Cluster mode: the same, since replicas are never moved there yet (AlterPartitionReassignments).
// Version notes: served v0 (the only version), flexible.

import { ErrorCode } from '@sluice/protocol';
import { defineHandler } from './handler.ts';

export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: 46,
  minVersion: 0,
  maxVersion: 0,
  handle() {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
  },
});
