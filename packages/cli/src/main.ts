// Entry of the `sluice` command: one file per command under commands/.
//
// `start` is registered as a stub that loads the broker (and its native addon) only when run:
// the client commands talk Kafka protocol to any broker and must work, and start fast, on a
// machine where the broker is not built. The stub hands the command line to the real `start`
// command (commands/start.ts), which also answers `sluice start --help`. The other way round,
// `sluice start` does not load the client commands (commands/tools.ts) nor the error reporter's
// client imports: a broker's start time and memory pay only for the broker.
//
// Exit codes: 0 ok, 1 the operation failed, 2 bad usage (see output/errors.ts).

import { Command } from 'commander';

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
if (process.argv[2] !== 'start') (await import('./commands/tools.ts')).registerTools(program);

program.parseAsync(process.argv).catch(async (err: unknown) => {
  const { reportError } = await import('./output/errors.ts');
  process.exitCode = reportError(err, program.opts().verbose === true || process.argv.includes('--verbose'));
});
