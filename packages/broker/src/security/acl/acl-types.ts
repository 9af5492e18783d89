// ACL vocabulary with Kafka's names and wire codes (org.apache.kafka.common.resource.ResourceType,
// PatternType, org.apache.kafka.common.acl.AclOperation, AclPermissionType). The codes are wire
// facts (CreateAcls, DescribeAcls, DeleteAcls, authorized-operations bit fields) and never change.
// Values are plain numbers throughout, so a binding decoded from a request is used as is; a code
// Kafka does not define reads as UNKNOWN (0), as Kafka's fromCode does.

export const ResourceType = Object.freeze({
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const);

export const PatternType = Object.freeze({
  UNKNOWN: 0,
  /** Filters only: any pattern type, names compared exactly. */
  ANY: 1,
  /** Filters only: the patterns that would apply to a resource of that name. */
  MATCH: 2,
  LITERAL: 3,
  PREFIXED: 4,
} as const);

export const AclOperation = Object.freeze({
  UNKNOWN: 0,
  /** Filters only. */
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const);

export const AclPermissionType = Object.freeze({
  UNKNOWN: 0,
  /** Filters only. */
  ANY: 1,
  DENY: 2,
  ALLOW: 3,
} as const);

/** The CLUSTER resource's only name (Kafka's CLUSTER_NAME). */
export const CLUSTER_NAME = 'kafka-cluster';
/** LITERAL resource name that matches every name of its type. */
export const WILDCARD_RESOURCE = '*';
/** ACL principal that matches every principal. */
export const WILDCARD_PRINCIPAL = 'User:*';
/** ACL host that matches every host. */
export const WILDCARD_HOST = '*';

function namesOf(table: Readonly<Record<string, number>>): (code: number) => string {
  const byCode = new Map(Object.entries(table).map(([k, v]) => [v, k]));
  return (code) => byCode.get(code) ?? 'UNKNOWN';
}

export const resourceTypeName = namesOf(ResourceType);
export const patternTypeName = namesOf(PatternType);
export const operationName = namesOf(AclOperation);
export const permissionTypeName = namesOf(AclPermissionType);

function codeOf(table: Readonly<Record<string, number>>): (name: string) => number {
  return (name) => table[name.toUpperCase()] ?? 0;
}

/** Case-insensitive name -> code; UNKNOWN (0) for anything else, as Kafka's fromString. */
export const resourceTypeCode = codeOf(ResourceType);
export const patternTypeCode = codeOf(PatternType);
export const operationCode = codeOf(AclOperation);
export const permissionTypeCode = codeOf(AclPermissionType);

/** Known codes pass through; anything else becomes UNKNOWN (0). */
export function normalizeCode(table: Readonly<Record<string, number>>, code: number): number {
  return Object.values(table).includes(code) ? code : 0;
}

export interface ResourcePattern {
  readonly resourceType: number;
  readonly name: string;
  readonly patternType: number;
}

export interface AccessControlEntry {
  /** `Type:name`, e.g. `User:alice`, or `User:*`. */
  readonly principal: string;
  /** An IP address as the broker prints the client's, or `*`. */
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

export interface AclBinding {
  readonly pattern: ResourcePattern;
  readonly entry: AccessControlEntry;
}

export interface ResourcePatternFilter {
  readonly resourceType: number;
  /** null matches any name. */
  readonly name: string | null;
  readonly patternType: number;
}

export interface AccessControlEntryFilter {
  /** null matches any principal. */
  readonly principal: string | null;
  /** null matches any host. */
  readonly host: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

export interface AclBindingFilter {
  readonly pattern: ResourcePatternFilter;
  readonly entry: AccessControlEntryFilter;
}

/** A filter matching every binding (Kafka's AclBindingFilter.ANY). */
export const ANY_ACL_FILTER: AclBindingFilter = Object.freeze({
  pattern: Object.freeze({ resourceType: ResourceType.ANY, name: null, patternType: PatternType.ANY }),
  entry: Object.freeze({ principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY }),
});

/** One string per distinct binding: the identity used for de-duplication and deletion. */
export function bindingKey(b: AclBinding): string {
  const p = b.pattern;
  const e = b.entry;
  return `${p.resourceType}\u0000${p.patternType}\u0000${p.name}\u0000${e.principal}\u0000${e.host}\u0000${e.operation}\u0000${e.permissionType}`;
}

/** Kafka's `ResourcePattern(resourceType=TOPIC, name=x, patternType=LITERAL)` style, for logs. */
export function describeBinding(b: AclBinding): string {
  return (
    `(pattern=${resourceTypeName(b.pattern.resourceType)}:${patternTypeName(b.pattern.patternType)}:${b.pattern.name}, ` +
    `principal=${b.entry.principal}, host=${b.entry.host}, operation=${operationName(b.entry.operation)}, permissionType=${permissionTypeName(b.entry.permissionType)})`
  );
}

/**
 * Why Kafka would refuse to create this binding (AclControlManager.validateNewAcl plus the
 * broker's CreateAcls checks), or null when it is acceptable. The caller answers INVALID_REQUEST
 * with this message.
 */
export function invalidBindingReason(b: AclBinding): string | null {
  const { pattern, entry } = b;
  const rt = normalizeCode(ResourceType, pattern.resourceType);
  if (rt === ResourceType.UNKNOWN || rt === ResourceType.ANY) return `Invalid resourceType ${resourceTypeName(rt)}`;
  const pt = normalizeCode(PatternType, pattern.patternType);
  if (pt !== PatternType.LITERAL && pt !== PatternType.PREFIXED) return `Invalid patternType ${patternTypeName(pt)}`;
  const op = normalizeCode(AclOperation, entry.operation);
  if (op === AclOperation.UNKNOWN || op === AclOperation.ANY) return `Invalid operation ${operationName(op)}`;
  const perm = normalizeCode(AclPermissionType, entry.permissionType);
  if (perm !== AclPermissionType.ALLOW && perm !== AclPermissionType.DENY) return `Invalid permissionType ${permissionTypeName(perm)}`;
  if (pattern.name === '') return 'Resource name should not be empty';
  if (rt === ResourceType.CLUSTER && pattern.name !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (!entry.principal.includes(':')) {
    return `Could not parse principal from \`${entry.principal}\` (no colon is present separating the principal type from the principal name)`;
  }
  return null;
}

/** Why Kafka would refuse this filter (any UNKNOWN element), or null. */
export function invalidFilterReason(f: AclBindingFilter): string | null {
  if (normalizeCode(ResourceType, f.pattern.resourceType) === 0 || normalizeCode(PatternType, f.pattern.patternType) === 0) return 'Unknown patternFilter.';
  if (normalizeCode(AclOperation, f.entry.operation) === 0 || normalizeCode(AclPermissionType, f.entry.permissionType) === 0) return 'Unknown entryFilter.';
  return null;
}
