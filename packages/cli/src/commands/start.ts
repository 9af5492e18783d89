// `sluice start [--config server.properties] [--override key=value]...`: runs a broker until
// SIGTERM/SIGINT, like kafka-server-start.sh. Prints one ready line with listener and data dir.

import { readFileSync } from 'node:fs';
import module from 'node:module';
import type { Command } from 'commander';
import { Broker, BrokerConfig, ConfigError, parseProperties } from '@sluice/broker';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start a broker (reads a Kafka-style server.properties)')
    .option('-c, --config <file>', 'server.properties file')
    .option('-o, --override <key=value>', 'override one config key (repeatable)', collect, [])
    .action(async (opts: { config?: string; override: string[] }) => {
      const settings = new Map<string, string>();
      if (opts.config !== undefined) {
        for (const [k, v] of parseProperties(readFileSync(opts.config, 'utf8'))) settings.set(k, v);
      }
      for (const o of opts.override) {
        const eq = o.indexOf('=');
        if (eq <= 0) throw new ConfigError(o, 'expected --override key=value');
        settings.set(o.slice(0, eq).trim(), o.slice(eq + 1));
      }
      const config = new BrokerConfig(settings);
      const broker = new Broker(config);
      await broker.start();
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        broker.logger.info({ signal }, 'shutting down');
        broker.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            broker.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      // Handlers before the ready line: whoever reads it may signal at once (a SIGTERM in between
      // would find no handler and kill the process instead of stopping it gracefully).
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      const listeners = broker.listeners.map((l) => `${l.name}://${l.host === '' ? '0.0.0.0' : l.host}:${l.boundPort}`).join(',');
      const metrics = broker.metricsUrl === null ? '' : ` metrics=${broker.metricsUrl}`;
      process.stdout.write(`sluice ready: listeners=${listeners} log.dirs=${config.logDirs.join(',')}${metrics}\n`);
      // Node writes the compile cache (bin/sluice.js enables it) at exit; a broker runs until it is
      // stopped, perhaps with SIGKILL, so write what this start compiled now, after ready.
      module.flushCompileCache?.();
    });
}
