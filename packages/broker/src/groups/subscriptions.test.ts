import { describe, expect, test } from 'vitest';
import { subscriptionTopics } from './subscriptions.ts';

function encode(version: number, topics: string[], tail: number[] = []): Uint8Array {
  const out = [version >> 8, version & 0xff, 0, 0, 0, topics.length];
  for (const t of topics) out.push(0, Buffer.byteLength(t), ...Buffer.from(t));
  return Uint8Array.from([...out, ...tail]);
}

describe('subscriptionTopics', () => {
  test('reads the topic names of every Subscription version, ignoring what follows', () => {
    expect(subscriptionTopics(encode(0, ['a', 'bb'], [0xff, 0xff, 0xff, 0xff]))).toEqual(['a', 'bb']);
    expect(subscriptionTopics(encode(3, ['orders'], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))).toEqual(['orders']);
    expect(subscriptionTopics(encode(1, []))).toEqual([]);
  });

  test('bytes that are not a Subscription are null, never an exception', () => {
    expect(subscriptionTopics(Uint8Array.from([1]))).toBeNull();
    expect(subscriptionTopics(Uint8Array.from([0, 0, 0, 0, 0, 2, 0, 1, 0x61]))).toBeNull(); // 2 topics, 1 present
    expect(subscriptionTopics(Uint8Array.from([0, 0, 0xff, 0xff, 0xff, 0xff]))).toBeNull(); // negative count
    expect(subscriptionTopics(Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 1, 0xff]))).toBeNull(); // not UTF-8
  });
});
