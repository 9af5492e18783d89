// DescribeCluster (key 60).
// Behavior: one broker (this one), which is also the controller; cluster id from meta.properties;
// the cluster's authorized operations, when asked for, are all of them (no authorizer), as Kafka's.
// Cluster mode: the live brokers and the elected controller of this broker's view of etcd.
// Version notes: served v0–1 (v1 endpointType: 1 = brokers); flexible from v0.

import { ErrorCode } from '@sluice/protocol';
import { authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const ENDPOINT_TYPE_BROKERS = 1;

export const describeClusterHandler = defineHandler({
  apiKey: 60,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const { broker } = ctx;
    const endpointType = request.endpointType ?? ENDPOINT_TYPE_BROKERS;
    const cluster = broker.cluster;
    const controllerId = cluster === null ? broker.nodeId : cluster.view.controllerId;
    const clusterAuthorizedOperations =
      request.includeClusterAuthorizedOperations === true ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME) : AUTHORIZED_OPERATIONS_OMITTED;
    const base = { throttleTimeMs: 0, endpointType, clusterId: broker.clusterId, controllerId, clusterAuthorizedOperations };
    if (endpointType !== ENDPOINT_TYPE_BROKERS) {
      return { ...base, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: `Unsupported endpoint type ${endpointType}`, brokers: [] };
    }
    if (cluster !== null) {
      const brokers = cluster.view.liveBrokers().map((b) => {
        const endpoint = b.listeners.find((l) => l.name === ctx.connection.listenerName) ?? b.listeners[0];
        return { brokerId: b.nodeId, host: endpoint?.host ?? '', port: endpoint?.port ?? -1, rack: b.rack };
      });
      return { ...base, errorCode: 0, errorMessage: null, brokers };
    }
    const endpoint = broker.advertisedFor(ctx.connection.listenerName);
    return { ...base, errorCode: 0, errorMessage: null, brokers: [{ brokerId: broker.nodeId, host: endpoint.host, port: endpoint.port, rack: null }] };
  },
});
