// DeleteTopics (key 20).
// Behavior: deletes each named topic (v6: by name or by topic id): its partitions' logs are
// closed and removed, parked fetches on them answer. `delete.topic.enable=false` refuses with
// TOPIC_DELETION_DISABLED. Internal topics (`__…`) cannot be deleted.
// Version notes: served v1–6. v4+ flexible; v5 errorMessage; v6 topics by name or id.

import { ErrorCode, ZERO_UUID } from '@sluice/protocol';
import type { Topic } from '../topics.ts';
import { AclOperation, authorize, authorizeQuietly, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

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
      broker.topics.delete(topic);
      return result(0, null);
    });
    return { throttleTimeMs: 0, responses };
  },
});
