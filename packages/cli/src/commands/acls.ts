// `sluice acls --add|--remove|--list`, in kafka-acls.sh's shape: a resource (--topic, --group,
// --cluster, --transactional-id; --resource-pattern-type literal|prefixed, and any|match for
// --list/--remove), principals and hosts (--allow-principal/--deny-principal,
// --allow-host/--deny-host, default host *), operations (--operation, repeatable: Read, Write,
// Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite,
// All), and the --producer / --consumer shortcuts. --list takes --principal to filter.

import type { Command } from 'commander';
import {
  ACL_OPERATIONS,
  ACL_PATTERN_TYPES,
  ACL_PERMISSIONS,
  ACL_RESOURCE_TYPES,
  type AclBinding,
  type AclFilter,
  aclName,
  createAcls,
  deleteAcls,
  describeAcls,
  KafkaApiError,
  UsageError,
} from '@sluice/client';
import { collect, exactlyOne, withBootstrap, withClient, writeOut } from '../output/command.ts';
import { type OutputFormat, withOutput, writeTables } from '../output/format.ts';
import { formatTable } from '../output/table.ts';

interface AclOptions {
  bootstrapServer: string;
  output: OutputFormat;
  add?: boolean;
  remove?: boolean;
  list?: boolean;
  topic?: string[];
  group?: string[];
  cluster?: boolean;
  transactionalId?: string[];
  resourcePatternType: string;
  allowPrincipal?: string[];
  denyPrincipal?: string[];
  allowHost?: string[];
  denyHost?: string[];
  operation?: string[];
  principal?: string[];
  producer?: boolean;
  consumer?: boolean;
  idempotent?: boolean;
}

interface Resource {
  readonly type: number;
  readonly name: string;
}

/** "DescribeConfigs", "describe_configs", "DESCRIBECONFIGS" → the operation code. */
export function parseOperation(text: string): number {
  const wanted = text.replace(/[_-]/g, '').toLowerCase();
  const found = Object.entries(ACL_OPERATIONS).find(([name]) => name.replace(/_/g, '').toLowerCase() === wanted && name !== 'ANY');
  if (found === undefined)
    throw new UsageError(
      `unknown operation ${JSON.stringify(text)}`,
      'use one of Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All',
    );
  return found[1];
}

function parsePatternType(text: string, forFilter: boolean): number {
  const code = (ACL_PATTERN_TYPES as Record<string, number>)[text.toUpperCase()];
  if (code === undefined || (!forFilter && code !== ACL_PATTERN_TYPES.LITERAL && code !== ACL_PATTERN_TYPES.PREFIXED)) {
    throw new UsageError(`--resource-pattern-type ${text} is not valid here`, forFilter ? 'use literal, prefixed, any or match' : 'use literal or prefixed');
  }
  return code;
}

function principalOf(text: string): string {
  if (!text.includes(':')) throw new UsageError(`principal ${JSON.stringify(text)} needs a type`, 'write it as User:<name>');
  return text;
}

function resources(opts: AclOptions): Resource[] {
  const out: Resource[] = [];
  for (const name of opts.topic ?? []) out.push({ type: ACL_RESOURCE_TYPES.TOPIC, name });
  for (const name of opts.group ?? []) out.push({ type: ACL_RESOURCE_TYPES.GROUP, name });
  for (const name of opts.transactionalId ?? []) out.push({ type: ACL_RESOURCE_TYPES.TRANSACTIONAL_ID, name });
  if (opts.cluster === true) out.push({ type: ACL_RESOURCE_TYPES.CLUSTER, name: 'kafka-cluster' });
  return out;
}

/** The (resource, operation) pairs to add: --operation on each resource, or the --producer / --consumer sets (kafka-acls's). */
function operationsPerResource(opts: AclOptions, list: readonly Resource[]): Array<{ resource: Resource; operation: number }> {
  const { TOPIC, GROUP, TRANSACTIONAL_ID, CLUSTER } = ACL_RESOURCE_TYPES;
  const O = ACL_OPERATIONS;
  const out: Array<{ resource: Resource; operation: number }> = [];
  if (opts.producer === true || opts.consumer === true) {
    for (const r of list) {
      if (opts.producer === true && r.type === TOPIC) for (const op of [O.WRITE, O.DESCRIBE, O.CREATE]) out.push({ resource: r, operation: op });
      if (opts.producer === true && r.type === TRANSACTIONAL_ID) for (const op of [O.WRITE, O.DESCRIBE]) out.push({ resource: r, operation: op });
      if (opts.consumer === true && r.type === TOPIC) for (const op of [O.READ, O.DESCRIBE]) out.push({ resource: r, operation: op });
      if (opts.consumer === true && r.type === GROUP) out.push({ resource: r, operation: O.READ });
    }
    if (opts.producer === true && opts.idempotent === true) out.push({ resource: { type: CLUSTER, name: 'kafka-cluster' }, operation: O.IDEMPOTENT_WRITE });
    if (opts.consumer === true && !list.some((r) => r.type === GROUP)) throw new UsageError('--consumer needs --group');
    return out;
  }
  const ops = (opts.operation ?? []).map(parseOperation);
  if (ops.length === 0) throw new UsageError('--operation is required (or --producer / --consumer)');
  for (const r of list) for (const op of ops) out.push({ resource: r, operation: op });
  return out;
}

/** principal × host × permission, from --allow-principal/--deny-principal and the hosts. */
function entries(opts: AclOptions): Array<{ principal: string; host: string; permissionType: number }> {
  const out: Array<{ principal: string; host: string; permissionType: number }> = [];
  const hosts = (list: string[] | undefined) => (list === undefined || list.length === 0 ? ['*'] : list);
  for (const p of opts.allowPrincipal ?? [])
    for (const h of hosts(opts.allowHost)) out.push({ principal: principalOf(p), host: h, permissionType: ACL_PERMISSIONS.ALLOW });
  for (const p of opts.denyPrincipal ?? [])
    for (const h of hosts(opts.denyHost)) out.push({ principal: principalOf(p), host: h, permissionType: ACL_PERMISSIONS.DENY });
  return out;
}

export function aclRows(bindings: readonly AclBinding[]) {
  return bindings.map((b) => [
    aclName(ACL_RESOURCE_TYPES, b.resourceType),
    b.resourceName,
    aclName(ACL_PATTERN_TYPES, b.patternType),
    b.principal,
    b.host,
    aclName(ACL_OPERATIONS, b.operation),
    aclName(ACL_PERMISSIONS, b.permissionType),
  ]);
}

const HEADERS = ['RESOURCE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'];

export function registerAcls(program: Command): void {
  withOutput(withBootstrap(program.command('acls').description('add, remove and list ACLs (like kafka-acls.sh)')))
    .option('--add', 'add ACLs')
    .option('--remove', 'remove the ACLs matching the options')
    .option('--list', 'list ACLs (of the given resources, else all)')
    .option('--topic <name>', 'topic resource (repeatable)', collect)
    .option('--group <id>', 'consumer group resource (repeatable)', collect)
    .option('--transactional-id <id>', 'transactional id resource (repeatable)', collect)
    .option('--cluster', 'the cluster resource')
    .option('--resource-pattern-type <type>', 'literal or prefixed (filters: also any, match)', 'literal')
    .option('--allow-principal <principal>', 'User:<name> to allow (repeatable)', collect)
    .option('--deny-principal <principal>', 'User:<name> to deny (repeatable)', collect)
    .option('--allow-host <host>', 'host the allow applies to (default *)', collect)
    .option('--deny-host <host>', 'host the deny applies to (default *)', collect)
    .option(
      '--operation <op>',
      'operation (repeatable): Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All',
      collect,
    )
    .option('--principal <principal>', '--list: only ACLs of this principal (repeatable)', collect)
    .option('--producer', 'the ACLs a producer needs on --topic (Write, Describe, Create)')
    .option('--idempotent', 'with --producer: IdempotentWrite on the cluster too')
    .option('--consumer', 'the ACLs a consumer needs on --topic (Read, Describe) and --group (Read)')
    .action(async (opts: AclOptions) => {
      const action = exactlyOne({ add: opts.add, remove: opts.remove, list: opts.list }, ['add', 'remove', 'list'], 'acls');
      const list = resources(opts);
      await withClient(opts, async (client) => {
        if (action === 'add') {
          if (list.length === 0) throw new UsageError('--add needs a resource', 'use --topic, --group, --transactional-id or --cluster');
          const who = entries(opts);
          if (who.length === 0) throw new UsageError('--add needs --allow-principal or --deny-principal');
          const patternType = parsePatternType(opts.resourcePatternType, false);
          const bindings: AclBinding[] = [];
          for (const { resource, operation } of operationsPerResource(opts, list)) {
            for (const e of who) bindings.push({ resourceType: resource.type, resourceName: resource.name, patternType, operation, ...e });
          }
          const results = await createAcls(client, bindings);
          results.forEach((r, i) => {
            if (r.errorCode !== 0) throw new KafkaApiError('add', `ACL ${aclRows([bindings[i]])[0].join(' ')}`, r.errorCode, r.errorMessage);
          });
          await writeOut(`Added ${bindings.length} ACL${bindings.length === 1 ? '' : 's'}:\n${formatTable(HEADERS, aclRows(bindings))}`);
          return;
        }
        const patternType = parsePatternType(opts.resourcePatternType, true);
        const filterFor = (r: Resource | null, principal: string | null, operation: number, permissionType: number, host: string | null): AclFilter => ({
          resourceType: r?.type ?? ACL_RESOURCE_TYPES.ANY,
          resourceName: r?.name ?? null,
          patternType: r === null ? ACL_PATTERN_TYPES.ANY : patternType,
          principal,
          host,
          operation,
          permissionType,
        });
        if (action === 'list') {
          const principals = (opts.principal ?? []).map(principalOf);
          const filters: AclFilter[] = [];
          for (const r of list.length === 0 ? [null] : list) {
            for (const p of principals.length === 0 ? [null] : principals) filters.push(filterFor(r, p, ACL_OPERATIONS.ANY, ACL_PERMISSIONS.ANY, null));
          }
          const found: AclBinding[] = [];
          for (const f of filters) found.push(...(await describeAcls(client, f)));
          await writeTables(opts.output, [{ headers: HEADERS, rows: aclRows(found) }], 'No ACLs.\n');
          return;
        }
        // remove: every ACL on the resources that matches the given principals/operations (all when none given).
        if (list.length === 0) throw new UsageError('--remove needs a resource', 'use --topic, --group, --transactional-id or --cluster');
        const who = entries(opts);
        const ops = (opts.operation ?? []).map(parseOperation);
        const filters: AclFilter[] = [];
        for (const r of list) {
          for (const op of ops.length === 0 ? [ACL_OPERATIONS.ANY] : ops) {
            if (who.length === 0) filters.push(filterFor(r, null, op, ACL_PERMISSIONS.ANY, null));
            for (const e of who)
              filters.push(
                filterFor(r, e.principal, op, e.permissionType, e.host === '*' && opts.allowHost === undefined && opts.denyHost === undefined ? null : e.host),
              );
          }
        }
        const removed = (await deleteAcls(client, filters)).flat();
        await writeOut(
          removed.length === 0
            ? 'No ACLs matched.\n'
            : `Removed ${removed.length} ACL${removed.length === 1 ? '' : 's'}:\n${formatTable(HEADERS, aclRows(removed))}`,
        );
      });
    });
}
