// DescribeClientQuotas (key 48), v0–1.
// Behavior as Kafka (KIP-546): DESCRIBE_CONFIGS on the cluster, else CLUSTER_AUTHORIZATION_FAILED
// for the request. The filter's components are checked (a known entity type each, each type once,
// a known match type) — INVALID_REQUEST for the request otherwise; then every stored entity that
// matches every component (strict: and has no other types) is returned with all its values.
// A component with match type "exact" and a null name matches the default entity, as Kafka reads it.

import { ErrorCode } from '@sluice/protocol';
import { ENTITY_TYPES, type EntityType } from '../quotas/client-quota-entity.ts';
import type { EntityMatch } from '../quotas/client-quota-store.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_ANY = 2;

type Component = { entityType: string; matchType: number; match: string | null };

/** The filter as the store takes it, or the INVALID_REQUEST message. */
export function parseQuotaFilter(components: readonly Component[]): EntityMatch[] | string {
  const seen = new Set<string>();
  const out: EntityMatch[] = [];
  for (const c of components) {
    if (!(ENTITY_TYPES as readonly string[]).includes(c.entityType)) return `Custom entity type '${c.entityType}' not supported`;
    if (seen.has(c.entityType)) return `Duplicate entity type in filter component: ${c.entityType}`;
    seen.add(c.entityType);
    const type = c.entityType as EntityType;
    if (c.matchType === MATCH_EXACT) out.push(c.match === null ? { type, match: 'default' } : { type, match: 'exact', name: c.match });
    else if (c.matchType === MATCH_DEFAULT) out.push({ type, match: 'default' });
    else if (c.matchType === MATCH_ANY) out.push({ type, match: 'any' });
    else return `Unexpected match type: ${c.matchType}`;
  }
  return out;
}

export const describeClientQuotasHandler = defineHandler({
  apiKey: 48,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    if (!authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', entries: null };
    }
    const filter = parseQuotaFilter(request.components);
    if (typeof filter === 'string') return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: filter, entries: null };
    const entries = ctx.broker.quotas.store.describe(filter, request.strict).map((e) => ({
      entity: e.entity.map((p) => ({ entityType: p.type, entityName: p.name })),
      values: [...e.values].map(([key, value]) => ({ key, value })),
    }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries };
  },
});
