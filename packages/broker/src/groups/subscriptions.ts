// Which topics a classic consumer group is subscribed to, read from its members' metadata for the
// selected protocol (the consumer protocol's Subscription: int16 version, then the topic names as
// an int32-counted array of int16-length strings, in every version; later fields are not needed).
// Kafka's ClassicGroup.computeSubscribedTopics: OffsetDelete refuses to delete the offsets of a
// topic the group consumes (GROUP_SUBSCRIBED_TO_TOPIC).

import type { ClassicGroup } from './group.ts';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The topic names of one Subscription, or null when the bytes are not one. */
export function subscriptionTopics(metadata: Uint8Array): string[] | null {
  const view = new DataView(metadata.buffer, metadata.byteOffset, metadata.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    let at = 2; // the version
    const count = view.getInt32(at);
    at += 4;
    if (count < 0) return null;
    const topics: string[] = [];
    for (let i = 0; i < count; i++) {
      const length = view.getInt16(at);
      at += 2;
      if (length < 0 || at + length > metadata.byteLength) return null;
      topics.push(decoder.decode(metadata.subarray(at, at + length)));
      at += length;
    }
    return topics;
  } catch {
    return null; // RangeError past the end, or bytes that are not UTF-8
  }
}

/**
 * The topics the group's members subscribe to: empty for a consumer group without members; null
 * when unknown (not a consumer group, no protocol selected yet, or metadata that does not parse).
 */
export function subscribedTopics(group: ClassicGroup): Set<string> | null {
  if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
  if (group.size === 0) return new Set();
  const protocol = group.protocolName;
  if (protocol === null) return null;
  const topics = new Set<string>();
  for (const member of group.members) {
    const names = subscriptionTopics(member.metadata(protocol));
    if (names === null) return null;
    for (const name of names) topics.add(name);
  }
  return topics;
}

/** Kafka: when the subscription is unknown, a consumer group is assumed to consume the topic. */
export function isSubscribedToTopic(group: ClassicGroup, topic: string): boolean {
  return subscribedTopics(group)?.has(topic) ?? group.protocolType === CONSUMER_PROTOCOL_TYPE;
}
