// ACL and SCRAM credential administration: CreateAcls, DescribeAcls, DeleteAcls (as kafka-acls.sh
// uses them) and Describe/AlterUserScramCredentials (as kafka-configs.sh --entity-type users
// does). SCRAM passwords are salted here, on the client, as Kafka's tools do: the broker only
// ever receives the salt, the iteration count and the salted password (RFC 5802 Hi()).
//
// Names and codes are Kafka's (org.apache.kafka.common.resource / acl): this package speaks the
// protocol and does not share the broker's tables.

import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { ApiKey } from '@sluice/protocol';
import { checkError, UsageError } from './errors.ts';
import type { KafkaClient } from './kafka-client.ts';

export const ACL_RESOURCE_TYPES = Object.freeze({ ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const);
export const ACL_PATTERN_TYPES = Object.freeze({ ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const);
export const ACL_OPERATIONS = Object.freeze({
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
export const ACL_PERMISSIONS = Object.freeze({ ANY: 1, DENY: 2, ALLOW: 3 } as const);

/** Code → name, for printing what the broker answered. */
export function aclName(table: Readonly<Record<string, number>>, code: number): string {
  return Object.entries(table).find(([, v]) => v === code)?.[0] ?? `UNKNOWN(${code})`;
}

export interface AclBinding {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

/** A filter: null matches any name / principal / host; ANY codes match anything. */
export interface AclFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

export interface AclResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** CreateAcls: one result per binding, in order (the caller decides which are failures). */
export async function createAcls(client: KafkaClient, bindings: readonly AclBinding[]): Promise<AclResult[]> {
  const conn = client.bootstrap;
  const version = conn.version(ApiKey.CreateAcls);
  if (version < 1 && bindings.some((b) => b.patternType !== ACL_PATTERN_TYPES.LITERAL))
    throw new UsageError(`the broker at ${conn.address} only knows LITERAL patterns (CreateAcls v0)`);
  const body = await conn.request(ApiKey.CreateAcls, {
    creations: bindings.map((b) => ({ ...b, resourcePatternType: b.patternType })),
  });
  return body.results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage }));
}

/** DescribeAcls: the bindings matching the filter; an error answer throws. */
export async function describeAcls(client: KafkaClient, filter: AclFilter): Promise<AclBinding[]> {
  const body = await client.bootstrap.request(ApiKey.DescribeAcls, {
    resourceTypeFilter: filter.resourceType,
    resourceNameFilter: filter.resourceName,
    patternTypeFilter: filter.patternType,
    principalFilter: filter.principal,
    hostFilter: filter.host,
    operation: filter.operation,
    permissionType: filter.permissionType,
  });
  checkError('describe', 'ACLs', body.errorCode, body.errorMessage);
  return body.resources.flatMap((r) =>
    r.acls.map((a) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      patternType: r.patternType ?? ACL_PATTERN_TYPES.LITERAL,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
    })),
  );
}

/** DeleteAcls: per filter, the bindings it deleted; a filter's error throws. */
export async function deleteAcls(client: KafkaClient, filters: readonly AclFilter[]): Promise<AclBinding[][]> {
  const body = await client.bootstrap.request(ApiKey.DeleteAcls, {
    filters: filters.map((f) => ({
      resourceTypeFilter: f.resourceType,
      resourceNameFilter: f.resourceName,
      patternTypeFilter: f.patternType,
      principalFilter: f.principal,
      hostFilter: f.host,
      operation: f.operation,
      permissionType: f.permissionType,
    })),
  });
  return body.filterResults.map((r) => {
    checkError('delete', 'ACLs', r.errorCode, r.errorMessage);
    return r.matchingAcls.map((a) => ({
      resourceType: a.resourceType,
      resourceName: a.resourceName,
      patternType: a.patternType ?? ACL_PATTERN_TYPES.LITERAL,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
    }));
  });
}

/** Kafka's ScramMechanism: type code, digest, PBKDF2 key length. */
export const SCRAM_MECHANISMS = Object.freeze({
  'SCRAM-SHA-256': { type: 1, digest: 'sha256', keyLength: 32 },
  'SCRAM-SHA-512': { type: 2, digest: 'sha512', keyLength: 64 },
} as const);
export type ScramMechanismName = keyof typeof SCRAM_MECHANISMS;

export function scramMechanismName(type: number): string {
  return Object.entries(SCRAM_MECHANISMS).find(([, m]) => m.type === type)?.[0] ?? `UNKNOWN(${type})`;
}

export interface UserCredentials {
  readonly user: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly credentials: ReadonlyArray<{ readonly mechanism: string; readonly iterations: number }>;
}

/** DescribeUserScramCredentials: every user when `users` is empty; per-user errors come back as values. */
export async function describeUserScramCredentials(client: KafkaClient, users: readonly string[]): Promise<UserCredentials[]> {
  const body = await client.bootstrap.request(ApiKey.DescribeUserScramCredentials, { users: users.length === 0 ? null : users.map((name) => ({ name })) });
  checkError('describe', 'SCRAM credentials', body.errorCode, body.errorMessage);
  return body.results.map((r) => ({
    user: r.user,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    credentials: r.credentialInfos.map((c) => ({ mechanism: scramMechanismName(c.mechanism), iterations: c.iterations })),
  }));
}

export interface ScramUpsert {
  readonly user: string;
  readonly mechanism: ScramMechanismName;
  readonly iterations: number;
  readonly password: string;
}

export interface ScramDelete {
  readonly user: string;
  readonly mechanism: ScramMechanismName;
}

/** AlterUserScramCredentials: the password is salted here (random 32-byte salt, PBKDF2 = RFC 5802 Hi()). */
export async function alterUserScramCredentials(
  client: KafkaClient,
  changes: { readonly upsertions: readonly ScramUpsert[]; readonly deletions: readonly ScramDelete[] },
): Promise<Array<{ user: string; errorCode: number; errorMessage: string | null }>> {
  const upsertions = changes.upsertions.map((u) => {
    const m = SCRAM_MECHANISMS[u.mechanism];
    const salt = randomBytes(32);
    const saltedPassword = pbkdf2Sync(Buffer.from(u.password, 'utf8'), salt, u.iterations, m.keyLength, m.digest);
    return { name: u.user, mechanism: m.type, iterations: u.iterations, salt: new Uint8Array(salt), saltedPassword: new Uint8Array(saltedPassword) };
  });
  const deletions = changes.deletions.map((d) => ({ name: d.user, mechanism: SCRAM_MECHANISMS[d.mechanism].type }));
  const body = await client.bootstrap.request(ApiKey.AlterUserScramCredentials, { deletions, upsertions });
  return body.results.map((r) => ({ user: r.user, errorCode: r.errorCode, errorMessage: r.errorMessage }));
}
