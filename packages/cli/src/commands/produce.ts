// `sluice produce --topic T`: one record per stdin line, like kafka-console-producer.sh. With
// --key-separator each line is "key<sep>value" (a line without the separator is an error, as
// with parse.key=true); --header k=v adds headers to every record. On a terminal (stderr) a
// progress line shows records, bytes and rates; piped runs print nothing but errors.

import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Compression } from '@sluice/protocol';
import { ClientError, Producer, UsageError } from '@sluice/client';
import { collect, intArg, parseKeyValues, withBootstrap, withClient } from '../output/command.ts';
import { formatBytes, Progress, ratePerSecond } from '../output/progress.ts';

const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const encoder = new TextEncoder();

interface ProduceOpts {
  bootstrapServer: string;
  topic: string;
  keySeparator?: string;
  header?: string[];
  compression: Compression;
  acks: string;
  partition?: number;
  lingerMs: number;
  batchSize: number;
  timeoutMs: number;
}

function parseAcks(value: string): -1 | 0 | 1 {
  switch (value) {
    case 'all':
    case '-1':
      return -1;
    case '0':
      return 0;
    case '1':
      return 1;
    default:
      throw new UsageError(`--acks ${JSON.stringify(value)} is not one of all, -1, 0, 1`);
  }
}

export function registerProduce(program: Command): void {
  withBootstrap(program.command('produce').description('send stdin lines as records to a topic (like kafka-console-producer.sh)'))
    .requiredOption('--topic <name>', 'topic to write to')
    .option('--key-separator <sep>', 'split each line into key and value at the first <sep>')
    .option('--header <key=value>', 'header added to every record (repeatable)', collect)
    .option('--compression <codec>', `batch compression: ${COMPRESSIONS.join(', ')}`, 'none')
    .option('--acks <acks>', 'all/-1 (every in-sync replica), 1 (leader), 0 (no answer)', 'all')
    .option('--partition <n>', 'write every record to this partition', intArg(0, 0x7fffffff))
    .option('--linger-ms <ms>', 'how long a batch waits for more records', intArg(0), 5)
    .option('--batch-size <bytes>', 'largest batch, in record bytes', intArg(1), 256 * 1024)
    .option('--timeout-ms <ms>', 'how long the broker may wait for acks', intArg(1), 30_000)
    .action(async (opts: ProduceOpts) => {
      if (!COMPRESSIONS.includes(opts.compression))
        throw new UsageError(`--compression ${JSON.stringify(opts.compression)} is not one of ${COMPRESSIONS.join(', ')}`);
      if (opts.keySeparator === '') throw new UsageError('--key-separator is empty', 'pass at least one character, e.g. --key-separator :');
      const acks = parseAcks(opts.acks);
      const headers = [...parseKeyValues('--header', opts.header)].map(([key, value]) => ({ key, value: encoder.encode(value) }));
      await withClient(opts, async (client) => {
        const producer = await Producer.create(client, opts.topic, {
          acks,
          compression: opts.compression,
          partition: opts.partition,
          lingerMs: opts.lingerMs,
          batchBytes: opts.batchSize,
          ackTimeoutMs: opts.timeoutMs,
        });
        const started = Date.now();
        const progress = new Progress(process.stderr, () => {
          const s = producer.stats;
          const elapsed = Date.now() - started;
          return (
            `${opts.topic}: ${s.recordsAcked} records acknowledged (${formatBytes(s.bytesAcked)}), ` +
            `${Math.round(ratePerSecond(s.recordsAcked, elapsed))} records/s, ${formatBytes(Math.round(ratePerSecond(s.bytesAcked, elapsed)))}/s`
          );
        });
        progress.start();
        try {
          const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
          let lineNumber = 0;
          let badLine = 0;
          for await (const line of lines) {
            lineNumber++;
            let key: Uint8Array | null = null;
            let value = line;
            if (opts.keySeparator !== undefined) {
              const at = line.indexOf(opts.keySeparator);
              if (at < 0) {
                badLine = lineNumber;
                break;
              }
              key = encoder.encode(line.slice(0, at));
              value = line.slice(at + opts.keySeparator.length);
            }
            await producer.send({ key, value: encoder.encode(value), headers });
          }
          // The lines before a bad one are sent, as the console producer would have sent them.
          await producer.flush();
          if (badLine > 0) {
            lines.close();
            throw new ClientError(
              `stdin line ${badLine} has no key separator ${JSON.stringify(opts.keySeparator)}`,
              'write lines as key<separator>value, or drop --key-separator',
            );
          }
        } finally {
          progress.stop();
        }
        if (progress.enabled) {
          const s = producer.stats;
          process.stderr.write(`${opts.topic}: ${s.recordsAcked} records (${formatBytes(s.bytesAcked)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        }
      });
    });
}
