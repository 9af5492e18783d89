// Client quota entities and keys, with Kafka's validation (KIP-546; KRaft's
// ClientQuotaControlManager rules). An entity is a set of (type, name) pairs: `user`,
// `client-id`, or both (a user's quota for one client id), or `ip`; a null name is the type's
// default entity (`<default>` in Kafka's tools), which applies to every user or client id that
// has no quota of its own — each one separately, not shared.

export type EntityType = 'user' | 'client-id' | 'ip';
export const ENTITY_TYPES: readonly EntityType[] = ['user', 'client-id', 'ip'];

export interface EntityPart {
  readonly type: EntityType;
  /** null: the default entity of this type. */
  readonly name: string | null;
}

/** Parts sorted by type (user, client-id, ip): one spelling per entity. */
export type ClientQuotaEntity = readonly EntityPart[];

/** Quota keys by the entity types they apply to, with Kafka's value types. */
export const CLIENT_QUOTA_KEYS = {
  producer_byte_rate: { integral: true, entity: 'client' },
  consumer_byte_rate: { integral: true, entity: 'client' },
  request_percentage: { integral: false, entity: 'client' },
  controller_mutation_rate: { integral: false, entity: 'client' },
  connection_creation_rate: { integral: true, entity: 'ip' },
} as const;
export type ClientQuotaKey = keyof typeof CLIENT_QUOTA_KEYS;

export const isClientQuotaKey = (key: string): key is ClientQuotaKey => Object.hasOwn(CLIENT_QUOTA_KEYS, key);

/** A stable string for maps and files. */
export function entityKey(entity: ClientQuotaEntity): string {
  return entity.map((p) => `${p.type}=${p.name === null ? '\u0000' : p.name}`).join('\u0001');
}

export function sortedEntity(parts: readonly EntityPart[]): ClientQuotaEntity {
  return [...parts].sort((a, b) => ENTITY_TYPES.indexOf(a.type) - ENTITY_TYPES.indexOf(b.type));
}

/** Kafka's spelling of an entity in messages: `user 'alice', client-id <default>`. */
export function describeEntity(entity: ClientQuotaEntity): string {
  return entity.map((p) => `${p.type} ${p.name === null ? '<default>' : `'${p.name}'`}`).join(', ');
}

/**
 * An entity as a request spells it, checked: known types, each once, `ip` alone, a valid IP
 * address for a named ip entity. Returns the entity or the INVALID_REQUEST message.
 */
export function parseEntity(parts: readonly { entityType: string; entityName: string | null }[]): ClientQuotaEntity | string {
  if (parts.length === 0) return 'Invalid empty client quota entity';
  const seen = new Set<string>();
  for (const p of parts) {
    if (!(ENTITY_TYPES as readonly string[]).includes(p.entityType)) return `Unhandled client quota entity type: ${p.entityType}`;
    if (seen.has(p.entityType)) return `Duplicate ${p.entityType} entity in client quota entity`;
    seen.add(p.entityType);
  }
  if (seen.has('ip') && seen.size > 1) return 'Invalid quota entity combination: ip cannot be combined with user or client-id';
  for (const p of parts) {
    if (p.entityType === 'ip' && p.entityName !== null && !isIpAddress(p.entityName)) return `${p.entityName} is not a valid IP`;
    if (p.entityType === 'user' && p.entityName === '') return 'Invalid empty user entity name';
  }
  return sortedEntity(parts.map((p) => ({ type: p.entityType as EntityType, name: p.entityName })));
}

/** The INVALID_REQUEST message for setting `key` to `value` on `entity`, or null when valid. */
export function checkQuotaValue(entity: ClientQuotaEntity, key: string, value: number): string | null {
  if (!isClientQuotaKey(key)) return `Invalid configuration key ${key}`;
  const def = CLIENT_QUOTA_KEYS[key];
  const isIp = entity.some((p) => p.type === 'ip');
  if ((def.entity === 'ip') !== isIp) return `Invalid configuration key ${key} for ${isIp ? 'ip' : 'user/client-id'} entity`;
  if (!Number.isFinite(value)) return `Invalid value ${value} for ${key}: must be a finite number`;
  if (def.integral && Math.abs(value % 1) > 1e-6) return `${key} cannot be a fractional value.`;
  // Kafka takes any number here; a zero or negative rate would make every request wait forever
  // (or divide by zero), so Sluice refuses it with the same error code.
  if (value <= 0) return `Invalid value ${value} for ${key}: must be greater than 0`;
  return null;
}

function isIpAddress(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) return s.split('.').every((o) => Number(o) <= 255);
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s);
}
