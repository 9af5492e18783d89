// The group probe: consumer groups' state and size, and per group/partition the committed offset
// and the lag behind the high watermark, all read from the group coordinator at scrape time
// (listGroups, group, fetchOffsets: its public API) and the partitions' high watermarks.

import type { Registry } from 'prom-client';
import type { GroupCoordinator } from '../groups/coordinator.ts';
import { GROUP_STATES } from '../groups/group.ts';
import type { TopicRegistry } from '../topics.ts';
import { GaugeFamily } from './families.ts';

export class GroupProbe {
  private readonly state: GaugeFamily;
  private readonly members: GaugeFamily;
  private readonly committed: GaugeFamily;
  private readonly lag: GaugeFamily;

  constructor(registry: Registry) {
    this.state = new GaugeFamily(registry, {
      name: 'sluice_group_state',
      help: 'Consumer group state: 1 for the state the group is in, 0 for the others.',
      labelNames: ['group', 'state'],
    });
    this.members = new GaugeFamily(registry, { name: 'sluice_group_members', help: 'Members of the consumer group.', labelNames: ['group'] });
    this.committed = new GaugeFamily(registry, {
      name: 'sluice_group_committed_offset',
      help: 'Offset the group last committed for the partition (the next record it will read).',
      labelNames: ['group', 'topic', 'partition'],
    });
    this.lag = new GaugeFamily(registry, {
      name: 'sluice_group_lag',
      help: 'Records between the committed offset and the high watermark (high watermark - committed offset).',
      labelNames: ['group', 'topic', 'partition'],
    });
  }

  /** Scrape time: every group the coordinator knows; groups and partitions gone disappear. */
  refresh(groups: GroupCoordinator, topics: TopicRegistry): void {
    const families = [this.state, this.members, this.committed, this.lag];
    for (const f of families) f.beginRefresh();
    for (const listed of groups.listGroups()) {
      const group = listed.groupId;
      for (const state of GROUP_STATES) this.state.set(state === listed.groupState ? 1 : 0, group, state);
      this.members.set(groups.group(group)?.size ?? 0, group);
      for (const t of groups.fetchOffsets(group, null).topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0 || p.committedOffset < 0) continue;
          const index = String(p.partitionIndex);
          this.committed.set(p.committedOffset, group, t.name, index);
          // As Kafka's consumer-groups tool: no clamp (a commit past the end shows as negative),
          // and a partition that no longer exists has no high watermark to lag behind.
          const partition = topics.partition(t.name, p.partitionIndex);
          if (partition !== undefined) this.lag.set(partition.highWatermark - p.committedOffset, group, t.name, index);
        }
      }
    }
    for (const f of families) f.endRefresh();
  }
}
