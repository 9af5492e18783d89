// The quota probe: per quota type and client (the user / client-id tags of the quota level that
// applies, as Kafka's per-client quota metrics), the measured rate, the quota, and the throttles
// applied — read from the quota managers at scrape time. Series exist only for clients measured
// since quotas of that type were set (nothing is measured without a quota) and go away with their
// sensor after an hour without requests.

import type { Registry } from 'prom-client';
import type { QuotaSensorInfo } from '../quotas/client-quota-manager.ts';
import { CounterFamily, GaugeFamily } from './families.ts';

export interface QuotaSensors {
  sensorInfos(): QuotaSensorInfo[];
}

export class QuotaProbe {
  private readonly rate: GaugeFamily;
  private readonly limit: GaugeFamily;
  private readonly throttleTime: CounterFamily;
  private readonly throttled: CounterFamily;

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
  }

  refresh(sensors: QuotaSensors | null): void {
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
