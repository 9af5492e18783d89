// Shared set-up for the coordinator tests: a coordinator on a ManualClock and a MemoryGroupLog,
// request builders, and a way to observe answers that arrive later (parked JoinGroup/SyncGroup).
// Test support only (src/testing/): production code never imports it.

import { ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, type GroupCoordinatorConfig } from '../groups/config.ts';
import { GroupCoordinator } from '../groups/coordinator.ts';
import type { TopicImages } from '../groups/consumer-group-manager.ts';
import type { JoinResult, Protocol, SyncResult } from '../groups/member.ts';
import type { JoinGroupInput, SyncGroupInput } from '../groups/types.ts';
import { silentLogger } from '../logger.ts';
import { ManualClock } from './manual-clock.ts';
import { MemoryGroupLog } from './memory-group-log.ts';
import { DEFAULT_SHARE_GROUP_CONFIG } from '../share/config.ts';
import { ShareCoordinator } from '../share/share-coordinator.ts';
import { MemoryShareStateLog } from '../share/share-state-log.ts';
import type { TopicRegistry } from '../topics.ts';

export const TEST_CONFIG: GroupCoordinatorConfig = {
  ...DEFAULT_GROUP_COORDINATOR_CONFIG,
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 60_000,
  initialRebalanceDelayMs: 3000,
  offsetsRetentionMs: 60 * 60_000,
  offsetsRetentionCheckIntervalMs: 60_000,
};

export const SESSION_MS = 10_000;
export const REBALANCE_MS = 30_000;

export interface Harness {
  readonly clock: ManualClock;
  readonly log: MemoryGroupLog;
  coordinator: GroupCoordinator;
  /** A new coordinator over the same log: a broker restart. */
  restart(): GroupCoordinator;
}

/** `topics`: the topics KIP-848 consumer groups may be assigned (none when not given). */
export function harness(overrides: Partial<GroupCoordinatorConfig> = {}, log = new MemoryGroupLog(4), topics?: TopicImages): Harness {
  const clock = new ManualClock();
  const config = { ...TEST_CONFIG, ...overrides };
  const make = () => {
    const c = new GroupCoordinator({ config, groupLog: log, logger: silentLogger, clock, topics });
    c.load();
    return c;
  };
  const h: Harness = {
    clock,
    log,
    coordinator: make(),
    restart() {
      h.coordinator.close();
      h.coordinator = make();
      return h.coordinator;
    },
  };
  return h;
}

export function protocol(name: string, ...bytes: number[]): Protocol {
  return { name, metadata: Uint8Array.from(bytes.length > 0 ? bytes : [name.length]) };
}

export function joinInput(groupId: string, memberId: string, overrides: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId,
    memberId,
    groupInstanceId: null,
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_MS,
    protocolType: 'consumer',
    protocols: [protocol('range', 1)],
    clientId: 'client',
    clientHost: '/127.0.0.1',
    reason: null,
    requireKnownMemberId: true,
    supportSkippingAssignment: false,
    ...overrides,
  };
}

export function syncInput(
  groupId: string,
  memberId: string,
  generationId: number,
  assignments: Record<string, number[]> = {},
  overrides: Partial<SyncGroupInput> = {},
): SyncGroupInput {
  return {
    groupId,
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: Object.entries(assignments).map(([id, bytes]) => ({ memberId: id, assignment: Uint8Array.from(bytes) })),
    ...overrides,
  };
}

/** Lets promise reactions run (answers resolved synchronously inside timers or calls). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Observes a promise: `value` is set once it resolved. */
export interface Watched<T> {
  value: T | undefined;
  readonly done: boolean;
}

export function watch<T>(promise: Promise<T>): Watched<T> {
  const w = { value: undefined as T | undefined, done: false };
  promise.then((v) => {
    w.value = v;
    w.done = true;
  });
  return w;
}

/**
 * Advances the clock by `ms` in steps of `stepMs`, heartbeating for the given members after each
 * step (members whose heartbeat is refused stop being kept alive).
 */
export function keepAlive(
  h: Harness,
  groupId: string,
  members: ReadonlyArray<{ memberId: string; generationId: number; groupInstanceId?: string | null }>,
  ms: number,
  stepMs = 3000,
): void {
  let alive = [...members];
  for (let t = 0; t < ms; t += stepMs) {
    h.clock.advance(Math.min(stepMs, ms - t));
    alive = alive.filter((m) => {
      const error = h.coordinator.heartbeat({ groupId, generationId: m.generationId, memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null });
      return error === ErrorCode.NONE || error === ErrorCode.REBALANCE_IN_PROGRESS; // still a member
    });
  }
}

/** Two-phase join (v4+): the member id handed out with MEMBER_ID_REQUIRED. */
export async function memberIdFor(h: Harness, groupId: string, overrides: Partial<JoinGroupInput> = {}): Promise<string> {
  const first = await h.coordinator.joinGroup(joinInput(groupId, '', overrides));
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  return first.memberId;
}

export interface StableGroup {
  readonly memberIds: string[];
  readonly leader: string;
  readonly generationId: number;
  readonly joins: JoinResult[];
  readonly syncs: SyncResult[];
}

/**
 * Brings `count` members into a new Stable group through the initial rebalance: each gets its id,
 * all join, the delay passes, the leader assigns [index] to each member, everyone syncs.
 */
export async function stableGroup(
  h: Harness,
  groupId: string,
  count: number,
  overrides: (i: number) => Partial<JoinGroupInput> = () => ({}),
): Promise<StableGroup> {
  const joins: Array<Watched<JoinResult>> = [];
  for (let i = 0; i < count; i++) {
    const o = { clientId: `client-${i}`, ...overrides(i) };
    // Static members are never asked for an id: their first JoinGroup is the join.
    if (o.groupInstanceId) joins.push(watch(h.coordinator.joinGroup(joinInput(groupId, '', o))));
    else joins.push(watch(h.coordinator.joinGroup(joinInput(groupId, await memberIdFor(h, groupId, o), o))));
    await settle();
  }
  h.clock.advance(TEST_CONFIG.initialRebalanceDelayMs * count);
  await settle();
  const results = joins.map((j) => {
    if (!j.done || j.value!.errorCode !== 0) throw new Error(`join did not complete: ${JSON.stringify(j.value)}`);
    return j.value!;
  });
  const ids = results.map((r) => r.memberId);
  const leader = results[0].leader;
  const generationId = results[0].generationId;
  const assignments = Object.fromEntries(ids.map((id, i) => [id, [i]]));
  const syncs = await Promise.all(
    ids.map((id, i) =>
      h.coordinator.syncGroup(
        syncInput(groupId, id, generationId, id === leader ? assignments : {}, { groupInstanceId: overrides(i).groupInstanceId ?? null }),
      ),
    ),
  );
  return { memberIds: ids, leader, generationId, joins: results, syncs };
}

// ---- handler tests: requests and responses through the real codec ----------------------------

/** What the group handlers use of the broker context, backed by a test coordinator. */
export function fakeBroker(coordinator: () => GroupCoordinator, topics: Record<string, number> = {}): BrokerContext {
  const fake = {
    nodeId: 1,
    /** A single node: no cluster mode. */
    cluster: null,
    get groups() {
      return coordinator();
    },
    topics: { get: (name: string) => (name in topics ? { name, partitions: Array.from({ length: topics[name] }, (_, index) => ({ index })) } : undefined) },
    advertisedFor: () => ({ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }),
    // No authorizer: every check passes, as Kafka without one.
    authorizer: null,
    // No share groups here (DeleteGroups asks the share coordinator first).
    share: new ShareCoordinator({
      config: DEFAULT_SHARE_GROUP_CONFIG,
      stateLog: new MemoryShareStateLog(),
      topicRegistry: { getById: () => undefined } as unknown as TopicRegistry,
      topics: { byName: () => undefined, all: () => [] },
      logger: silentLogger,
    }),
  };
  return fake as unknown as BrokerContext;
}
