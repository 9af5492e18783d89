// The share-group probe (KIP-932): read from the share coordinator at scrape time, per share
// group — members, records in flight and held now, and the totals of acquisitions,
// redeliveries, archived records and lock expiries (since the broker started: the share
// coordinator counts them per share-partition, in memory).

import type { Registry } from 'prom-client';
import type { ShareGroupStats } from '../share/share-coordinator.ts';
import { CounterFamily, GaugeFamily } from './families.ts';

/** What a scrape reads of the share coordinator. */
export interface ShareStatsSource {
  stats(): ShareGroupStats[];
}

export class ShareProbe {
  private readonly members: GaugeFamily;
  private readonly inFlight: GaugeFamily;
  private readonly acquiredNow: GaugeFamily;
  private readonly events: CounterFamily;

  constructor(registry: Registry) {
    this.members = new GaugeFamily(registry, { name: 'sluice_share_group_members', help: 'Members of each share group.', labelNames: ['group'] });
    this.inFlight = new GaugeFamily(registry, {
      name: 'sluice_share_group_records_in_flight',
      help: "Records between the share-partitions' start and end offsets (not yet acknowledged or archived), per share group.",
      labelNames: ['group'],
    });
    this.acquiredNow = new GaugeFamily(registry, {
      name: 'sluice_share_group_records_acquired',
      help: 'Records acquired by members now (under an acquisition lock), per share group.',
      labelNames: ['group'],
    });
    this.events = new CounterFamily(registry, {
      name: 'sluice_share_group_record_events_total',
      help: 'Record acquisitions, redeliveries, archivings and acquisition-lock expiries, per share group.',
      labelNames: ['group', 'event'],
    });
  }

  refresh(source: ShareStatsSource | null): void {
    const stats = source?.stats() ?? [];
    for (const family of [this.members, this.inFlight, this.acquiredNow]) family.beginRefresh();
    for (const g of stats) {
      this.members.set(g.members, g.groupId);
      this.inFlight.set(g.inFlight, g.groupId);
      this.acquiredNow.set(g.acquiredNow, g.groupId);
      this.events.child(g.groupId, 'acquired').set(g.acquired);
      this.events.child(g.groupId, 'redelivered').set(g.redelivered);
      this.events.child(g.groupId, 'archived').set(g.archived);
      this.events.child(g.groupId, 'lock_expired').set(g.lockExpired);
    }
    for (const family of [this.members, this.inFlight, this.acquiredNow]) family.endRefresh();
  }
}
