// Metadata (key 3).
// Behavior: this broker is the only broker, the controller and the leader of every partition
// (leader epoch 0, replicas = ISR = [this node]). Unknown topics are auto-created when both
// `auto.create.topics.enable` and the request's allowAutoTopicCreation allow it; a null topic
// list (v1+) means all topics; v0 treats an empty list as all topics.
// Cluster mode: answered from this broker's view of etcd — every live broker (the endpoint of the
// connection's listener name), the elected controller, and per partition the leader, leader
// epoch, replicas, ISR and offline replicas the controller wrote; LEADER_NOT_AVAILABLE for a
// partition without a leader. Auto-creation writes the topic to etcd (create-topic.ts); internal
// topics are still per broker and answered as on a single node.
// Version notes: v1 controllerId/rack/isInternal; v2 clusterId; v4 allowAutoTopicCreation;
// v7 leaderEpoch; v8 authorized operations (all of them when asked: no authorizer); v9+ flexible; v10 topic ids (lookup by id); v12
// nullable topic name in the response.

import { ErrorCode, type MetadataRequest, type MetadataResponse, type MetadataResponseTopics, ZERO_UUID } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { ClusterNode } from '../cluster/cluster-node.ts';
import type { TopicRecord } from '../cluster/keys.ts';
import { INTERNAL_TOPICS, type Topic } from '../topics.ts';
import { AclOperation, authorize, authorizedOperations, authorizeQuietly, AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { createTopicInCluster } from './create-topic.ts';
import { defineHandler, type RequestContext } from './handler.ts';

const { UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, INVALID_TOPIC_EXCEPTION, INVALID_REQUEST, UNKNOWN_TOPIC_ID, TOPIC_AUTHORIZATION_FAILED } = ErrorCode;

export function describeTopic(broker: BrokerContext, topic: Topic): MetadataResponseTopics {
  return {
    errorCode: 0,
    name: topic.name,
    topicId: topic.id,
    isInternal: topic.isInternal,
    partitions: topic.partitions.map((p) => ({
      errorCode: 0,
      partitionIndex: p.index,
      leaderId: broker.nodeId,
      leaderEpoch: 0,
      replicaNodes: [broker.nodeId],
      isrNodes: [broker.nodeId],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function topicError(name: string | null, topicId: string, errorCode: number): MetadataResponseTopics {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

export const metadataHandler = defineHandler({
  apiKey: 3,
  minVersion: 0,
  maxVersion: 12,
  handle(ctx, request) {
    if (ctx.broker.cluster !== null) return clusterMetadata(ctx, request, ctx.broker.cluster);
    const { broker, header } = ctx;
    const version = header.apiVersion;
    const endpoint = broker.advertisedFor(ctx.connection.listenerName);
    const requested = request.topics === null || (version === 0 && request.topics.length === 0) ? null : request.topics;
    const topics: MetadataResponseTopics[] = [];
    // Authorization as Kafka's KafkaApis: all-topics requests list only the topics the principal
    // may DESCRIBE (quietly); a named topic it may not describe is TOPIC_AUTHORIZATION_FAILED;
    // auto-creating one needs CREATE on the cluster or on the topic.
    const withOperations = version >= 8 && request.includeTopicAuthorizedOperations === true;
    const described = (topic: Topic): MetadataResponseTopics => {
      const d = describeTopic(broker, topic);
      return withOperations ? { ...d, topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, topic.name) } : d;
    };
    const mayCreate = (name: string) =>
      authorizeQuietly(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME) || authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name);
    if (requested === null) {
      for (const topic of broker.topics.topics) if (authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name)) topics.push(described(topic));
    } else {
      const allowAuto = broker.config.bool('auto.create.topics.enable') && (version < 4 || request.allowAutoTopicCreation !== false);
      for (const t of requested) {
        if (t.name === null || t.name === undefined) {
          const id = t.topicId ?? ZERO_UUID;
          // Lookup by topic id is only served from v12 (Kafka: "Topic IDs are not supported in
          // requests for version < 12"); before v12 the response cannot even carry a null name.
          if (version < 12) {
            topics.push(topicError('', id, INVALID_REQUEST));
            continue;
          }
          const topic = id === ZERO_UUID ? undefined : broker.topics.getById(id);
          if (topic === undefined) topics.push(topicError(null, id, UNKNOWN_TOPIC_ID));
          // Kafka does not reveal the name of a topic the principal may not describe.
          else if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name)) topics.push(topicError(null, id, TOPIC_AUTHORIZATION_FAILED));
          else topics.push(described(topic));
          continue;
        }
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) {
          topics.push(topicError(t.name, ZERO_UUID, TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        const existing = broker.topics.get(t.name);
        if (existing !== undefined) {
          topics.push(described(existing));
        } else if (allowAuto && !mayCreate(t.name)) {
          topics.push(topicError(t.name, ZERO_UUID, TOPIC_AUTHORIZATION_FAILED));
        } else if (allowAuto) {
          const created = broker.topicCreator.autoCreate(t.name);
          if (created.topic !== undefined) topics.push(described(created.topic));
          else if (created.errorCode === INVALID_TOPIC_EXCEPTION) topics.push(topicError(t.name, ZERO_UUID, INVALID_TOPIC_EXCEPTION));
          else topics.push(topicError(t.name, ZERO_UUID, LEADER_NOT_AVAILABLE));
        } else {
          topics.push(topicError(t.name, ZERO_UUID, UNKNOWN_TOPIC_OR_PARTITION));
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: broker.nodeId, host: endpoint.host, port: endpoint.port, rack: null }],
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      topics,
      clusterAuthorizedOperations:
        version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations === true
          ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
          : AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});

/** A topic as the cluster's view has it. */
function describeClusterTopic(cluster: ClusterNode, name: string, record: TopicRecord): MetadataResponseTopics {
  return {
    errorCode: 0,
    name,
    topicId: record.id,
    isInternal: INTERNAL_TOPICS.has(name),
    partitions: record.replicas.map((replicas, index) => {
      const state = cluster.view.partition(name, index)?.record;
      const leader = state?.leader ?? -1;
      return {
        errorCode: leader === -1 ? LEADER_NOT_AVAILABLE : 0,
        partitionIndex: index,
        leaderId: leader,
        leaderEpoch: state?.leaderEpoch ?? -1,
        replicaNodes: [...replicas],
        isrNodes: state?.isr.map((m) => m.id) ?? [],
        offlineReplicas: replicas.filter((id) => !cluster.view.brokers.has(id)),
      };
    }),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

/**
 * Cluster mode, with the same ACL checks as a single node (Kafka authorizes on the broker that
 * answers, before anything is forwarded): all-topics lists only what the principal may DESCRIBE,
 * a named topic it may not describe is TOPIC_AUTHORIZATION_FAILED, auto-creation needs CREATE.
 */
async function clusterMetadata(ctx: RequestContext, request: MetadataRequest, cluster: ClusterNode): Promise<MetadataResponse> {
  const { broker, header } = ctx;
  const version = header.apiVersion;
  const view = cluster.view;
  const requested = request.topics === null || (version === 0 && request.topics.length === 0) ? null : request.topics;
  const withOperations = version >= 8 && request.includeTopicAuthorizedOperations === true;
  const withAuthorizedOperations = (d: MetadataResponseTopics): MetadataResponseTopics =>
    withOperations && d.name !== null ? { ...d, topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, d.name) } : d;
  const describe = (name: string): MetadataResponseTopics | null => {
    const record = view.topics.get(name)?.record;
    if (record !== undefined) return withAuthorizedOperations(describeClusterTopic(cluster, name, record));
    // Internal topics are still this broker's own.
    const local = INTERNAL_TOPICS.has(name) ? broker.topics.get(name) : undefined;
    return local === undefined ? null : withAuthorizedOperations(describeTopic(broker, local));
  };
  const mayCreate = (name: string) =>
    authorizeQuietly(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME) || authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name);
  const mayDescribeQuietly = (name: string) => authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
  const topics: MetadataResponseTopics[] = [];
  if (requested === null) {
    for (const [name, { record }] of view.topics) {
      if (mayDescribeQuietly(name)) topics.push(withAuthorizedOperations(describeClusterTopic(cluster, name, record)));
    }
    for (const local of broker.topics.topics) {
      if (local.isInternal && !view.topics.has(local.name) && mayDescribeQuietly(local.name))
        topics.push(withAuthorizedOperations(describeTopic(broker, local)));
    }
  } else {
    const allowAuto = broker.config.bool('auto.create.topics.enable') && (version < 4 || request.allowAutoTopicCreation !== false);
    for (const t of requested) {
      if (t.name === null || t.name === undefined) {
        const id = t.topicId ?? ZERO_UUID;
        if (version < 12) {
          topics.push(topicError('', id, INVALID_REQUEST));
          continue;
        }
        const found = id === ZERO_UUID ? undefined : [...view.topics].find(([, v]) => v.record.id === id);
        if (found === undefined) topics.push(topicError(null, id, UNKNOWN_TOPIC_ID));
        // Kafka does not reveal the name of a topic the principal may not describe.
        else if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, found[0])) topics.push(topicError(null, id, TOPIC_AUTHORIZATION_FAILED));
        else topics.push(withAuthorizedOperations(describeClusterTopic(cluster, found[0], found[1].record)));
        continue;
      }
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) {
        topics.push(topicError(t.name, ZERO_UUID, TOPIC_AUTHORIZATION_FAILED));
        continue;
      }
      const existing = describe(t.name);
      if (existing !== null) {
        topics.push(existing);
      } else if (allowAuto && !mayCreate(t.name)) {
        topics.push(topicError(t.name, ZERO_UUID, TOPIC_AUTHORIZATION_FAILED));
      } else if (allowAuto) {
        const created = await createTopicInCluster(broker, t.name, -1, -1, [], false);
        const now = created.errorCode === 0 ? describe(t.name) : null;
        if (now !== null) topics.push(now);
        else if (created.errorCode === INVALID_TOPIC_EXCEPTION) topics.push(topicError(t.name, ZERO_UUID, INVALID_TOPIC_EXCEPTION));
        else topics.push(topicError(t.name, ZERO_UUID, LEADER_NOT_AVAILABLE));
      } else {
        topics.push(topicError(t.name, ZERO_UUID, UNKNOWN_TOPIC_OR_PARTITION));
      }
    }
  }
  const listenerName = ctx.connection.listenerName;
  return {
    throttleTimeMs: 0,
    brokers: view.liveBrokers().map((b) => {
      const endpoint = b.listeners.find((l) => l.name === listenerName) ?? b.listeners[0];
      return { nodeId: b.nodeId, host: endpoint?.host ?? '', port: endpoint?.port ?? -1, rack: b.rack };
    }),
    clusterId: broker.clusterId,
    controllerId: view.controllerId,
    topics,
    clusterAuthorizedOperations:
      version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations === true
        ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
        : AUTHORIZED_OPERATIONS_OMITTED,
  };
}
