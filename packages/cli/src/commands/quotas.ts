// `sluice quotas list|set|delete`: client quotas (DescribeClientQuotas / AlterClientQuotas), what
// `kafka-configs --entity-type users|clients --alter --add-config producer_byte_rate=…` does.
// An entity is --user and/or --client-id (or --ip); `--user-default` / `--client-id-default` name
// the default entity, which applies to each user / client id without a quota of its own.

import type { Command } from 'commander';
import { alterClientQuotas, describeClientQuotas, KafkaApiError, type QuotaEntity, type QuotaMatch, UsageError } from '@sluice/client';
import { withBootstrap, withClient, writeOut } from '../output/command.ts';
import { formatTable } from '../output/table.ts';

interface EntityOptions {
  user?: string;
  userDefault?: boolean;
  clientId?: string;
  clientIdDefault?: boolean;
  ip?: string;
}

function withEntity(command: Command): Command {
  return command
    .option('--user <name>', 'the user (principal name without "User:")')
    .option('--user-default', 'the default user entity')
    .option('--client-id <id>', 'the client id')
    .option('--client-id-default', 'the default client id entity')
    .option('--ip <address>', 'an IP address (connection_creation_rate)');
}

function entityOf(opts: EntityOptions): QuotaEntity {
  if (opts.user !== undefined && opts.userDefault === true) throw new UsageError('give --user or --user-default, not both');
  if (opts.clientId !== undefined && opts.clientIdDefault === true) throw new UsageError('give --client-id or --client-id-default, not both');
  const entity: Record<string, string | null> = {};
  if (opts.user !== undefined || opts.userDefault === true) entity.user = opts.user ?? null;
  if (opts.clientId !== undefined || opts.clientIdDefault === true) entity['client-id'] = opts.clientId ?? null;
  if (opts.ip !== undefined) entity.ip = opts.ip;
  if (Object.keys(entity).length === 0) throw new UsageError('name an entity', 'use --user, --client-id (or their -default forms) or --ip');
  return entity;
}

const entityText = (e: QuotaEntity) =>
  Object.entries(e)
    .map(([type, name]) => `${type}=${name ?? '<default>'}`)
    .join(',');

/** `key=value,key=value` → values; each value a number. */
function parseValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of text.split(',')) {
    const [key, value, extra] = pair.split('=');
    if (key === undefined || value === undefined || extra !== undefined || key.trim() === '')
      throw new UsageError(`bad quota ${JSON.stringify(pair)}`, 'use key=value[,key=value]');
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${key} must be a number, got ${JSON.stringify(value)}`);
    out[key.trim()] = n;
  }
  return out;
}

export function registerQuotas(program: Command): void {
  const quotas = program.command('quotas').description('client quotas (like kafka-configs.sh --entity-type users|clients|ips)');

  withBootstrap(withEntity(quotas.command('list').description('quotas of the entities matching the options (all when none)'))).action(
    async (opts: EntityOptions & { bootstrapServer: string }) => {
      const components: QuotaMatch[] = [];
      if (opts.user !== undefined) components.push({ type: 'user', name: opts.user });
      if (opts.userDefault === true) components.push({ type: 'user', match: 'default' });
      if (opts.clientId !== undefined) components.push({ type: 'client-id', name: opts.clientId });
      if (opts.clientIdDefault === true) components.push({ type: 'client-id', match: 'default' });
      if (opts.ip !== undefined) components.push({ type: 'ip', name: opts.ip });
      await withClient(opts, async (client) => {
        const entries = await describeClientQuotas(client, components);
        const rows = entries.flatMap((e) => Object.entries(e.values).map(([key, value]) => [entityText(e.entity), key, value]));
        await writeOut(rows.length === 0 ? 'No client quotas.\n' : formatTable(['ENTITY', 'QUOTA', 'VALUE'], rows));
      });
    },
  );

  withBootstrap(withEntity(quotas.command('set').description("set an entity's quotas")))
    .requiredOption(
      '--quota <key=value,...>',
      'producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate (ip: connection_creation_rate)',
    )
    .action(async (opts: EntityOptions & { bootstrapServer: string; quota: string }) => {
      const entity = entityOf(opts);
      const values = parseValues(opts.quota);
      await withClient(opts, async (client) => {
        const r = await alterClientQuotas(client, entity, { set: values });
        if (r.errorCode !== 0) throw new KafkaApiError('set', `quotas of ${entityText(entity)}`, r.errorCode, r.errorMessage);
        await writeOut(`Set ${Object.keys(values).join(', ')} of ${entityText(entity)}.\n`);
      });
    });

  withBootstrap(withEntity(quotas.command('delete').description("remove an entity's quotas")))
    .requiredOption('--quota <key,...>', 'the quota keys to remove')
    .action(async (opts: EntityOptions & { bootstrapServer: string; quota: string }) => {
      const entity = entityOf(opts);
      const keys = opts.quota.split(',').map((k) => k.trim());
      await withClient(opts, async (client) => {
        const r = await alterClientQuotas(client, entity, { remove: keys });
        if (r.errorCode !== 0) throw new KafkaApiError('delete', `quotas of ${entityText(entity)}`, r.errorCode, r.errorMessage);
        await writeOut(`Removed ${keys.join(', ')} of ${entityText(entity)}.\n`);
      });
    });
}
