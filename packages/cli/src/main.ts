// Entry of the `sluice` command: one file per command under commands/.
//
// `start` is registered as a stub that loads the broker (and its native addon) only when run:
// the client commands talk Kafka protocol to any broker and must work, and start fast, on a
// machine where the broker is not built. The stub hands the command line to the real `start`
// command (commands/start.ts), which also answers `sluice start --help`.
//
// Exit codes: 0 ok, 1 the operation failed, 2 bad usage (see output/errors.ts).

import { Command } from 'commander';
import { registerAcls } from './commands/acls.ts';
import { registerCluster } from './commands/cluster.ts';
import { registerConsume } from './commands/consume.ts';
import { registerGroups } from './commands/groups.ts';
import { registerLogDump } from './commands/log-dump.ts';
import { registerProduce } from './commands/produce.ts';
import { registerTopics } from './commands/topics.ts';
import { registerTransactions } from './commands/transactions.ts';
import { registerQuotas } from './commands/quotas.ts';
import { registerUsers } from './commands/users.ts';
import { reportError } from './output/errors.ts';

function registerLazyStart(program: Command): void {
  program
    .command('start')
    .description('start a broker (reads a Kafka-style server.properties)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async () => {
      const { registerStart } = await import('./commands/start.ts');
      const real = new Command().name('sluice').exitOverride();
      registerStart(real);
      await real.parseAsync(process.argv);
    });
}

const program = new Command();
program
  .name('sluice')
  .description('Sluice: a Kafka-compatible broker (TypeScript control plane, Rust data plane)')
  .option('--verbose', 'print stack traces on errors')
  .showHelpAfterError()
  // Errors come back to us (no process.exit inside commander) so usage errors can exit with 2.
  .exitOverride();

// A reader that goes away (`sluice topics list | head -1`) is a normal end for a Unix filter, not
// a crash: Node ignores SIGPIPE and reports EPIPE instead. Commands that stream stop on it too.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
});

registerLazyStart(program);
registerTopics(program);
registerProduce(program);
registerConsume(program);
registerGroups(program);
registerTransactions(program);
registerCluster(program);
registerLogDump(program);
registerAcls(program);
registerUsers(program);
registerQuotas(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.exitCode = reportError(err, program.opts().verbose === true || process.argv.includes('--verbose'));
});
