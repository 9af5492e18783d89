// The handler registry: every API the broker serves, one file each. ApiVersions answers are
// derived from this table, so what is advertised is exactly what is served.

import { type ApiVersionsResponse, ErrorCode } from '@sluice/protocol';
import type { ApiHandler } from './handler.ts';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn.ts';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.ts';
import { alterPartitionReassignmentsHandler } from './alter-partition-reassignments.ts';
import { describeLogDirsHandler } from './describe-log-dirs.ts';
import { electLeadersHandler } from './elect-leaders.ts';
import { listPartitionReassignmentsHandler } from './list-partition-reassignments.ts';
import { offsetDeleteHandler } from './offset-delete.ts';
import { updateFeaturesHandler } from './update-features.ts';
import { alterConfigsHandler } from './alter-configs.ts';
import { alterClientQuotasHandler } from './alter-client-quotas.ts';
import { alterUserScramCredentialsHandler } from './alter-user-scram-credentials.ts';
import { createAclsHandler } from './create-acls.ts';
import { deleteAclsHandler } from './delete-acls.ts';
import { describeAclsHandler } from './describe-acls.ts';
import { describeClientQuotasHandler } from './describe-client-quotas.ts';
import { describeUserScramCredentialsHandler } from './describe-user-scram-credentials.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { consumerGroupDescribeHandler } from './consumer-group-describe.ts';
import { consumerGroupHeartbeatHandler } from './consumer-group-heartbeat.ts';
import { shareAcknowledgeHandler } from './share-acknowledge.ts';
import { shareFetchHandler } from './share-fetch.ts';
import { shareGroupDescribeHandler } from './share-group-describe.ts';
import { shareGroupHeartbeatHandler } from './share-group-heartbeat.ts';
import { alterShareGroupOffsetsHandler, deleteShareGroupOffsetsHandler, describeShareGroupOffsetsHandler } from './share-group-offsets.ts';
import { createPartitionsHandler } from './create-partitions.ts';
import { createTopicsHandler } from './create-topics.ts';
import { deleteGroupsHandler } from './delete-groups.ts';
import { deleteRecordsHandler } from './delete-records.ts';
import { deleteTopicsHandler } from './delete-topics.ts';
import { describeClusterHandler } from './describe-cluster.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { describeGroupsHandler } from './describe-groups.ts';
import { describeProducersHandler } from './describe-producers.ts';
import { describeTransactionsHandler } from './describe-transactions.ts';
import { endTxnHandler } from './end-txn.ts';
import { fetchHandler } from './fetch.ts';
import { findCoordinatorHandler } from './find-coordinator.ts';
import { heartbeatHandler } from './heartbeat.ts';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.ts';
import { initProducerIdHandler } from './init-producer-id.ts';
import { joinGroupHandler } from './join-group.ts';
import { leaveGroupHandler } from './leave-group.ts';
import { listGroupsHandler } from './list-groups.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { listTransactionsHandler } from './list-transactions.ts';
import { metadataHandler } from './metadata.ts';
import { offsetCommitHandler } from './offset-commit.ts';
import { offsetFetchHandler } from './offset-fetch.ts';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.ts';
import { produceHandler } from './produce.ts';
import { saslAuthenticateHandler } from './sasl-authenticate.ts';
import { saslHandshakeHandler } from './sasl-handshake.ts';
import { syncGroupHandler } from './sync-group.ts';
import { txnOffsetCommitHandler } from './txn-offset-commit.ts';
import { writeTxnMarkersHandler } from './write-txn-markers.ts';

export type HandlerRegistry = ReadonlyMap<number, ApiHandler>;

export function createHandlerRegistry(extra: readonly ApiHandler[] = []): HandlerRegistry {
  const all = [
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    findCoordinatorHandler,
    joinGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    syncGroupHandler,
    describeGroupsHandler,
    listGroupsHandler,
    apiVersionsHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    deleteRecordsHandler,
    deleteGroupsHandler,
    offsetForLeaderEpochHandler,
    initProducerIdHandler,
    addPartitionsToTxnHandler,
    addOffsetsToTxnHandler,
    endTxnHandler,
    writeTxnMarkersHandler,
    txnOffsetCommitHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    createPartitionsHandler,
    incrementalAlterConfigsHandler,
    describeClusterHandler,
    describeProducersHandler,
    describeTransactionsHandler,
    listTransactionsHandler,
    consumerGroupHeartbeatHandler,
    consumerGroupDescribeHandler,
    shareGroupHeartbeatHandler,
    shareGroupDescribeHandler,
    shareFetchHandler,
    shareAcknowledgeHandler,
    describeShareGroupOffsetsHandler,
    alterShareGroupOffsetsHandler,
    deleteShareGroupOffsetsHandler,
    describeLogDirsHandler,
    electLeadersHandler,
    alterPartitionReassignmentsHandler,
    listPartitionReassignmentsHandler,
    offsetDeleteHandler,
    updateFeaturesHandler,
    saslHandshakeHandler,
    saslAuthenticateHandler,
    describeAclsHandler,
    createAclsHandler,
    deleteAclsHandler,
    describeUserScramCredentialsHandler,
    alterUserScramCredentialsHandler,
    describeClientQuotasHandler,
    alterClientQuotasHandler,
    ...extra,
  ];
  const registry = new Map<number, ApiHandler>();
  for (const handler of all) {
    // One handler per key: the connection hands a request decoded by its key to that key's handler.
    if (registry.has(handler.apiKey)) throw new Error(`BUG: two handlers for API key ${handler.apiKey}`);
    registry.set(handler.apiKey, handler);
  }
  return registry;
}

/** The advertised ranges, sorted by API key (complete and contiguous per API). */
export function advertisedApiVersions(registry: HandlerRegistry): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  return [...registry.values()]
    .map((h) => ({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion }))
    .sort((a, b) => a.apiKey - b.apiKey);
}

/**
 * Special case, by hand: an ApiVersions request at a version above ours gets a v0 response with
 * UNSUPPORTED_VERSION and our ranges (KIP-511), so the client can retry at a version we serve.
 * `_fallback` tells the connection to encode it at v0.
 */
export function apiVersionsFallback(registry: HandlerRegistry): ApiVersionsResponse & { readonly _fallback: true } {
  return { _fallback: true, errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: advertisedApiVersions(registry), throttleTimeMs: 0 };
}
