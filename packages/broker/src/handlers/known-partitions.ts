// Whether a topic partition exists, as a coordinator asks it: Kafka's group and transaction
// coordinators check the topics a request names against the broker's metadata cache (the whole
// cluster's topics), not against the logs this broker holds. On a single node those are the
// same. In cluster mode a coordinator often holds no replica of the topics its groups and
// transactions write (a replication-factor-1 topic lives on one broker): the cluster's view
// (etcd) answers, and the internal topics that stay each broker's own (`__transaction_state`)
// the local registry, as Metadata answers them (handlers/metadata.ts). KIP-848 consumer groups
// assign from the same topics (topicImages).

import type { BrokerContext } from '../broker-context.ts';
import type { TopicImages } from '../groups/consumer-group-manager.ts';
import { INTERNAL_TOPICS } from '../topics.ts';

/** The topic's partition count in the cluster; undefined when there is no such topic. */
export function clusterPartitionCount(broker: BrokerContext, topic: string): number | undefined {
  const cluster = broker.cluster;
  if (!cluster) return broker.topics.get(topic)?.partitions.length;
  const record = cluster.view.topics.get(topic)?.record;
  if (record !== undefined) return record.replicas.length;
  // A topic gone from etcd is gone, whatever this broker's projection has not removed yet.
  return INTERNAL_TOPICS.has(topic) ? broker.topics.get(topic)?.partitions.length : undefined;
}

/** Whether `topic` has a partition `partition` in the cluster. */
export function partitionExists(broker: BrokerContext, topic: string, partition: number): boolean {
  const count = clusterPartitionCount(broker, topic);
  return count !== undefined && partition >= 0 && partition < count;
}

/**
 * The topics KIP-848 consumer groups subscribe to and assign, read live at each heartbeat: the
 * cluster's (a group's coordinator need hold no replica of them), with the local internal ones.
 */
export function topicImages(broker: BrokerContext): TopicImages {
  const local = (name: string) => {
    const t = broker.topics.get(name);
    return t === undefined ? undefined : { id: t.id, name: t.name, partitionCount: t.partitions.length };
  };
  return {
    byName(name) {
      const cluster = broker.cluster;
      if (!cluster) return local(name);
      const record = cluster.view.topics.get(name)?.record;
      if (record !== undefined) return { id: record.id, name, partitionCount: record.replicas.length };
      return INTERNAL_TOPICS.has(name) ? local(name) : undefined;
    },
    all() {
      const cluster = broker.cluster;
      if (!cluster) return [...broker.topics.topics].map((t) => ({ id: t.id, name: t.name, partitionCount: t.partitions.length }));
      const images = [...cluster.view.topics].map(([name, { record }]) => ({ id: record.id, name, partitionCount: record.replicas.length }));
      for (const name of INTERNAL_TOPICS) {
        const image = cluster.view.topics.has(name) ? undefined : local(name);
        if (image !== undefined) images.push(image);
      }
      return images;
    },
  };
}
