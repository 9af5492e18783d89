// `sluice users list|set|delete`: SCRAM credentials (DescribeUserScramCredentials /
// AlterUserScramCredentials), what `kafka-configs --entity-type users --alter --add-config
// 'SCRAM-SHA-512=[iterations=4096,password=…]'` does. The password is salted here and never
// sent; the broker stores the salt, iterations and derived keys.

import type { Command } from 'commander';
import { alterUserScramCredentials, describeUserScramCredentials, KafkaApiError, SCRAM_MECHANISMS, type ScramMechanismName, UsageError } from '@sluice/client';
import { readFileSync } from 'node:fs';
import { collect, intArg, withBootstrap, withClient, writeOut } from '../output/command.ts';
import { type OutputFormat, withOutput, writeTables } from '../output/format.ts';

function mechanismOf(text: string): ScramMechanismName {
  const name = text.toUpperCase();
  if (!(name in SCRAM_MECHANISMS)) throw new UsageError(`unknown SCRAM mechanism ${JSON.stringify(text)}`, `use ${Object.keys(SCRAM_MECHANISMS).join(' or ')}`);
  return name as ScramMechanismName;
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description('SCRAM user credentials (like kafka-configs.sh --entity-type users)');

  withOutput(withBootstrap(users.command('list').description('users and their SCRAM mechanisms and iterations')))
    .option('--user <name>', 'only this user (repeatable)', collect)
    .action(async (opts: { bootstrapServer: string; user?: string[]; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const found = await describeUserScramCredentials(client, opts.user ?? []);
        for (const u of found) if (u.errorCode !== 0) throw new KafkaApiError('describe', `user ${JSON.stringify(u.user)}`, u.errorCode, u.errorMessage);
        const rows = found.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, c.iterations]));
        await writeTables(opts.output, [{ headers: ['USER', 'MECHANISM', 'ITERATIONS'], rows }], 'No SCRAM users.\n');
      });
    });

  withBootstrap(users.command('set').description("create or replace a user's SCRAM credential"))
    .requiredOption('--user <name>', 'user name')
    .option('--mechanism <name>', 'SCRAM-SHA-256 or SCRAM-SHA-512', 'SCRAM-SHA-512')
    .option('--iterations <n>', 'PBKDF2 iterations (4096 to 16384)', intArg(4096, 16384), 4096)
    .option('--password <password>', 'the password (visible to other local users in the process list: prefer --password-file)')
    .option('--password-file <file>', 'read the password from the first line of this file')
    .action(async (opts: { bootstrapServer: string; user: string; mechanism: string; iterations: number; password?: string; passwordFile?: string }) => {
      if ((opts.password === undefined) === (opts.passwordFile === undefined)) throw new UsageError('give exactly one of --password and --password-file');
      const password = opts.password ?? readFileSync(opts.passwordFile as string, 'utf8').split(/\r?\n/)[0];
      if (password === '') throw new UsageError('the password is empty');
      const mechanism = mechanismOf(opts.mechanism);
      await withClient(opts, async (client) => {
        const [r] = await alterUserScramCredentials(client, {
          upsertions: [{ user: opts.user, mechanism, iterations: opts.iterations, password }],
          deletions: [],
        });
        if (r !== undefined && r.errorCode !== 0)
          throw new KafkaApiError('set', `${mechanism} credential of ${JSON.stringify(opts.user)}`, r.errorCode, r.errorMessage);
        await writeOut(`Set ${mechanism} credential of user ${opts.user} (${opts.iterations} iterations).\n`);
      });
    });

  withBootstrap(users.command('delete').description("delete a user's SCRAM credential"))
    .requiredOption('--user <name>', 'user name')
    .option('--mechanism <name>', 'SCRAM-SHA-256 or SCRAM-SHA-512', 'SCRAM-SHA-512')
    .action(async (opts: { bootstrapServer: string; user: string; mechanism: string }) => {
      const mechanism = mechanismOf(opts.mechanism);
      await withClient(opts, async (client) => {
        const [r] = await alterUserScramCredentials(client, { upsertions: [], deletions: [{ user: opts.user, mechanism }] });
        if (r !== undefined && r.errorCode !== 0)
          throw new KafkaApiError('delete', `${mechanism} credential of ${JSON.stringify(opts.user)}`, r.errorCode, r.errorMessage);
        await writeOut(`Deleted ${mechanism} credential of user ${opts.user}.\n`);
      });
    });
}
