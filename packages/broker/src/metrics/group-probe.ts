// The group probe: consumer groups' state and size, and per group/partition the committed offset
// and the lag behind the high watermark, all read from the group coordinator at scrape time
// (listGroups, groupSize, fetchOffsets: its public API) and the partitions' high watermarks;
// groups counted by type and state, and KIP-848 consumer groups' epoch bumps (their
// rebalances), fenced members and reconciliation time, from the coordinator's counters.

import type { Registry } from 'prom-client';
import type { GroupCoordinator } from '../groups/coordinator.ts';
import { CONSUMER_GROUP_STATES } from '../groups/consumer-group.ts';
import { GROUP_STATES } from '../groups/group.ts';
import type { TopicRegistry } from '../topics.ts';
import { type CounterChild, CounterFamily, GaugeFamily } from './families.ts';

export class GroupProbe {
  private readonly state: GaugeFamily;
  private readonly members: GaugeFamily;
  private readonly committed: GaugeFamily;
  private readonly lag: GaugeFamily;
  private readonly groupsByState: GaugeFamily;
  private readonly epochBumps: CounterChild;
  private readonly fenced: CounterChild;
  private readonly reconciliationSum: CounterChild;
  private readonly reconciliations: CounterChild;

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
    this.groupsByState = new GaugeFamily(registry, {
      name: 'sluice_groups',
      help: 'Groups by type (classic, consumer) and state.',
      labelNames: ['type', 'state'],
    });
    const counter = (name: string, help: string) => new CounterFamily(registry, { name, help, labelNames: [] }).child();
    this.epochBumps = counter(
      'sluice_consumer_group_epoch_bumps_total',
      'KIP-848 consumer group epoch bumps (members joining or leaving, subscription or topic changes): their rebalances.',
    );
    this.fenced = counter(
      'sluice_consumer_group_fenced_members_total',
      'KIP-848 consumer group members fenced: session timed out, or partitions not revoked within the rebalance timeout.',
    );
    this.reconciliationSum = counter(
      'sluice_consumer_group_reconciliation_seconds_total',
      'Total time KIP-848 consumer groups took from an epoch bump to Stable.',
    );
    this.reconciliations = counter('sluice_consumer_group_reconciliations_total', 'KIP-848 consumer group reconciliations completed (epoch bump to Stable).');
  }

  /** Scrape time: every group the coordinator knows; groups and partitions gone disappear. */
  refresh(groups: GroupCoordinator, topics: TopicRegistry): void {
    const families = [this.state, this.members, this.committed, this.lag, this.groupsByState];
    for (const f of families) f.beginRefresh();
    for (const [state, count] of Object.entries(groups.stateCounts())) this.groupsByState.set(count, 'classic', state);
    for (const [state, count] of Object.entries(groups.consumerStateCounts())) this.groupsByState.set(count, 'consumer', state);
    const stats = groups.consumerStats();
    this.epochBumps.value = stats.epochBumps;
    this.fenced.value = stats.fencedMembers;
    this.reconciliationSum.value = stats.reconciliationMsSum / 1000;
    this.reconciliations.value = stats.reconciliationCount;
    for (const listed of groups.listGroups()) {
      const group = listed.groupId;
      const states: readonly string[] = listed.groupType === 'consumer' ? CONSUMER_GROUP_STATES : GROUP_STATES;
      for (const state of states) this.state.set(state === listed.groupState ? 1 : 0, group, state);
      this.members.set(groups.groupSize(group), group);
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
