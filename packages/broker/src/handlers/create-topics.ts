// CreateTopics (key 19).
// Behavior: creates each topic after Kafka's validations (name, partitions, replication factor
// must be 1 on a single node, topic configs); explicit replica assignments must name only this
// broker. validateOnly checks without creating, and answers as a creation would (KIP-525): the
// partition count, replication factor and configs the topic would get, and a fresh topic id that
// nothing will ever carry, as Kafka's controller does. Duplicated names in one request get
// INVALID_REQUEST, as Kafka does. The configs are Kafka's resolveEffectiveTopicConfigs: the
// request's values, else the broker's (STATIC_BROKER_CONFIG), else the defaults, sorted by name.
// Cluster mode: the topic is written to etcd with its replicas placed over the live brokers
// (replication factor up to their count), or as explicit assignments name them, checked as
// Kafka's controller checks them (cluster/placement.ts checkManualAssignment:
// INVALID_REPLICA_ASSIGNMENT).
// Version notes: served v2–7. v5 returns numPartitions/replicationFactor/configs (and may carry
// a topic config error tagged); v5+ flexible; v7 topicId.

import { ErrorCode, ZERO_UUID } from '@sluice/protocol';
import { checkManualAssignment } from '../cluster/placement.ts';
import { effectiveTopicConfigs } from '../topic-config.ts';
import { newTopicId } from '../topics.ts';
import { createTopicInCluster } from './create-topic.ts';
import { AclOperation, authorize, authorizeQuietly, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';
import { MutationQuota } from './quota-throttling.ts';

export const createTopicsHandler = defineHandler({
  apiKey: 19,
  minVersion: 2,
  maxVersion: 7,
  async handle(ctx, request) {
    const { broker } = ctx;
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    // Kafka: CREATE on the cluster allows every topic; otherwise CREATE on each topic.
    const clusterCreate = authorizeQuietly(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME);
    // Controller mutation quota (KIP-599): strict from v6.
    const mutations = new MutationQuota(ctx, ctx.header.apiVersion >= 6, request.validateOnly === true);
    const topics = [];
    for (const t of request.topics) topics.push(await createOne(t));
    return { throttleTimeMs: mutations.throttleTimeMs(), topics };

    async function createOne(t: (typeof request.topics)[number]) {
      const result = (errorCode: number, errorMessage: string | null) => ({
        name: t.name,
        topicId: ZERO_UUID,
        errorCode,
        errorMessage,
        topicConfigErrorCode: 0,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      });
      if (counts.get(t.name)! > 1) return result(ErrorCode.INVALID_REQUEST, `Create topics request from client contains multiple entries for topic ${t.name}.`);
      if (!clusterCreate && !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, t.name))
        return result(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
      const refusal = mutations.refusal();
      if (refusal !== null) return result(refusal.errorCode, refusal.errorMessage);
      let partitions = t.numPartitions;
      let replicationFactor = t.replicationFactor;
      let assignment: number[][] | undefined;
      if (t.assignments.length > 0) {
        if (partitions !== -1 || replicationFactor !== -1) {
          return result(
            ErrorCode.INVALID_REQUEST,
            'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
          );
        }
        if (broker.cluster !== null) {
          const registered = new Set(broker.cluster.view.liveBrokers().map((b) => b.nodeId));
          const checked = checkManualAssignment(t.assignments, registered);
          if (typeof checked === 'string') return result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, checked);
          assignment = checked;
          partitions = checked.length;
          replicationFactor = checked[0].length;
        } else if (t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId)) {
          return result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignments must name only broker ${broker.nodeId} (single node).`);
        } else {
          partitions = t.assignments.length;
          replicationFactor = 1;
        }
      }
      const creation = await createTopicInCluster(broker, t.name, partitions, replicationFactor, t.configs, request.validateOnly === true, assignment);
      if (creation.errorCode !== 0 || creation.created === undefined) return result(creation.errorCode, creation.errorMessage);
      mutations.record(creation.created.partitions);
      // The request's own text for each value it sets (a later entry for a name wins), as Kafka echoes it.
      const given = new Map(t.configs.map((c) => [c.name, c.value as string]));
      // The created topic's configs are shown only to a principal that may DESCRIBE_CONFIGS it.
      if (!authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, t.name)) {
        return {
          ...result(0, null),
          topicId: creation.topicId ?? newTopicId(),
          numPartitions: creation.created.partitions,
          replicationFactor: creation.created.replicationFactor,
          topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        };
      }
      return {
        ...result(0, null),
        topicId: creation.topicId ?? newTopicId(),
        numPartitions: creation.created.partitions,
        replicationFactor: creation.created.replicationFactor,
        configs: effectiveTopicConfigs(broker.config, given).map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: false,
          configSource: c.source,
          isSensitive: false,
        })),
      };
    }
  },
});
