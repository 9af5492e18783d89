// Metadata (key 3).
// Behavior: this broker is the only broker, the controller and the leader of every partition
// (leader epoch 0, replicas = ISR = [this node]). Unknown topics are auto-created when both
// `auto.create.topics.enable` and the request's allowAutoTopicCreation allow it; a null topic
// list (v1+) means all topics; v0 treats an empty list as all topics.
// Version notes: v1 controllerId/rack/isInternal; v2 clusterId; v4 allowAutoTopicCreation;
// v7 leaderEpoch; v8 authorized operations (all of them when asked: no authorizer); v9+ flexible; v10 topic ids (lookup by id); v12
// nullable topic name in the response.

import { ErrorCode, type MetadataResponseTopics, ZERO_UUID } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { Topic } from '../topics.ts';
import { AclOperation, authorize, authorizedOperations, authorizeQuietly, AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

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
