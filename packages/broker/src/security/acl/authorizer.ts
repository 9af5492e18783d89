// The ACL authorizer, with Kafka's StandardAuthorizer semantics (StandardAuthorizerData), asked on
// every request by every handler once wired:
//
// authorize(principal, host, operation, resource type, resource name):
// 1. a super user (`super.users`, exact `Type:name` strings) is allowed everything;
// 2. the ACLs that apply to the resource are: LITERAL with the same name, LITERAL '*', and every
//    PREFIXED pattern the name starts with (the name itself included), of the same resource type;
// 3. of those, an ACL matches when its principal is the session's or `User:*`, its host is the
//    client's address or '*', and its operation is ALL or the one asked, where an ALLOW for READ,
//    WRITE, DELETE or ALTER also allows DESCRIBE, and an ALLOW for ALTER_CONFIGS also allows
//    DESCRIBE_CONFIGS (a DENY is never widened this way: DENY READ does not deny DESCRIBE);
// 4. any matching DENY wins; else any matching ALLOW allows;
// 5. else, when no ACL at all applies to the resource (any principal, any operation),
//    `allow.everyone.if.no.acl.found` decides (default false: denied); when some do, denied.
//
// Index: per resource type, LITERAL bindings by name and PREFIXED bindings by prefix, each with
// its ACLs grouped by principal, plus the distinct prefix lengths present; so a check costs a
// handful of map lookups (two literal names, one per distinct prefix length up to the name's
// length) and a scan of the session principal's and `User:*`'s ACLs on those resources only —
// independent of how many ACLs other principals and other resources have.
// See acl.bench.ts for the measured cost.
//
// Contract: single-threaded (the broker's event loop). Mutations go through the store, and the
// index follows the store's change listener, so the index never holds what the store refused and
// also follows changes made elsewhere (another broker, in cluster mode, writing etcd). With the
// local stores the index has changed when createAcls/deleteAcls return (before their promise
// settles); with the etcd store, when the promise settles.

import { ErrorCode } from '@sluice/protocol';
import { bindingMatches } from './acl-filter.ts';
import type { AclStore } from './acl-store.ts';
import type { AclBinding, AclBindingFilter } from './acl-types.ts';
import {
  AclOperation,
  AclPermissionType,
  bindingKey,
  invalidBindingReason,
  invalidFilterReason,
  PatternType,
  ResourceType,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
} from './acl-types.ts';

/** Who is asking, and from where: `User:alice` (or `User:ANONYMOUS`) and the client's IP address. */
export interface Session {
  readonly principal: string;
  readonly host: string;
}

export interface AuthorizerOptions {
  /** `super.users`, parsed: `Type:name` strings. */
  readonly superUsers?: Iterable<string>;
  /** `allow.everyone.if.no.acl.found`; default false. */
  readonly allowEveryoneIfNoAclFound?: boolean;
}

export interface AclCreateResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface AclDeleteResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly deleted: readonly AclBinding[];
}

/** The operations Kafka reports in authorized-operations fields, per resource type (AclEntry.supportedOperations). */
export const SUPPORTED_OPERATIONS: Readonly<Record<number, readonly number[]>> = Object.freeze({
  [ResourceType.TOPIC]: [
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE],
  [ResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
});

const IMPLIES_DESCRIBE = new Set<number>([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS = new Set<number>([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

const NO_MATCH = 0;
const ALLOWED = 1;
const DENIED = 2;

interface IndexedAcl {
  readonly host: string;
  readonly operation: number;
  readonly allow: boolean;
}

/** Kafka's StandardAuthorizerData.findResult for one ACL whose resource and principal apply. */
function aclResult(acl: IndexedAcl, operation: number, host: string): number {
  if (acl.host !== WILDCARD_HOST && acl.host !== host) return NO_MATCH;
  if (acl.operation !== AclOperation.ALL) {
    if (acl.allow) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return NO_MATCH;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return NO_MATCH;
      } else if (operation !== acl.operation) {
        return NO_MATCH;
      }
    } else if (operation !== acl.operation) {
      return NO_MATCH;
    }
  }
  return acl.allow ? ALLOWED : DENIED;
}

const SAW_RESOURCE_ACLS = 1;
const SAW_ALLOW = 2;
const SAW_DENY = 4;

function scan(acls: readonly IndexedAcl[] | undefined, operation: number, host: string): number {
  if (acls === undefined) return 0;
  let seen = 0;
  for (let i = 0; i < acls.length; i++) {
    const r = aclResult(acls[i] as IndexedAcl, operation, host);
    if (r === DENIED) return SAW_DENY;
    if (r === ALLOWED) seen = SAW_ALLOW;
  }
  return seen;
}

/** What the ACLs on one resource pattern say for (principal or `User:*`, operation, host). */
function visit(p: PatternAcls | undefined, principal: string, operation: number, host: string): number {
  if (p === undefined) return 0;
  let seen = SAW_RESOURCE_ACLS | scan(p.byPrincipal.get(principal), operation, host);
  if ((seen & SAW_DENY) === 0 && principal !== WILDCARD_PRINCIPAL) seen |= scan(p.byPrincipal.get(WILDCARD_PRINCIPAL), operation, host);
  return seen;
}

/** The ACLs on one resource pattern, grouped by principal. */
class PatternAcls {
  size = 0;
  readonly byPrincipal = new Map<string, IndexedAcl[]>();

  add(b: AclBinding): void {
    let list = this.byPrincipal.get(b.entry.principal);
    if (list === undefined) this.byPrincipal.set(b.entry.principal, (list = []));
    list.push({ host: b.entry.host, operation: b.entry.operation, allow: b.entry.permissionType === AclPermissionType.ALLOW });
    this.size++;
  }

  remove(b: AclBinding): void {
    const list = this.byPrincipal.get(b.entry.principal);
    const allow = b.entry.permissionType === AclPermissionType.ALLOW;
    const i = list?.findIndex((a) => a.host === b.entry.host && a.operation === b.entry.operation && a.allow === allow) ?? -1;
    if (list === undefined || i < 0) throw new Error('ACL index out of step with the store');
    list.splice(i, 1);
    if (list.length === 0) this.byPrincipal.delete(b.entry.principal);
    this.size--;
  }
}

/** One resource type's ACLs. */
class TypeIndex {
  readonly literal = new Map<string, PatternAcls>();
  readonly prefixed = new Map<string, PatternAcls>();
  /** Distinct lengths of the PREFIXED names present, ascending, with how many prefixes have each. */
  prefixLengths: number[] = [];
  private readonly lengthCounts = new Map<number, number>();

  add(b: AclBinding): void {
    const literal = b.pattern.patternType === PatternType.LITERAL;
    const map = literal ? this.literal : this.prefixed;
    let p = map.get(b.pattern.name);
    if (p === undefined) {
      map.set(b.pattern.name, (p = new PatternAcls()));
      if (!literal) this.countLength(b.pattern.name.length, +1);
    }
    p.add(b);
  }

  remove(b: AclBinding): void {
    const literal = b.pattern.patternType === PatternType.LITERAL;
    const map = literal ? this.literal : this.prefixed;
    const p = map.get(b.pattern.name);
    if (p === undefined) throw new Error('ACL index out of step with the store');
    p.remove(b);
    if (p.size === 0) {
      map.delete(b.pattern.name);
      if (!literal) this.countLength(b.pattern.name.length, -1);
    }
  }

  private countLength(length: number, delta: number): void {
    const n = (this.lengthCounts.get(length) ?? 0) + delta;
    if (n === 0) this.lengthCounts.delete(length);
    else this.lengthCounts.set(length, n);
    this.prefixLengths = [...this.lengthCounts.keys()].sort((a, b) => a - b);
  }
}

export class StandardAuthorizer {
  private readonly store: AclStore;
  private readonly superUsers: ReadonlySet<string>;
  private readonly allowEveryoneIfNoAclFound: boolean;
  private readonly types = new Map<number, TypeIndex>();
  private bindingsByKey = new Map<string, AclBinding>();

  constructor(store: AclStore, options: AuthorizerOptions = {}) {
    this.store = store;
    this.superUsers = new Set(options.superUsers ?? []);
    this.allowEveryoneIfNoAclFound = options.allowEveryoneIfNoAclFound ?? false;
    for (const b of store.bindings()) this.indexAdd(b);
    store.onChange((added, removed) => {
      for (const b of removed) this.indexRemove(b);
      for (const b of added) this.indexAdd(b);
    });
  }

  get aclCount(): number {
    return this.bindingsByKey.size;
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  /** May `session` perform `operation` on the resource (type, literal name)? */
  authorize(session: Session, operation: number, resourceType: number, name: string): boolean {
    if (this.superUsers.has(session.principal)) return true;
    const t = this.types.get(resourceType);
    if (t === undefined) return this.allowEveryoneIfNoAclFound;
    const { principal, host } = session;
    // No closures or arrays per call: this runs for every resource of every request.
    let seen = visit(t.literal.get(name), principal, operation, host);
    if ((seen & SAW_DENY) !== 0) return false;
    if (name !== WILDCARD_RESOURCE) {
      seen |= visit(t.literal.get(WILDCARD_RESOURCE), principal, operation, host);
      if ((seen & SAW_DENY) !== 0) return false;
    }
    const lengths = t.prefixLengths;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i] as number;
      if (len > name.length) break;
      seen |= visit(t.prefixed.get(len === name.length ? name : name.slice(0, len)), principal, operation, host);
      if ((seen & SAW_DENY) !== 0) return false;
    }
    if ((seen & SAW_ALLOW) !== 0) return true;
    return (seen & SAW_RESOURCE_ACLS) !== 0 ? false : this.allowEveryoneIfNoAclFound;
  }

  /**
   * Is `session` allowed `operation` on at least one resource of the type, considering only
   * ACLs for exactly that operation or ALL? Kafka's Authorizer.authorizeByResourceType, used for
   * idempotent producers (WRITE on any TOPIC instead of IDEMPOTENT_WRITE on the CLUSTER).
   * Allowed when a resource of the type named "hardcode" would be (super users, and
   * allow.everyone.if.no.acl.found with no ACLs applying); else when there is an ALLOW on
   * `*`, or an ALLOW on a literal name not denied by a literal DENY of that name nor by a
   * PREFIXED DENY of one of its prefixes, or an ALLOW on a prefix not denied by a PREFIXED DENY
   * on one of its prefixes; a DENY on LITERAL `*` denies everything.
   */
  authorizeByResourceType(session: Session, operation: number, resourceType: number): boolean {
    if (this.authorize(session, operation, resourceType, 'hardcode')) return true;
    const t = this.types.get(resourceType);
    if (t === undefined) return false;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral: string[] = [];
    const allowPrefixed: string[] = [];
    let wildcardAllow = false;
    const principals = [session.principal, WILDCARD_PRINCIPAL];
    for (const [map, literal] of [
      [t.literal, true],
      [t.prefixed, false],
    ] as const) {
      for (const [name, p] of map) {
        for (const principal of principals) {
          for (const acl of p.byPrincipal.get(principal) ?? []) {
            if (acl.host !== WILDCARD_HOST && acl.host !== session.host) continue;
            if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
            if (!acl.allow) {
              if (literal && name === WILDCARD_RESOURCE) return false;
              if (!literal && name === '') return false;
              (literal ? denyLiteral : denyPrefixed).add(name);
            } else if (literal && name === WILDCARD_RESOURCE) {
              wildcardAllow = true;
            } else {
              (literal ? allowLiteral : allowPrefixed).push(name);
            }
          }
        }
      }
    }
    if (wildcardAllow) return true;
    const dominatedByPrefixDeny = (name: string): boolean => {
      for (let len = 1; len <= name.length; len++) if (denyPrefixed.has(name.slice(0, len))) return true;
      return false;
    };
    for (const name of allowLiteral) if (!denyLiteral.has(name) && !dominatedByPrefixDeny(name)) return true;
    for (const name of allowPrefixed) if (!dominatedByPrefixDeny(name)) return true;
    return false;
  }

  /**
   * The authorized-operations bit field Kafka puts in Metadata, DescribeCluster, DescribeGroups
   * and ConsumerGroupDescribe: bit `code` set for each supported operation of the resource type
   * that `session` may perform.
   */
  authorizedOperations(session: Session, resourceType: number, name: string): number {
    let bits = 0;
    for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) if (this.authorize(session, op, resourceType, name)) bits |= 1 << op;
    return bits;
  }

  /** The bindings matching `filter` (DescribeAcls), in the order they were created. */
  acls(filter: AclBindingFilter): AclBinding[] {
    const out: AclBinding[] = [];
    for (const b of this.bindingsByKey.values()) if (bindingMatches(filter, b)) out.push(b);
    return out;
  }

  /**
   * CreateAcls: one result per binding, in order. An invalid binding gets INVALID_REQUEST and
   * Kafka's message; creating an existing binding succeeds without a second copy. The valid ones
   * are written in one store change; if that write fails they all get UNKNOWN_SERVER_ERROR.
   * Every valid binding goes to the store, even one the index has: the index may lag the store
   * (cluster mode: another broker's deletion not delivered yet), and the store keeps a binding
   * once and writes nothing when nothing changes.
   */
  async createAcls(bindings: readonly AclBinding[]): Promise<AclCreateResult[]> {
    const results: AclCreateResult[] = [];
    const toAdd = new Map<string, AclBinding>();
    for (const b of bindings) {
      const why = invalidBindingReason(b);
      if (why !== null) {
        results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why });
        continue;
      }
      toAdd.set(bindingKey(b), b);
      results.push({ errorCode: ErrorCode.NONE, errorMessage: null });
    }
    if (toAdd.size === 0) return results;
    try {
      await this.store.apply([...toAdd.values()], []);
    } catch (e) {
      const message = `Failed to store ACLs: ${(e as Error).message}`;
      return results.map((r) => (r.errorCode === ErrorCode.NONE ? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: message } : r));
    }
    return results;
  }

  /**
   * DeleteAcls: one result per filter, in order, listing the bindings it matched (a binding
   * matched by several filters is listed under each, and deleted once). A filter with an
   * UNKNOWN element gets INVALID_REQUEST. All deletions are one store change; if it fails,
   * every filter that matched something gets UNKNOWN_SERVER_ERROR and nothing is deleted.
   */
  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeleteResult[]> {
    const results: AclDeleteResult[] = [];
    const toRemove = new Map<string, AclBinding>();
    for (const f of filters) {
      const why = invalidFilterReason(f);
      if (why !== null) {
        results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why, deleted: [] });
        continue;
      }
      const deleted = this.acls(f);
      for (const b of deleted) toRemove.set(bindingKey(b), b);
      results.push({ errorCode: ErrorCode.NONE, errorMessage: null, deleted });
    }
    if (toRemove.size === 0) return results;
    try {
      await this.store.apply([], [...toRemove.values()]);
    } catch (e) {
      const message = `Failed to delete ACLs: ${(e as Error).message}`;
      return results.map((r) =>
        r.errorCode === ErrorCode.NONE && r.deleted.length > 0 ? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: message, deleted: [] } : r,
      );
    }
    return results;
  }

  private indexAdd(b: AclBinding): void {
    const key = bindingKey(b);
    if (this.bindingsByKey.has(key)) return;
    this.bindingsByKey.set(key, b);
    let t = this.types.get(b.pattern.resourceType);
    if (t === undefined) this.types.set(b.pattern.resourceType, (t = new TypeIndex()));
    t.add(b);
  }

  private indexRemove(b: AclBinding): void {
    const key = bindingKey(b);
    if (!this.bindingsByKey.delete(key)) return;
    const t = this.types.get(b.pattern.resourceType) as TypeIndex;
    t.remove(b);
    if (t.literal.size === 0 && t.prefixed.size === 0) this.types.delete(b.pattern.resourceType);
  }
}
