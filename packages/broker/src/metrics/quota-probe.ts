// The quota probe: per quota type and client (the user / client-id tags of the quota level that
// applies, as Kafka's per-client quota metrics), the measured rate, the quota, and the throttles
// applied — read from the quota managers at scrape time. Series exist only for clients measured
// since quotas of that type were set (nothing is measured without a quota) and go away with their
// sensor after an hour without requests. Also the replication throttles (Kafka's LeaderReplication
// and FollowerReplication byte rates): bytes of throttled replicas and partitions held back, per side.

import type { Registry } from 'prom-client';
import type { QuotaSensorInfo } from '../quotas/client-quota-manager.ts';
import type { ReplicationQuotas } from '../quotas/replication-quota.ts';
import { CounterFamily, GaugeFamily } from './families.ts';

export interface QuotaSensors {
  sensorInfos(): QuotaSensorInfo[];
}

export class QuotaProbe {
  private readonly rate: GaugeFamily;
  private readonly limit: GaugeFamily;
  private readonly throttleTime: CounterFamily;
  private readonly throttled: CounterFamily;
  private readonly replicationBytes: CounterFamily;
  private readonly replicationHeldBack: CounterFamily;
  private readonly replicationRate: GaugeFamily;

  constructor(registry: Registry) {
    const labelNames = ['quota_type', 'user', 'client_id'];
    this.rate = new GaugeFamily(registry, {
      name: 'sluice_quota_rate',
      help: 'Measured rate per client quota entity: bytes/s (produce, fetch), percent of a thread (request), tokens left (controller_mutation).',
      labelNames,
    });
    this.limit = new GaugeFamily(registry, { name: 'sluice_quota_limit', help: 'The quota that applies to the client quota entity.', labelNames });
    this.throttleTime = new CounterFamily(registry, {
      name: 'sluice_quota_throttle_time_ms_total',
      help: 'Milliseconds clients of the quota entity were throttled (their connection muted).',
      labelNames,
    });
    this.throttled = new CounterFamily(registry, {
      name: 'sluice_quota_throttled_requests_total',
      help: 'Responses that carried a throttle time, per quota entity.',
      labelNames,
    });
    const side = ['side'];
    this.replicationBytes = new CounterFamily(registry, {
      name: 'sluice_replication_throttled_bytes_total',
      help: 'Record bytes of throttled replicas: sent to followers (side=leader) or fetched from leaders (side=follower).',
      labelNames: side,
    });
    this.replicationHeldBack = new CounterFamily(registry, {
      name: 'sluice_replication_throttled_partitions_held_back_total',
      help: 'Times a throttled partition was left out of a replica fetch because its side exceeded its replication throttled rate.',
      labelNames: side,
    });
    this.replicationRate = new GaugeFamily(registry, {
      name: 'sluice_replication_throttled_rate_bytes',
      help: "Measured byte rate of throttled replicas per side, against leader/follower.replication.throttled.rate (Kafka's window arithmetic).",
      labelNames: side,
    });
  }

  refresh(sensors: QuotaSensors | null, replication: ReplicationQuotas | null = null): void {
    if (replication !== null) {
      const now = Date.now();
      this.replicationRate.beginRefresh();
      for (const quota of [replication.leader, replication.follower]) {
        this.replicationBytes.child(quota.side).value = quota.bytesRecorded;
        this.replicationHeldBack.child(quota.side).value = quota.partitionsHeldBack;
        this.replicationRate.set(quota.measured(now), quota.side);
      }
      this.replicationRate.endRefresh();
    }
    this.rate.beginRefresh();
    this.limit.beginRefresh();
    for (const s of sensors?.sensorInfos() ?? []) {
      this.rate.set(s.value, s.type, s.user, s.clientId);
      if (s.quota !== undefined) this.limit.set(s.quota, s.type, s.user, s.clientId);
      this.throttleTime.child(s.type, s.user, s.clientId).value = s.throttleTimeMsTotal;
      this.throttled.child(s.type, s.user, s.clientId).value = s.throttledTotal;
    }
    this.rate.endRefresh();
    this.limit.endRefresh();
  }
}
