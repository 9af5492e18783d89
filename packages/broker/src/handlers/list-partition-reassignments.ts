// ListPartitionReassignments (key 46).
// Behavior: as a single-broker KRaft Kafka answers: no reassignment is ever in progress
// (AlterPartitionReassignments completes at once), so the answer lists no topics, whether the
// request names topics (unknown ones are left out, as Kafka does) or asks for all (null).
// Cluster mode: the same, since replicas are never moved there yet (AlterPartitionReassignments).
// Authorization as Kafka (the controller's ControllerApis, where brokers forward it): DESCRIBE on
// the cluster, else CLUSTER_AUTHORIZATION_FAILED for the request (cluster mode too).
// Version notes: served v0 (the only version), flexible.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: 46,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx) {
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      // Kafka's message names the request (ClusterAuthorizationException "Request … is not authorized.").
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Request is not authorized.', topics: [] };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
  },
});
