// `sluice consume --topic T`: print records, like kafka-console-consumer.sh. Without --group it
// reads the partitions itself (all, or --partition) from latest, --from-beginning, --offset or
// --timestamp; with --group it joins the consumer group and starts from the committed offsets
// (--from-beginning then only decides where a partition with no committed offset starts).
//
// Like the console consumer it runs until interrupted, unless --max-messages, --timeout-ms (no
// record for that long) or --exit-at-end (every partition read up to its end, as kcat -e) ends it.

import type { Command } from 'commander';
import { Consumer, type StartPosition, UsageError } from '@sluice/client';
import { collect, intArg, withBootstrap, withClient, writeOut } from '../output/command.ts';
import { Progress, ratePerSecond } from '../output/progress.ts';
import { formatRecord, RECORD_FORMATS, type RecordFormat } from '../output/records.ts';

interface ConsumeOpts {
  bootstrapServer: string;
  topic: string;
  group?: string;
  partition?: string[];
  fromBeginning?: boolean;
  offset?: string;
  timestamp?: number;
  maxMessages?: number;
  timeoutMs?: number;
  exitAtEnd?: boolean;
  format: RecordFormat;
  keySeparator: string;
}

/** Where an assign-mode consumer starts, from the mutually exclusive options. */
export function startPosition(opts: { fromBeginning?: boolean; offset?: string; timestamp?: number }): StartPosition {
  const chosen = [
    opts.fromBeginning ? '--from-beginning' : null,
    opts.offset !== undefined ? '--offset' : null,
    opts.timestamp !== undefined ? '--timestamp' : null,
  ].filter((x) => x !== null);
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be combined`, 'pick one starting point');
  if (opts.fromBeginning) return { kind: 'earliest' };
  if (opts.timestamp !== undefined) return { kind: 'timestamp', timestamp: opts.timestamp };
  if (opts.offset === undefined || opts.offset === 'latest') return { kind: 'latest' };
  if (opts.offset === 'earliest') return { kind: 'earliest' };
  if (/^\d+$/.test(opts.offset) && Number.isSafeInteger(Number(opts.offset))) return { kind: 'offset', offset: Number(opts.offset) };
  throw new UsageError(`--offset ${JSON.stringify(opts.offset)} is not a non-negative integer, earliest or latest`);
}

export function registerConsume(program: Command): void {
  withBootstrap(program.command('consume').description('print records of a topic (like kafka-console-consumer.sh)'))
    .requiredOption('--topic <name>', 'topic to read')
    .option('--group <id>', 'consume as a member of this consumer group (offsets are committed)')
    .option('--partition <n>', 'read only this partition (repeatable; not with --group)', collect)
    .option('--from-beginning', 'start at the earliest offset (with --group: where nothing is committed)')
    .option('--offset <n>', 'start at this offset, or earliest/latest (needs --partition)')
    .option('--timestamp <ms>', 'start at the first record at or after this time (ms since the epoch)', intArg(0))
    .option('--max-messages <n>', 'exit after this many records', intArg(1))
    .option('--timeout-ms <ms>', 'exit when no record arrives for this long', intArg(1))
    .option('--exit-at-end', 'exit once every partition is read up to its end')
    .option('--format <format>', `output format: ${RECORD_FORMATS.join(', ')}`, 'value')
    .option('--key-separator <sep>', 'separator between key and value for --format key-value', '\t')
    .action(async (opts: ConsumeOpts) => {
      if (!RECORD_FORMATS.includes(opts.format)) throw new UsageError(`--format ${JSON.stringify(opts.format)} is not one of ${RECORD_FORMATS.join(', ')}`);
      const partitions = opts.partition?.map((p) => intArg(0, 0x7fffffff)(p));
      if (opts.group !== undefined) {
        if (partitions !== undefined) throw new UsageError('--partition cannot be used with --group', 'the group assigns partitions; drop one of them');
        if (opts.offset !== undefined || opts.timestamp !== undefined) {
          throw new UsageError(
            '--offset and --timestamp cannot be used with --group',
            'a group starts at its committed offsets; use `sluice groups reset-offsets` to move them',
          );
        }
      } else if (opts.offset !== undefined && partitions === undefined && opts.offset !== 'earliest' && opts.offset !== 'latest') {
        throw new UsageError('--offset needs --partition', 'name the partition the offset belongs to');
      }
      const start = startPosition(opts);
      const stdoutIsTerminal = process.stdout.isTTY === true;

      await withClient(opts, async (client) => {
        const consumer = await Consumer.create(client, {
          topic: opts.topic,
          groupId: opts.group,
          partitions,
          start,
          resetPolicy: opts.fromBeginning ? 'earliest' : 'latest',
          fetch: { maxWaitMs: Math.min(500, opts.timeoutMs ?? 500) },
          onNotice: (m) => {
            if (process.stderr.isTTY) process.stderr.write(`${m}\n`);
          },
        });
        let stopping = false;
        const stop = () => (stopping = true);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // A reader that goes away (`| head`) ends the run quietly, as for any Unix filter.
        const onStdoutError = (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE') stopping = true;
        };
        process.stdout.on('error', onStdoutError);

        let count = 0;
        const started = Date.now();
        // Progress only when records go elsewhere (a file, a pipe) and a person watches stderr.
        const progress = new Progress(stdoutIsTerminal ? { isTTY: false, write: () => true } : process.stderr, () => {
          return `${opts.topic}: ${count} records, ${Math.round(ratePerSecond(count, Date.now() - started))} records/s`;
        });
        progress.start();
        let failed = false;
        try {
          let lastRecordAt = Date.now();
          while (!stopping) {
            const records = await consumer.poll();
            let out = '';
            for (const r of records) {
              if (opts.maxMessages !== undefined && count >= opts.maxMessages) break;
              out += `${formatRecord(r, opts.format, opts.keySeparator)}\n`;
              consumer.markConsumed(r);
              count++;
            }
            if (out !== '') await writeOut(out);
            if (records.length > 0) lastRecordAt = Date.now();
            if (opts.maxMessages !== undefined && count >= opts.maxMessages) break;
            if (opts.exitAtEnd && consumer.atEnd) break;
            if (opts.timeoutMs !== undefined && Date.now() - lastRecordAt >= opts.timeoutMs) break;
          }
        } catch (err) {
          failed = true;
          throw err;
        } finally {
          progress.stop();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stdout.off('error', onStdoutError);
          // Commit and leave the group; when the run already failed, that failure is the one to report.
          await consumer.close().catch((err: unknown) => {
            if (!failed) throw err;
          });
        }
        if (process.stderr.isTTY) process.stderr.write(`Processed a total of ${count} messages\n`);
      });
    });
}
