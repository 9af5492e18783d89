// Entry of the `sluice` command: one file per command under commands/.

import { Command } from 'commander';
import { registerStart } from './commands/start.ts';

const program = new Command();
program
  .name('sluice')
  .description('Sluice: a Kafka-compatible broker (TypeScript control plane, Rust data plane)')
  .option('--verbose', 'print stack traces on errors')
  .showHelpAfterError();

registerStart(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const verbose = program.opts().verbose === true;
  process.stderr.write(`sluice: ${verbose && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
