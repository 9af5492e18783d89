// Set-up for the KIP-848 consumer group tests: a coordinator on a ManualClock and a
// MemoryGroupLog with a topic table the test changes (create, grow, delete topics), and a
// member helper that heartbeats the way the Java consumer does (owned partitions in every
// request, acknowledging revocations at once unless told not to).
// Test support only (src/testing/): production code never imports it.

import { ErrorCode } from '@sluice/protocol';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, type GroupCoordinatorConfig } from '../groups/config.ts';
import type { Assignment, TopicImage } from '../groups/consumer-group.ts';
import type { ConsumerHeartbeatInput, ConsumerHeartbeatResult, TopicImages } from '../groups/consumer-group-manager.ts';
import { GroupCoordinator } from '../groups/coordinator.ts';
import { silentLogger } from '../logger.ts';
import { ManualClock } from './manual-clock.ts';
import { MemoryGroupLog } from './memory-group-log.ts';

export class TestTopics implements TopicImages {
  private readonly byNameMap = new Map<string, TopicImage>();
  private next = 1;

  create(name: string, partitionCount: number): TopicImage {
    const id = (this.next++).toString(16).padStart(32, '0');
    const image = { id, name, partitionCount };
    this.byNameMap.set(name, image);
    return image;
  }

  grow(name: string, partitionCount: number): void {
    const t = this.byNameMap.get(name)!;
    this.byNameMap.set(name, { ...t, partitionCount });
  }

  delete(name: string): void {
    this.byNameMap.delete(name);
  }

  byName(name: string): TopicImage | undefined {
    return this.byNameMap.get(name);
  }

  all(): Iterable<TopicImage> {
    return this.byNameMap.values();
  }

  id(name: string): string {
    return this.byNameMap.get(name)!.id;
  }
}

export interface ConsumerHarness {
  readonly clock: ManualClock;
  readonly log: MemoryGroupLog;
  readonly topics: TestTopics;
  coordinator: GroupCoordinator;
  restart(): GroupCoordinator;
}

export function consumerHarness(overrides: Partial<GroupCoordinatorConfig> = {}): ConsumerHarness {
  const clock = new ManualClock();
  const log = new MemoryGroupLog(4);
  const topics = new TestTopics();
  const config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...overrides };
  const make = () => {
    const c = new GroupCoordinator({ config, groupLog: log, logger: silentLogger, clock, topics });
    c.load();
    return c;
  };
  const h: ConsumerHarness = {
    clock,
    log,
    topics,
    coordinator: make(),
    restart() {
      h.coordinator.close();
      h.coordinator = make();
      return h.coordinator;
    },
  };
  return h;
}

export function heartbeatInput(groupId: string, overrides: Partial<ConsumerHeartbeatInput> = {}): ConsumerHeartbeatInput {
  return {
    apiVersion: 1,
    groupId,
    memberId: '',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 300_000,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
    clientId: 'client',
    clientHost: '/127.0.0.1',
    ...overrides,
  };
}

/** Partitions by topic name, sorted, for assertions. */
export type Named = Record<string, number[]>;

/** A consumer: its id, epoch and the partitions it owns, heartbeating like kafka-clients. */
export class TestMember {
  readonly h: ConsumerHarness;
  readonly groupId: string;
  readonly memberId: string;
  readonly instanceId: string | null;
  epoch = 0;
  owned: Assignment = new Map();
  last: ConsumerHeartbeatResult | undefined;

  constructor(h: ConsumerHarness, groupId: string, memberId: string, instanceId: string | null = null) {
    this.h = h;
    this.groupId = groupId;
    this.memberId = memberId;
    this.instanceId = instanceId;
  }

  async join(subscription: Partial<ConsumerHeartbeatInput> = { subscribedTopicNames: ['t'] }): Promise<ConsumerHeartbeatResult> {
    this.epoch = 0;
    this.owned = new Map();
    return this.send({ memberEpoch: 0, ...subscription });
  }

  /** A regular heartbeat reporting what it owns; applies the answer (revocations at once). */
  async heartbeat(overrides: Partial<ConsumerHeartbeatInput> = {}): Promise<ConsumerHeartbeatResult> {
    return this.send({ memberEpoch: this.epoch, rebalanceTimeoutMs: -1, topicPartitions: this.ownedList(), ...overrides });
  }

  async send(overrides: Partial<ConsumerHeartbeatInput>): Promise<ConsumerHeartbeatResult> {
    const result = await this.h.coordinator.consumerGroupHeartbeat(
      heartbeatInput(this.groupId, { memberId: this.memberId, instanceId: this.instanceId, ...overrides }),
    );
    this.last = result;
    if (result.errorCode === ErrorCode.NONE) {
      this.epoch = result.memberEpoch;
      if (result.assignment !== null) this.owned = result.assignment;
    }
    return result;
  }

  ownedList(): Array<{ topicId: string; partitions: number[] }> {
    return [...this.owned].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] }));
  }

  named(): Named {
    const out: Named = {};
    for (const t of this.h.topics.all()) {
      const p = this.owned.get(t.id);
      if (p !== undefined) out[t.name] = [...p].sort((a, b) => a - b);
    }
    return out;
  }
}

/** Heartbeats every member in turn until none of their answers changes anything (at most `rounds`). */
export async function settleGroup(members: readonly TestMember[], rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const before = members.map((m) => `${m.epoch}:${JSON.stringify(m.named())}`).join('|');
    for (const m of members) await m.heartbeat();
    const after = members.map((m) => `${m.epoch}:${JSON.stringify(m.named())}`).join('|');
    if (before === after) return;
  }
}
