// DeleteTopics (key 20).
// Behavior: deletes each named topic (v6: by name or by topic id): its partitions' logs are
// closed and removed, parked fetches on them answer. `delete.topic.enable=false` refuses with
// TOPIC_DELETION_DISABLED. Internal topics (`__…`) cannot be deleted.
// Cluster mode: the topic is deleted from etcd (every broker's projection removes its logs),
// looked up in the cluster's view.
// Version notes: served v1–6. v4+ flexible; v5 errorMessage; v6 topics by name or id.

import { type DeleteTopicsResponse, ErrorCode, ZERO_UUID } from '@sluice/protocol';
import type { ClusterNode } from '../cluster/cluster-node.ts';
import { INTERNAL_TOPICS, type Topic } from '../topics.ts';
import { AclOperation, authorize, authorizeQuietly, ResourceType } from './authorization.ts';
import { defineHandler, type RequestContext } from './handler.ts';
import { MutationQuota } from './quota-throttling.ts';

export const deleteTopicsHandler = defineHandler({
  apiKey: 20,
  minVersion: 1,
  maxVersion: 6,
  handle(ctx, request) {
    const { broker, header } = ctx;
    const targets: Array<{ name: string | null; topicId: string }> =
      header.apiVersion >= 6
        ? (request.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
        : (request.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }));
    // Controller mutation quota (KIP-599): strict from v5.
    const mutations = new MutationQuota(ctx, header.apiVersion >= 5);
    if (broker.cluster !== null) return deleteInCluster(ctx, broker.cluster, targets, broker.config.bool('delete.topic.enable'), mutations);
    const responses = targets.map(({ name, topicId }) => {
      let topic: Topic | undefined;
      let missing: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      const byName = name !== null && name !== '';
      // Kafka: DELETE on the topic, checked before its existence when named; a topic named by id
      // is resolved first, and its name is not revealed to a principal that may not DESCRIBE it.
      if (byName && !authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name)) {
        return { name, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
      }
      if (byName) topic = broker.topics.get(name);
      else {
        missing = ErrorCode.UNKNOWN_TOPIC_ID;
        topic = topicId === ZERO_UUID ? undefined : broker.topics.getById(topicId);
        if (topic !== undefined && !authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, topic.name)) {
          const shown = authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name) ? topic.name : null;
          return { name: shown, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
        }
      }
      const result = (errorCode: number, errorMessage: string | null) => ({
        name: topic?.name ?? name,
        topicId: topic?.id ?? topicId,
        errorCode,
        errorMessage,
      });
      if (topic === undefined) return result(missing, 'This server does not host this topic.');
      if (!broker.config.bool('delete.topic.enable')) return result(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
      if (topic.isInternal) return result(ErrorCode.INVALID_TOPIC_EXCEPTION, `Internal topic ${topic.name} cannot be deleted.`);
      const refusal = mutations.refusal();
      if (refusal !== null) return result(refusal.errorCode, refusal.errorMessage);
      mutations.record(topic.partitions.length);
      broker.topics.delete(topic);
      return result(0, null);
    });
    return { throttleTimeMs: mutations.throttleTimeMs(), responses };
  },
});

async function deleteInCluster(
  ctx: RequestContext,
  cluster: ClusterNode,
  targets: ReadonlyArray<{ name: string | null; topicId: string }>,
  enabled: boolean,
  mutations: MutationQuota,
): Promise<DeleteTopicsResponse> {
  const responses = [];
  for (const { name, topicId } of targets) {
    const byName = name !== null && name !== '';
    // The same ACL checks, in the same order, as on a single node (Kafka checks before forwarding).
    if (byName && !authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name)) {
      responses.push({ name, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' });
      continue;
    }
    const found = byName
      ? cluster.view.topics.has(name)
        ? name
        : undefined
      : [...cluster.view.topics].find(([, v]) => topicId !== ZERO_UUID && v.record.id === topicId)?.[0];
    const id = found === undefined ? topicId : cluster.view.topics.get(found)!.record.id;
    if (!byName && found !== undefined && !authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, found)) {
      const shown = authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, found) ? found : null;
      responses.push({ name: shown, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' });
      continue;
    }
    const result = (errorCode: number, errorMessage: string | null) => ({ name: found ?? name, topicId: id, errorCode, errorMessage });
    if (found === undefined)
      responses.push(result(byName ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic.'));
    else if (!enabled) responses.push(result(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.'));
    else if (INTERNAL_TOPICS.has(found)) responses.push(result(ErrorCode.INVALID_TOPIC_EXCEPTION, `Internal topic ${found} cannot be deleted.`));
    else {
      const refusal = mutations.refusal();
      if (refusal !== null) {
        responses.push(result(refusal.errorCode, refusal.errorMessage));
        continue;
      }
      const deleted = await cluster.deleteTopic(found);
      if (deleted.errorCode === ErrorCode.NONE) mutations.record(cluster.view.topics.get(found)?.record.replicas.length ?? 1);
      responses.push(result(deleted.errorCode, deleted.errorMessage));
    }
  }
  return { throttleTimeMs: mutations.throttleTimeMs(), responses };
}
