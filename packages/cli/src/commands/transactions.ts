// `sluice transactions list|describe|describe-producers`, like kafka-transactions.sh: list asks
// every broker's coordinator (ListTransactions), describe asks the transactional id's coordinator
// (DescribeTransactions), describe-producers asks a partition's leader (DescribeProducers) —
// which producers hold a transaction open there, and from which offset (what holds the last
// stable offset back).

import { describeProducers, describeTransaction, listTransactions, type TransactionDescription } from '@sluice/client';
import type { Command } from 'commander';
import { collect, intArg, withBootstrap, withClient } from '../output/command.ts';
import { type OutputFormat, withOutput, writeTables } from '../output/format.ts';
import type { Cell } from '../output/table.ts';

/** The row kafka-transactions.sh describe prints (duration from the start time to `now`). */
export function describeRow(coordinatorId: number, t: TransactionDescription, now: number): Cell[] {
  const open = t.startTimeMs >= 0;
  return [
    coordinatorId,
    t.transactionalId,
    t.producerId,
    t.producerEpoch,
    t.state,
    t.timeoutMs,
    open ? t.startTimeMs : null,
    open ? Math.max(0, now - t.startTimeMs) : null,
    t.partitions.map((p) => `${p.topic}-${p.partition}`).join(',') || null,
  ];
}

export function registerTransactions(program: Command): void {
  const transactions = program
    .command('transactions')
    .description('list and describe transactions and the producers holding them (like kafka-transactions.sh)');

  withOutput(withBootstrap(transactions.command('list').description('every transactional id the coordinators know')))
    .option('--state <state>', 'only this state, e.g. Ongoing (repeatable)', collect)
    .option('--producer-id <id>', 'only this producer id (repeatable)', collect)
    .option('--duration-ms <ms>', 'only transactions running longer than this', intArg(0))
    .option('--pattern <regex>', 'only transactional ids this regular expression matches whole')
    .action(async (opts: { bootstrapServer: string; state?: string[]; producerId?: string[]; durationMs?: number; pattern?: string; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const producerIds = (opts.producerId ?? []).map((v) => intArg(0)(v));
        const list = await listTransactions(client, { states: opts.state, producerIds, durationMs: opts.durationMs ?? -1, pattern: opts.pattern ?? null });
        await writeTables(opts.output, [
          {
            headers: ['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'],
            rows: list.map((t) => [t.transactionalId, t.coordinatorId, t.producerId, t.state]),
          },
        ]);
      });
    });

  withOutput(withBootstrap(transactions.command('describe').description('state, producer, timeout and partitions of a transactional id')))
    .requiredOption('--transactional-id <id>', 'the transactional id')
    .action(async (opts: { bootstrapServer: string; transactionalId: string; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const t = await describeTransaction(client, opts.transactionalId);
        // The broker that lists the id is its coordinator (the pattern narrows the answer where ListTransactions v2 is served).
        const listed = await listTransactions(client, { pattern: escapeRegExp(opts.transactionalId) });
        const coordinatorId = listed.find((l) => l.transactionalId === opts.transactionalId)?.coordinatorId ?? -1;
        await writeTables(opts.output, [
          {
            headers: [
              'CoordinatorId',
              'TransactionalId',
              'ProducerId',
              'ProducerEpoch',
              'TransactionState',
              'TransactionTimeoutMs',
              'CurrentTransactionStartTimeMs',
              'TransactionDurationMs',
              'TopicPartitions',
            ],
            rows: [describeRow(coordinatorId, t, Date.now())],
          },
        ]);
      });
    });

  withOutput(
    withBootstrap(transactions.command('describe-producers').description('producers with state in a partition (open transactions and their first offset)')),
  )
    .requiredOption('--topic <topic>', 'the topic')
    .requiredOption('--partition <p>', 'the partition', intArg(0))
    .action(async (opts: { bootstrapServer: string; topic: string; partition: number; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const producers = await describeProducers(client, opts.topic, opts.partition);
        await writeTables(opts.output, [
          {
            headers: ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'],
            rows: producers.map((p) => [
              p.producerId,
              p.producerEpoch,
              p.coordinatorEpoch,
              p.lastSequence,
              p.lastTimestamp,
              p.currentTransactionStartOffset >= 0 ? p.currentTransactionStartOffset : null,
            ]),
          },
        ]);
      });
    });
}

/** A transactional id as a regular expression matching only itself. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
