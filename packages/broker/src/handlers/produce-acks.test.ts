// acks=-1 in cluster mode: the wait for the ISR (Kafka's DelayedProduce) against a real
// replicated partition, without a network.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch, ErrorCode, type ProduceResponseResponsesPartitionResponses as PartitionResponse } from '@sluice/protocol';
import { afterEach, expect, test } from 'vitest';
import { BrokerConfig } from '../config.ts';
import { DelayedOperations } from '../delayed/delayed-operations.ts';
import { silentLogger } from '../logger.ts';
import type { Partition } from '../partition.ts';
import { TopicRegistry } from '../topics.ts';
import { waitForReplicas } from './produce.ts';

const dirs: string[] = [];
const registries: TopicRegistry[] = [];
afterEach(() => {
  for (const r of registries.splice(0)) r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function replicatedPartition(): Partition {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-produce-acks-'));
  dirs.push(dir);
  const registry = new TopicRegistry(new BrokerConfig([['log.dirs', dir]]), silentLogger);
  registry.load();
  registries.push(registry);
  const partition = registry.create('t', 1, new Map(), 'aaaabbbbccccddddaaaabbbbccccdddd').partitions[0];
  partition.setReplicated();
  return partition;
}

const batch = (...values: string[]) => buildRecordBatch({ records: values.map((value) => ({ key: null, value })) });
const response = (): PartitionResponse =>
  ({ index: 0, errorCode: 0, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null }) as PartitionResponse;

/** Appends `values` as the leader in `epoch` and starts the acks=-1 wait for them. */
function appendAndWait(delayed: DelayedOperations<Partition>, partition: Partition, epoch: number, values: string[]) {
  partition.becomeLeader(epoch);
  const appended = partition.append(batch(...values), 0);
  const answer = response();
  let answered = false;
  void waitForReplicas(
    delayed,
    [{ partition, response: answer, nextOffset: appended.lastOffset + 1, minIsr: 2, leaderEpoch: partition.leaderEpoch }],
    60_000,
    () => 2,
  ).then(() => {
    answered = true;
  });
  return { answer, answered: () => answered };
}

test('acks=-1 is answered once the high watermark passes the batch in the same leadership', async () => {
  const delayed = new DelayedOperations<Partition>();
  const partition = replicatedPartition();
  const wait = appendAndWait(delayed, partition, 3, ['a', 'b']);
  partition.advanceHighWatermark(1);
  delayed.checkAndComplete(partition);
  expect(wait.answered()).toBe(false);
  partition.advanceHighWatermark(2);
  delayed.checkAndComplete(partition);
  await Promise.resolve();
  expect(wait.answered()).toBe(true);
  expect(wait.answer.errorCode).toBe(ErrorCode.NONE);
});

test('a leader demoted before its batch committed answers NOT_LEADER_OR_FOLLOWER, though the new leader later commits other records at those offsets', async () => {
  // The old leader truncates what was not committed and follows the new leader, whose high
  // watermark passes the same offsets: that must not acknowledge the records that are gone.
  const delayed = new DelayedOperations<Partition>();
  const oldLeader = replicatedPartition();
  const wait = appendAndWait(delayed, oldLeader, 3, ['lost-1', 'lost-2']);
  const newLeader = replicatedPartition();
  newLeader.becomeLeader(4);
  newLeader.append(batch('other-1', 'other-2'), 0);
  oldLeader.setLeaderEpoch(4); // the view: another broker leads in epoch 4
  oldLeader.truncateTo(0);
  oldLeader.appendAsFollower(newLeader.log.readBytes(0, 1 << 20)!, 0);
  oldLeader.followHighWatermark(2);
  delayed.checkAndComplete(oldLeader);
  await Promise.resolve();
  expect(wait.answered()).toBe(true);
  expect(wait.answer.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
});
