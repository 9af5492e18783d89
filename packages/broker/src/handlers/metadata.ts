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
// v7 leaderEpoch; v8 authorized operations; v9+ flexible; v10 topic ids (lookup by id); v12
// nullable topic name in the response.

import { ErrorCode, type MetadataRequest, type MetadataResponse, type MetadataResponseTopics, ZERO_UUID } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { ClusterNode } from '../cluster/cluster-node.ts';
import type { TopicRecord } from '../cluster/keys.ts';
import { INTERNAL_TOPICS, type Topic } from '../topics.ts';
import { createTopicInCluster } from './create-topic.ts';
import { defineHandler, type RequestContext } from './handler.ts';

const { UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, INVALID_TOPIC_EXCEPTION, INVALID_REQUEST, UNKNOWN_TOPIC_ID } = ErrorCode;
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

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
    if (requested === null) {
      for (const topic of broker.topics.topics) topics.push(describeTopic(broker, topic));
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
          topics.push(topic ? describeTopic(broker, topic) : topicError(null, id, UNKNOWN_TOPIC_ID));
          continue;
        }
        const existing = broker.topics.get(t.name);
        if (existing !== undefined) {
          topics.push(describeTopic(broker, existing));
        } else if (allowAuto) {
          const created = broker.topicCreator.autoCreate(t.name);
          if (created.topic !== undefined) topics.push(describeTopic(broker, created.topic));
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
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
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

async function clusterMetadata(ctx: RequestContext, request: MetadataRequest, cluster: ClusterNode): Promise<MetadataResponse> {
  const { broker, header } = ctx;
  const version = header.apiVersion;
  const view = cluster.view;
  const requested = request.topics === null || (version === 0 && request.topics.length === 0) ? null : request.topics;
  const describe = (name: string): MetadataResponseTopics | null => {
    const record = view.topics.get(name)?.record;
    if (record !== undefined) return describeClusterTopic(cluster, name, record);
    // Internal topics are still this broker's own.
    const local = INTERNAL_TOPICS.has(name) ? broker.topics.get(name) : undefined;
    return local === undefined ? null : describeTopic(broker, local);
  };
  const topics: MetadataResponseTopics[] = [];
  if (requested === null) {
    for (const [name, { record }] of view.topics) topics.push(describeClusterTopic(cluster, name, record));
    for (const local of broker.topics.topics) if (local.isInternal && !view.topics.has(local.name)) topics.push(describeTopic(broker, local));
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
        topics.push(found === undefined ? topicError(null, id, UNKNOWN_TOPIC_ID) : describeClusterTopic(cluster, found[0], found[1].record));
        continue;
      }
      const existing = describe(t.name);
      if (existing !== null) {
        topics.push(existing);
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
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}
