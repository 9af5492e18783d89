// One member of a classic consumer group, as Kafka's ClassicGroupMember: identity, timeouts,
// the protocols it supports (in its order of preference, with its metadata for each), the
// assignment it received, and the JoinGroup/SyncGroup answers it is waiting for.
//
// Concurrency: owned by its ClassicGroup, event loop only.

export interface Protocol {
  readonly name: string;
  /** The member's metadata for this protocol, kept byte-exact (a copy, never a frame view). */
  readonly metadata: Uint8Array;
}

export interface JoinResultMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Uint8Array;
}

/** A JoinGroup answer, in the protocol's field names. */
export interface JoinResult {
  readonly errorCode: number;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leader: string;
  readonly skipAssignment: boolean;
  readonly memberId: string;
  /** Every member's metadata for the selected protocol; only the leader receives it. */
  readonly members: readonly JoinResultMember[];
}

/** A SyncGroup answer, in the protocol's field names. */
export interface SyncResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Uint8Array;
}

export type JoinCallback = (result: JoinResult) => void;
export type SyncCallback = (result: SyncResult) => void;

export const EMPTY_BYTES = new Uint8Array(0);

/** A JoinGroup answer that carries only an error (and the member id the member is to use). */
export function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

/** A SyncGroup answer that carries only an error. */
export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export interface MemberInit {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
  readonly assignment?: Uint8Array;
}

/** Drops later duplicates of a protocol name: each protocol counts once per member. */
export function distinctProtocols(protocols: readonly Protocol[]): Protocol[] {
  const seen = new Set<string>();
  return protocols.filter((p) => !seen.has(p.name) && seen.add(p.name) !== undefined);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class GroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly protocolType: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: readonly Protocol[];
  assignment: Uint8Array;
  /** Resolves this member's parked JoinGroup; null when none is parked. */
  awaitingJoin: JoinCallback | null = null;
  /** Resolves this member's parked SyncGroup; null when none is parked. */
  awaitingSync: SyncCallback | null = null;
  /** Joined but has not completed a join phase yet (expires on the new-member join timeout). */
  isNew = false;

  constructor(init: MemberInit) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.protocolType = init.protocolType;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocols = distinctProtocols(init.protocols);
    this.assignment = init.assignment ?? EMPTY_BYTES;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /**
   * Whether an expired session timer may be ignored: a member parked in JoinGroup or SyncGroup
   * cannot heartbeat and is kept until that phase ends; a new member never is.
   */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.isAwaitingJoin || this.isAwaitingSync;
  }

  /** Same protocols, in the same order, with byte-identical metadata. */
  matches(protocols: readonly Protocol[]): boolean {
    const other = distinctProtocols(protocols);
    if (other.length !== this.protocols.length) return false;
    return other.every((p, i) => p.name === this.protocols[i].name && sameBytes(p.metadata, this.protocols[i].metadata));
  }

  /** The member's metadata for `protocolName`; the group only selects protocols every member has. */
  metadata(protocolName: string): Uint8Array {
    const protocol = this.protocols.find((p) => p.name === protocolName);
    if (protocol === undefined) throw new Error(`BUG: member ${this.memberId} does not support selected protocol ${protocolName}`);
    return protocol.metadata;
  }

  /** The member's vote: its most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (choice === undefined) throw new Error(`BUG: member ${this.memberId} supports none of the candidate protocols`);
    return choice.name;
  }
}
