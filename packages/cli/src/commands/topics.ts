// `sluice topics list|describe|create|delete|alter`, like kafka-topics.sh (and kafka-configs.sh
// for topic configs). Output follows kafka-topics.sh: `list` prints one name per line;
// `describe` prints a summary line per topic and a tab-separated line per partition.

import { ErrorCode } from '@sluice/protocol';
import type { Command } from 'commander';
import {
  alterTopicConfigs,
  checkError,
  CONFIG_SOURCE_DYNAMIC_TOPIC,
  type ConfigChange,
  ConfigResourceType,
  createPartitions,
  createTopics,
  deleteTopics,
  describeConfigs,
  KafkaApiError,
  type TopicInfo,
  UsageError,
} from '@sluice/client';
import { collect, intArg, parseKeyValues, withBootstrap, withClient, writeOut } from '../output/command.ts';
import { type OutputFormat, withOutput, writeJson } from '../output/format.ts';

const { TOPIC_ALREADY_EXISTS, UNKNOWN_TOPIC_OR_PARTITION } = ErrorCode;

interface BaseOpts {
  bootstrapServer: string;
  timeoutMs: number;
}

/** Kafka prints topic ids as URL-safe base64 without padding (its Uuid.toString). */
export function kafkaUuidString(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

function describeTopic(t: TopicInfo, configs: string): string {
  const rf = t.partitions[0]?.replicas.length ?? 0;
  const lines = [
    `Topic: ${t.name}\tTopicId: ${kafkaUuidString(t.topicId)}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${configs}`,
  ];
  for (const p of t.partitions) {
    const leader = p.leaderId < 0 ? 'none' : String(p.leaderId);
    let line = `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`;
    if (p.offline.length > 0) line += `\tOffline: ${p.offline.join(',')}`;
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

/** `topics describe --output json`: one object per topic; sensitive config values are null. */
function topicJson(t: TopicInfo, configs: ReadonlyArray<[string, string | null]>) {
  return {
    name: t.name,
    topicId: kafkaUuidString(t.topicId),
    internal: t.isInternal,
    partitionCount: t.partitions.length,
    replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    configs: Object.fromEntries(configs),
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leaderId < 0 ? null : p.leaderId,
      replicas: p.replicas,
      isr: p.isr,
      offline: p.offline,
    })),
  };
}

function topicOption(cmd: Command, required: boolean): Command {
  const flags = '--topic <name>';
  return required ? cmd.requiredOption(flags, 'topic name') : cmd.option(flags, 'topic name (repeatable; default: all topics)', collect);
}

function timeoutOption(cmd: Command): Command {
  return cmd.option('--timeout-ms <ms>', 'how long the broker may take', intArg(1), 30_000);
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('list, describe, create, delete and alter topics (like kafka-topics.sh)');

  withOutput(withBootstrap(topics.command('list').description('print every topic name, one per line (json: an array of names)')))
    .option('--exclude-internal', 'leave out internal topics (e.g. __consumer_offsets)')
    .action(async (opts: { bootstrapServer: string; excludeInternal?: boolean; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const md = await client.metadata(null);
        const names = [...md.topics.values()]
          .filter((t) => !(opts.excludeInternal && t.isInternal))
          .map((t) => t.name)
          .sort();
        await (opts.output === 'json' ? writeJson(names) : writeOut(names.map((n) => `${n}\n`).join('')));
      });
    });

  topicOption(withOutput(withBootstrap(topics.command('describe').description('partitions, leaders, replicas and config overrides of topics'))), false)
    .option('--exclude-internal', 'leave out internal topics when describing all')
    .action(async (opts: { bootstrapServer: string; topic?: string[]; excludeInternal?: boolean; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const md = await client.metadata(opts.topic ?? null);
        let list = [...md.topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
        if (opts.topic === undefined && opts.excludeInternal) list = list.filter((t) => !t.isInternal);
        for (const t of list) checkError('describe', `topic ${JSON.stringify(t.name)}`, t.errorCode);
        for (const name of opts.topic ?? [])
          if (!md.topics.has(name)) throw new KafkaApiError('describe', `topic ${JSON.stringify(name)}`, UNKNOWN_TOPIC_OR_PARTITION);
        const configs = await describeConfigs(
          client,
          list.map((t) => ({ type: ConfigResourceType.TOPIC, name: t.name })),
        );
        const overrides = new Map<string, Array<[string, string | null]>>();
        for (const r of configs) {
          checkError('describe configs of', `topic ${JSON.stringify(r.resourceName)}`, r.errorCode, r.errorMessage);
          const dynamic = r.configs.filter((c) => c.source === CONFIG_SOURCE_DYNAMIC_TOPIC);
          overrides.set(
            r.resourceName,
            dynamic.map((c) => [c.name, c.isSensitive ? null : c.value]),
          );
        }
        if (opts.output === 'json') {
          await writeJson(list.map((t) => topicJson(t, overrides.get(t.name) ?? [])));
          return;
        }
        const configText = (name: string) => (overrides.get(name) ?? []).map(([k, v]) => `${k}=${v ?? '(sensitive)'}`).join(',');
        await writeOut(list.map((t) => describeTopic(t, configText(t.name))).join(''));
      });
    });

  timeoutOption(topicOption(withBootstrap(topics.command('create').description('create a topic')), true))
    .option('--partitions <n>', "partition count (default: the broker's num.partitions)", intArg(1, 0x7fffffff))
    .option('--replication-factor <n>', "replica count (default: the broker's default.replication.factor)", intArg(1, 0x7fff))
    .option('--config <key=value>', 'topic config override (repeatable)', collect)
    .option('--if-not-exists', 'succeed quietly when the topic already exists')
    .option('--validate-only', 'ask the broker to check the request without creating anything')
    .action(
      async (
        opts: BaseOpts & { topic: string; partitions?: number; replicationFactor?: number; config?: string[]; ifNotExists?: boolean; validateOnly?: boolean },
      ) => {
        const configs = parseKeyValues('--config', opts.config);
        await withClient(opts, async (client) => {
          const [result] = await createTopics(
            client,
            [{ name: opts.topic, partitions: opts.partitions ?? -1, replicationFactor: opts.replicationFactor ?? -1, configs }],
            { timeoutMs: opts.timeoutMs, validateOnly: opts.validateOnly },
          );
          if (result.errorCode === TOPIC_ALREADY_EXISTS && opts.ifNotExists) return;
          checkError('create', `topic ${JSON.stringify(opts.topic)}`, result.errorCode, result.errorMessage);
          await writeOut(opts.validateOnly ? `Topic ${opts.topic} would be created.\n` : `Created topic ${opts.topic}.\n`);
        });
      },
    );

  timeoutOption(topicOption(withBootstrap(topics.command('delete').description('delete a topic and its data')), true))
    .option('--if-exists', 'succeed quietly when the topic does not exist')
    .action(async (opts: BaseOpts & { topic: string; ifExists?: boolean }) => {
      await withClient(opts, async (client) => {
        const [result] = await deleteTopics(client, [opts.topic], { timeoutMs: opts.timeoutMs });
        if (result.errorCode === UNKNOWN_TOPIC_OR_PARTITION && opts.ifExists) return;
        checkError('delete', `topic ${JSON.stringify(opts.topic)}`, result.errorCode, result.errorMessage);
        await writeOut(`Deleted topic ${opts.topic}.\n`);
      });
    });

  timeoutOption(topicOption(withBootstrap(topics.command('alter').description('add partitions, or set/delete topic config overrides')), true))
    .option('--partitions <n>', 'new total partition count (can only grow)', intArg(1, 0x7fffffff))
    .option('--replication-factor <n>', 'not supported: changing it needs a partition reassignment', intArg(1, 0x7fff))
    .option('--config <key=value>', 'set a topic config override (repeatable)', collect)
    .option('--delete-config <key>', 'remove a topic config override (repeatable)', collect)
    .action(async (opts: BaseOpts & { topic: string; partitions?: number; replicationFactor?: number; config?: string[]; deleteConfig?: string[] }) => {
      if (opts.replicationFactor !== undefined) {
        throw new UsageError(
          '--replication-factor cannot be altered',
          "changing a topic's replication factor needs a partition reassignment, which Kafka does with kafka-reassign-partitions.sh",
        );
      }
      const set = parseKeyValues('--config', opts.config);
      const changes: ConfigChange[] = [...set].map(([name, value]) => ({ op: 'set' as const, name, value }));
      for (const name of opts.deleteConfig ?? []) {
        if (set.has(name)) throw new UsageError(`config ${JSON.stringify(name)} is both set and deleted`, 'pass it to --config or --delete-config, not both');
        changes.push({ op: 'delete', name });
      }
      if (opts.partitions === undefined && changes.length === 0) {
        throw new UsageError('nothing to alter', 'pass --partitions, --config or --delete-config');
      }
      await withClient(opts, async (client) => {
        const info = await client.topic(opts.topic, { waitMs: 0 });
        const done: string[] = [];
        if (opts.partitions !== undefined) {
          if (opts.partitions < info.partitions.length) {
            throw new UsageError(
              `topic ${JSON.stringify(opts.topic)} has ${info.partitions.length} partitions; the count can only grow`,
              'pass a larger --partitions',
            );
          }
          if (opts.partitions > info.partitions.length) {
            const [r] = await createPartitions(client, [{ name: opts.topic, count: opts.partitions }], { timeoutMs: opts.timeoutMs });
            checkError('add partitions to', `topic ${JSON.stringify(opts.topic)}`, r.errorCode, r.errorMessage);
            done.push(`partitions: ${info.partitions.length} -> ${opts.partitions}`);
          }
        }
        if (changes.length > 0) {
          await alterTopicConfigs(client, opts.topic, changes);
          done.push(...changes.map((c) => (c.op === 'set' ? `set ${c.name}=${c.value}` : `deleted ${c.name}`)));
        }
        await writeOut(done.length === 0 ? `Topic ${opts.topic} unchanged.\n` : `Altered topic ${opts.topic}: ${done.join(', ')}.\n`);
      });
    });
}
