// The group probe: consumer groups' state and size, and per group/partition the committed offset
// and the lag behind the high watermark, all read from the group coordinator at scrape time
// (listGroups, group, fetchOffsets: its public API) and the partitions' high watermarks.

import { Gauge, type Registry } from 'prom-client';
import type { GroupCoordinator } from '../groups/coordinator.ts';
import { GROUP_STATES } from '../groups/group.ts';
import type { TopicRegistry } from '../topics.ts';

export class GroupProbe {
  private readonly state: Gauge;
  private readonly members: Gauge;
  private readonly committed: Gauge;
  private readonly lag: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.state = new Gauge({
      name: 'sluice_group_state',
      help: 'Consumer group state: 1 for the state the group is in, 0 for the others.',
      labelNames: ['group', 'state'],
      registers,
    });
    this.members = new Gauge({ name: 'sluice_group_members', help: 'Members of the consumer group.', labelNames: ['group'], registers });
    this.committed = new Gauge({
      name: 'sluice_group_committed_offset',
      help: 'Offset the group last committed for the partition (the next record it will read).',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    });
    this.lag = new Gauge({
      name: 'sluice_group_lag',
      help: 'Records between the committed offset and the high watermark (high watermark - committed offset).',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    });
  }

  /** Scrape time: every group the coordinator knows; groups and partitions gone disappear. */
  refresh(groups: GroupCoordinator, topics: TopicRegistry): void {
    for (const g of [this.state, this.members, this.committed, this.lag]) g.reset();
    for (const listed of groups.listGroups()) {
      const group = listed.groupId;
      for (const state of GROUP_STATES) this.state.set({ group, state }, state === listed.groupState ? 1 : 0);
      this.members.set({ group }, groups.group(group)?.size ?? 0);
      const offsets = groups.fetchOffsets(group, null);
      for (const t of offsets.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0 || p.committedOffset < 0) continue;
          const labels = { group, topic: t.name, partition: p.partitionIndex };
          this.committed.set(labels, p.committedOffset);
          // As Kafka's consumer-groups tool: no clamp (a commit past the end shows as negative),
          // and a partition that no longer exists has no high watermark to lag behind.
          const partition = topics.partition(t.name, p.partitionIndex);
          if (partition !== undefined) this.lag.set(labels, partition.highWatermark - p.committedOffset);
        }
      }
    }
  }
}
