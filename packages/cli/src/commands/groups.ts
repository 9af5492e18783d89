// `sluice groups list|describe|reset-offsets|delete`, like kafka-consumer-groups.sh.
// describe shows, per partition, the committed offset, the log end offset (the high watermark,
// via ListOffsets latest) and the lag between them, with the member that owns the partition.
// KIP-848 consumer groups (described with ConsumerGroupDescribe) also show, with --members, each
// member's epoch and target assignment, and with --state the group and assignment epochs. KIP-932
// share groups (ShareGroupDescribe) show their members with epochs, and per partition the
// share-partition start offset (DescribeShareGroupOffsets), the log end offset and the lag
// between them, as kafka-share-groups.sh does.
// reset-offsets is a dry run unless --execute, and only touches an inactive group, as Kafka's.

import { ErrorCode } from '@sluice/protocol';
import type { Command } from 'commander';
import {
  ClientError,
  commitOffsets,
  type CommittedOffset,
  deleteGroups,
  describeGroup,
  EARLIEST_TIMESTAMP,
  fetchCommittedOffsets,
  type GroupDescription,
  KafkaApiError,
  type KafkaClient,
  LATEST_TIMESTAMP,
  listGroups,
  listOffsets,
  shareGroupStartOffsets,
  tpKey,
  UsageError,
} from '@sluice/client';
import { collect, exactlyOne, intArg, withBootstrap, withClient, writeOut } from '../output/command.ts';
import { type OutputFormat, type TableSection, withOutput, writeTables } from '../output/format.ts';
import { type Cell, formatTable } from '../output/table.ts';

const { GROUP_ID_NOT_FOUND } = ErrorCode;

interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** A group that does not exist: Dead with nothing committed, or GROUP_ID_NOT_FOUND. */
function missingGroup(groupId: string): KafkaApiError {
  return new KafkaApiError('describe', `group ${JSON.stringify(groupId)}`, GROUP_ID_NOT_FOUND);
}

async function describeOrFail(client: KafkaClient, groupId: string): Promise<{ group: GroupDescription; committed: CommittedOffset[] }> {
  const group = await describeGroup(client, groupId);
  if (group.errorCode === GROUP_ID_NOT_FOUND) throw missingGroup(groupId);
  if (group.errorCode !== 0) throw new KafkaApiError('describe', `group ${JSON.stringify(groupId)}`, group.errorCode);
  const committed = (await fetchCommittedOffsets(client, groupId, null)).filter((c) => c.offset >= 0);
  if (group.state === 'Dead' && committed.length === 0) throw missingGroup(groupId);
  return { group, committed };
}

/** Log end offsets (high watermarks) for partitions, keyed by tpKey. */
async function logEndOffsets(client: KafkaClient, partitions: readonly TopicPartitionRef[]): Promise<Map<string, number>> {
  const answers = await listOffsets(
    client,
    partitions.map((p) => ({ ...p, timestamp: LATEST_TIMESTAMP })),
  );
  return new Map(answers.map((a) => [tpKey(a.topic, a.partition), a.errorCode === 0 ? a.offset : -1]));
}

function sortPartitions<T extends TopicPartitionRef>(list: T[]): T[] {
  return list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/** The rows of `describe` for a share group: each share-partition's start offset and lag. */
async function shareOffsetRows(client: KafkaClient, groupId: string): Promise<Cell[][]> {
  const starts = sortPartitions((await shareGroupStartOffsets(client, groupId)).map((s) => ({ ...s })));
  const ends = await logEndOffsets(client, starts);
  return starts.map((s) => {
    const end = ends.get(tpKey(s.topic, s.partition)) ?? -1;
    return [
      groupId,
      s.topic,
      s.partition,
      s.startOffset >= 0 ? s.startOffset : null,
      end >= 0 ? end : null,
      s.startOffset >= 0 && end >= 0 ? Math.max(0, end - s.startOffset) : null,
    ];
  });
}

/** The rows of `describe` (offsets view): one per partition committed or assigned. */
export async function offsetRows(client: KafkaClient, group: GroupDescription, committed: readonly CommittedOffset[]): Promise<Cell[][]> {
  const owner = new Map<string, { memberId: string; clientHost: string; clientId: string }>();
  for (const m of group.members) for (const tp of m.assignment) for (const p of tp.partitions) owner.set(tpKey(tp.topic, p), m);
  const partitions = new Map<string, TopicPartitionRef>();
  for (const c of committed) partitions.set(tpKey(c.topic, c.partition), { topic: c.topic, partition: c.partition });
  for (const m of group.members)
    for (const tp of m.assignment) for (const p of tp.partitions) partitions.set(tpKey(tp.topic, p), { topic: tp.topic, partition: p });
  const list = sortPartitions([...partitions.values()]);
  const ends = await logEndOffsets(client, list);
  const committedBy = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
  return list.map((p) => {
    const key = tpKey(p.topic, p.partition);
    const current = committedBy.get(key);
    const end = ends.get(key) ?? -1;
    const lag = current !== undefined && end >= 0 ? Math.max(0, end - current) : null;
    const m = owner.get(key);
    return [group.groupId, p.topic, p.partition, current ?? null, end >= 0 ? end : null, lag, m?.memberId ?? null, m?.clientHost ?? null, m?.clientId ?? null];
  });
}

/** "orders" or "orders:0,2" -> the topic and its partitions (null = all of them). */
export function parseTopicSpec(spec: string): { topic: string; partitions: number[] | null } {
  const colon = spec.indexOf(':');
  if (colon < 0) return { topic: spec, partitions: null };
  const topic = spec.slice(0, colon);
  const partitions = spec
    .slice(colon + 1)
    .split(',')
    .map((s) => {
      const n = /^\d+$/.test(s.trim()) ? Number(s) : NaN;
      if (!Number.isSafeInteger(n))
        throw new UsageError(`--topic ${JSON.stringify(spec)}: ${JSON.stringify(s)} is not a partition number`, 'write --topic name or --topic name:0,1,2');
      return n;
    });
  if (topic === '') throw new UsageError(`--topic ${JSON.stringify(spec)} has no topic name`);
  return { topic, partitions };
}

/** Parses --to-datetime: ISO 8601; without a zone it is local time, as in Kafka's tool. */
export function parseDateTime(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
    throw new UsageError(`--to-datetime ${JSON.stringify(value)} is not a date-time`, 'use YYYY-MM-DDTHH:mm:SS.sss, optionally with Z or ±hh:mm');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--to-datetime ${JSON.stringify(value)} is not a valid date-time`);
  return ms;
}

interface ResetOpts {
  bootstrapServer: string;
  group: string;
  topic?: string[];
  allTopics?: boolean;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: number;
  toDatetime?: string;
  shiftBy?: string;
  execute?: boolean;
  dryRun?: boolean;
}

/** The new offset of every selected partition, per the chosen --to-… option. */
async function planReset(client: KafkaClient, opts: ResetOpts, committed: readonly CommittedOffset[]): Promise<Array<TopicPartitionRef & { offset: number }>> {
  exactlyOne(opts as unknown as Record<string, unknown>, ['toEarliest', 'toLatest', 'toOffset', 'toDatetime', 'shiftBy'], 'reset-offsets');
  let targets: TopicPartitionRef[];
  if (opts.allTopics) {
    targets = committed.map((c) => ({ topic: c.topic, partition: c.partition }));
  } else {
    const specs = (opts.topic ?? []).map(parseTopicSpec);
    const md = await client.metadata([...new Set(specs.map((s) => s.topic))]);
    targets = [];
    for (const s of specs) {
      const t = md.topics.get(s.topic);
      if (t === undefined || t.errorCode !== 0)
        throw new KafkaApiError('reset offsets of', `topic ${JSON.stringify(s.topic)}`, t?.errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const all = t.partitions.map((p) => p.partition);
      for (const p of s.partitions ?? all) {
        if (!all.includes(p)) throw new ClientError(`topic ${JSON.stringify(s.topic)} has no partition ${p}`, 'pick partitions from `sluice topics describe`');
        targets.push({ topic: s.topic, partition: p });
      }
    }
  }
  targets = sortPartitions(targets);
  if (targets.length === 0) return [];
  const [earliest, latest] = await Promise.all(
    [EARLIEST_TIMESTAMP, LATEST_TIMESTAMP].map((timestamp) =>
      listOffsets(
        client,
        targets.map((t) => ({ ...t, timestamp })),
      ),
    ),
  );
  for (const a of [...earliest, ...latest]) if (a.errorCode !== 0) throw new KafkaApiError('list offsets of', `${a.topic}-${a.partition}`, a.errorCode);
  // Kafka clamps a requested offset into [log start, log end] rather than committing a hole.
  const clamp = (i: number, offset: number) => Math.min(Math.max(offset, earliest[i].offset), latest[i].offset);
  if (opts.toEarliest) return targets.map((t, i) => ({ ...t, offset: earliest[i].offset }));
  if (opts.toLatest) return targets.map((t, i) => ({ ...t, offset: latest[i].offset }));
  if (opts.toOffset !== undefined) return targets.map((t, i) => ({ ...t, offset: clamp(i, opts.toOffset!) }));
  if (opts.shiftBy !== undefined) {
    const shift = Number(opts.shiftBy);
    if (!/^-?\d+$/.test(opts.shiftBy) || !Number.isSafeInteger(shift)) throw new UsageError(`--shift-by ${JSON.stringify(opts.shiftBy)} is not an integer`);
    const current = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
    return targets.map((t, i) => {
      const from = current.get(tpKey(t.topic, t.partition));
      if (from === undefined)
        throw new ClientError(
          `group ${JSON.stringify(opts.group)} has no committed offset for ${t.topic}-${t.partition} to shift`,
          'use --to-earliest, --to-latest or --to-offset for it',
        );
      return { ...t, offset: clamp(i, from + shift) };
    });
  }
  const time = parseDateTime(opts.toDatetime!);
  const byTime = await listOffsets(
    client,
    targets.map((t) => ({ ...t, timestamp: time })),
  );
  // No record at or after the time: the end of the partition, as Kafka's tool does.
  return targets.map((t, i) => ({ ...t, offset: byTime[i].errorCode === 0 && byTime[i].offset >= 0 ? byTime[i].offset : latest[i].offset }));
}

export function registerGroups(program: Command): void {
  const groups = program.command('groups').description('list, describe, reset offsets of and delete consumer groups (like kafka-consumer-groups.sh)');

  withOutput(withBootstrap(groups.command('list').description('print every group id, one per line')))
    .option('--state', "print a table with each group's protocol type and state (json: always)")
    .action(async (opts: { bootstrapServer: string; state?: boolean; output: OutputFormat }) => {
      await withClient(opts, async (client) => {
        const list = await listGroups(client);
        if (!opts.state && opts.output === 'table') return writeOut(list.map((g) => `${g.groupId}\n`).join(''));
        return writeTables(opts.output, [
          { headers: ['GROUP', 'PROTOCOL-TYPE', 'STATE'], rows: list.map((g) => [g.groupId, g.protocolType, g.state || null]) },
        ]);
      });
    });

  withOutput(withBootstrap(groups.command('describe').description('offsets and lag per partition (or --members / --state) of groups')))
    .option('--group <id>', 'group to describe (repeatable)', collect)
    .option('--all-groups', 'describe every group')
    .option('--members', 'show the members and their assignments instead of offsets')
    .option('--state', 'show the group state, coordinator and assignor instead of offsets')
    .action(async (opts: { bootstrapServer: string; group?: string[]; allGroups?: boolean; members?: boolean; state?: boolean; output: OutputFormat }) => {
      exactlyOne(opts as Record<string, unknown>, ['group', 'allGroups'], 'groups describe');
      if (opts.members && opts.state) throw new UsageError('--members and --state cannot be combined');
      await withClient(opts, async (client) => {
        const ids = opts.allGroups ? (await listGroups(client)).map((g) => g.groupId) : opts.group!;
        const sections: TableSection[] = [];
        for (const id of ids) {
          const { group, committed } = await describeOrFail(client, id);
          const assignmentText = (a: readonly { topic: string; partitions: readonly number[] }[]) =>
            a.map((tp) => `${tp.topic}(${tp.partitions.join(',')})`).join(' ') || null;
          if (opts.state && (group.groupType === 'consumer' || group.groupType === 'share')) {
            sections.push({
              headers: ['GROUP', 'ASSIGNMENT-STRATEGY', 'STATE', 'GROUP-EPOCH', 'TARGET-ASSIGNMENT-EPOCH', '#MEMBERS'],
              rows: [[group.groupId, group.protocol || null, group.state, group.groupEpoch ?? null, group.assignmentEpoch ?? null, group.members.length]],
            });
          } else if (opts.state) {
            sections.push({
              headers: ['GROUP', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'],
              rows: [[group.groupId, group.protocol || null, group.state, group.members.length]],
            });
          } else if (opts.members && group.groupType === 'consumer') {
            sections.push({
              headers: ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'EPOCH', 'ASSIGNMENT', 'TARGET-ASSIGNMENT'],
              rows: group.members.map((m) => [
                group.groupId,
                m.memberId,
                m.clientHost,
                m.clientId,
                m.assignment.reduce((n, tp) => n + tp.partitions.length, 0),
                m.memberEpoch ?? null,
                assignmentText(m.assignment),
                assignmentText(m.targetAssignment ?? []),
              ]),
            });
          } else if (opts.members && group.groupType === 'share') {
            sections.push({
              headers: ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'EPOCH', 'ASSIGNMENT'],
              rows: group.members.map((m) => [
                group.groupId,
                m.memberId,
                m.clientHost,
                m.clientId,
                m.assignment.reduce((n, tp) => n + tp.partitions.length, 0),
                m.memberEpoch ?? null,
                assignmentText(m.assignment),
              ]),
            });
          } else if (group.groupType === 'share') {
            sections.push({
              headers: ['GROUP', 'TOPIC', 'PARTITION', 'START-OFFSET', 'LOG-END-OFFSET', 'LAG'],
              rows: await shareOffsetRows(client, group.groupId),
            });
          } else if (opts.members) {
            sections.push({
              headers: ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
              rows: group.members.map((m) => [
                group.groupId,
                m.memberId,
                m.clientHost,
                m.clientId,
                m.assignment.reduce((n, tp) => n + tp.partitions.length, 0),
                m.assignment.map((tp) => `${tp.topic}(${tp.partitions.join(',')})`).join(' ') || null,
              ]),
            });
          } else {
            if (group.members.length === 0) process.stderr.write(`Consumer group '${group.groupId}' has no active members.\n`);
            sections.push({
              headers: ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
              rows: await offsetRows(client, group, committed),
            });
          }
        }
        // Tables of several groups are separated by a blank line, as kafka-consumer-groups.sh does.
        await writeTables(opts.output, sections);
      });
    });

  withBootstrap(groups.command('reset-offsets').description("move a group's committed offsets (dry run unless --execute)"))
    .requiredOption('--group <id>', 'group whose offsets to reset')
    .option('--topic <topic[:p,…]>', 'topic, optionally with partitions (repeatable)', collect)
    .option('--all-topics', 'every topic the group has committed offsets for')
    .option('--to-earliest', "to each partition's earliest offset")
    .option('--to-latest', "to each partition's log end offset")
    .option('--to-offset <n>', "to this offset (clamped to the partition's range)", intArg(0))
    .option('--to-datetime <YYYY-MM-DDTHH:mm:SS.sss>', 'to the first offset at or after this time')
    .option('--shift-by <n>', 'by n (negative moves back) from the committed offset')
    .option('--dry-run', 'only print the new offsets (the default)')
    .option('--execute', 'commit the new offsets')
    .action(async (opts: ResetOpts) => {
      exactlyOne(opts as unknown as Record<string, unknown>, ['topic', 'allTopics'], 'reset-offsets');
      if (opts.execute && opts.dryRun) throw new UsageError('--execute and --dry-run cannot be combined');
      await withClient(opts, async (client) => {
        const group = await describeGroup(client, opts.group);
        if (group.errorCode !== 0 && group.errorCode !== GROUP_ID_NOT_FOUND)
          throw new KafkaApiError('describe', `group ${JSON.stringify(opts.group)}`, group.errorCode);
        // Kafka's rule: members would overwrite the reset with their own commits.
        if (group.errorCode === 0 && group.state !== 'Empty' && group.state !== 'Dead') {
          throw new ClientError(
            `offsets of group ${JSON.stringify(opts.group)} can only be reset while it is inactive, but it is ${group.state}`,
            'stop its consumers first',
          );
        }
        const committed = (await fetchCommittedOffsets(client, opts.group, null)).filter((c) => c.offset >= 0);
        const plan = await planReset(client, opts, committed);
        if (opts.execute) await commitOffsets(client, opts.group, plan);
        else if (!opts.dryRun) process.stderr.write('Dry run: nothing committed; pass --execute to commit these offsets.\n');
        await writeOut(
          formatTable(
            ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
            plan.map((p) => [opts.group, p.topic, p.partition, p.offset]),
          ),
        );
      });
    });

  withBootstrap(groups.command('delete').description('delete groups and their committed offsets (only groups with no members)'))
    .requiredOption('--group <id>', 'group to delete (repeatable)', collect)
    .action(async (opts: { bootstrapServer: string; group: string[] }) => {
      await withClient(opts, async (client) => {
        const results = await deleteGroups(client, opts.group);
        let out = '';
        for (const r of results) {
          if (r.errorCode !== 0) throw new KafkaApiError('delete', `group ${JSON.stringify(r.groupId)}`, r.errorCode);
          out += `Deleted group ${r.groupId}.\n`;
        }
        await writeOut(out);
      });
    });
}
