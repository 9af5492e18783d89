// Client quota administration (KIP-546): DescribeClientQuotas and AlterClientQuotas, what
// `kafka-configs --entity-type users|clients|ips` uses and `sluice quotas` wraps.

import { ApiKey } from '@sluice/protocol';
import { checkError } from './errors.ts';
import type { KafkaClient } from './kafka-client.ts';

/** An entity: its parts by type (`user`, `client-id`, `ip`); a null name is the type's default. */
export type QuotaEntity = Readonly<Partial<Record<'user' | 'client-id' | 'ip', string | null>>>;

export interface QuotaEntry {
  readonly entity: QuotaEntity;
  readonly values: Readonly<Record<string, number>>;
}

/** A filter component: an exact name, the default entity, or any entity of the type. */
export type QuotaMatch = { readonly type: string } & ({ readonly name: string } | { readonly match: 'default' | 'any' });

/** DescribeClientQuotas: entities matching every component (strict: and no other entity types). */
export async function describeClientQuotas(client: KafkaClient, components: readonly QuotaMatch[], strict = false): Promise<QuotaEntry[]> {
  const body = await client.bootstrap.request(ApiKey.DescribeClientQuotas, {
    components: components.map((c) =>
      'name' in c ? { entityType: c.type, matchType: 0, match: c.name } : { entityType: c.type, matchType: c.match === 'default' ? 1 : 2, match: null },
    ),
    strict,
  });
  checkError('describe', 'client quotas', body.errorCode, body.errorMessage);
  return (body.entries ?? []).map((e) => ({
    entity: Object.fromEntries(e.entity.map((p) => [p.entityType, p.entityName])),
    values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
  }));
}

/** AlterClientQuotas for one entity: `set` values, `remove` keys. Per-entity errors come back as values. */
export async function alterClientQuotas(
  client: KafkaClient,
  entity: QuotaEntity,
  changes: { readonly set?: Readonly<Record<string, number>>; readonly remove?: readonly string[] },
  validateOnly = false,
): Promise<{ errorCode: number; errorMessage: string | null }> {
  const ops = [
    ...Object.entries(changes.set ?? {}).map(([key, value]) => ({ key, value, remove: false })),
    ...(changes.remove ?? []).map((key) => ({ key, value: 0, remove: true })),
  ];
  const body = await client.bootstrap.request(ApiKey.AlterClientQuotas, {
    entries: [{ entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName: entityName ?? null })), ops }],
    validateOnly,
  });
  const [r] = body.entries;
  return { errorCode: r.errorCode, errorMessage: r.errorMessage };
}
