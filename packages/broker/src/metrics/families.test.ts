import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterFamily, GaugeFamily, HistogramFamily } from './families.ts';

/** The sample lines of one metric (not # HELP/# TYPE), from the registry's text exposition. */
async function samples(registry: Registry, prefix: string): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));
}

describe('CounterFamily', () => {
  it('exposes each child with its labels, typed as a counter', async () => {
    const registry = new Registry();
    const family = new CounterFamily(registry, { name: 'test_requests_total', help: 'Requests.', labelNames: ['api', 'version'] });
    family.child('Produce', '9').inc();
    family.child('Produce', '9').inc(2);
    family.child('Fetch', '12').value += 5;
    const text = await registry.metrics();
    expect(text).toContain('# TYPE test_requests_total counter');
    expect(text).toContain('# HELP test_requests_total Requests.');
    expect(await samples(registry, 'test_requests_total')).toEqual([
      'test_requests_total{api="Produce",version="9"} 3',
      'test_requests_total{api="Fetch",version="12"} 5',
    ]);
  });

  it('escapes label values as the exposition format requires', async () => {
    const registry = new Registry();
    new CounterFamily(registry, { name: 'test_bytes_total', help: 'B.', labelNames: ['topic'] }).child('a"b\\c\nd').inc();
    expect(await samples(registry, 'test_bytes_total')).toEqual(['test_bytes_total{topic="a\\"b\\\\c\\nd"} 1']);
  });

  it('refuses a negative increment and a wrong number of label values', () => {
    const family = new CounterFamily(new Registry(), { name: 'test_total', help: 'T.', labelNames: ['a'] });
    expect(() => family.child('x').inc(-1)).toThrow(/BUG/);
    expect(() => family.child('x', 'y')).toThrow(/BUG/);
  });

  it('removes matching series and resets the others to 0', async () => {
    const registry = new Registry();
    const family = new CounterFamily(registry, { name: 'test_topic_total', help: 'T.', labelNames: ['topic'] });
    family.child('gone').inc(4);
    family.child('kept').inc(3);
    family.removeWhere((l) => l.topic === 'gone');
    expect(await samples(registry, 'test_topic_total')).toEqual(['test_topic_total{topic="kept"} 3']);
    registry.resetMetrics();
    expect(await samples(registry, 'test_topic_total')).toEqual(['test_topic_total{topic="kept"} 0']);
  });

  it('shares a registry with prom-client metrics and refuses a duplicate name', async () => {
    const registry = new Registry();
    new CounterFamily(registry, { name: 'test_a_total', help: 'A.', labelNames: [] }).child().inc();
    new Gauge({ name: 'test_b', help: 'B.', registers: [registry] }).set(2);
    expect(await samples(registry, 'test_')).toEqual(['test_a_total 1', 'test_b 2']);
    expect(() => new CounterFamily(registry, { name: 'test_b', help: 'B.', labelNames: [] })).toThrow(/already been registered/);
  });
});

describe('HistogramFamily', () => {
  it('exposes cumulative buckets, +Inf, sum and count', async () => {
    const registry = new Registry();
    const family = new HistogramFamily(registry, { name: 'test_seconds', help: 'S.', labelNames: ['api'], buckets: [0.001, 0.01, 0.1] });
    const child = family.child('Fetch');
    for (const v of [0.0005, 0.001, 0.005, 0.05, 2]) child.observe(v);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE test_seconds histogram');
    expect(await samples(registry, 'test_seconds')).toEqual([
      'test_seconds_bucket{api="Fetch",le="0.001"} 2', // 0.0005 and exactly 0.001 (upper-inclusive)
      'test_seconds_bucket{api="Fetch",le="0.01"} 3',
      'test_seconds_bucket{api="Fetch",le="0.1"} 4',
      'test_seconds_bucket{api="Fetch",le="+Inf"} 5',
      'test_seconds_sum{api="Fetch"} 2.0565',
      'test_seconds_count{api="Fetch"} 5',
    ]);
  });

  it('loads counts kept elsewhere, refusing a different bucket layout', async () => {
    const registry = new Registry();
    const child = new HistogramFamily(registry, { name: 'test_flush_seconds', help: 'F.', labelNames: [], buckets: [1, 2] }).child();
    child.load([1, 0, 2], 7.5, 3);
    expect(await samples(registry, 'test_flush_seconds')).toEqual([
      'test_flush_seconds_bucket{le="1"} 1',
      'test_flush_seconds_bucket{le="2"} 1',
      'test_flush_seconds_bucket{le="+Inf"} 3',
      'test_flush_seconds_sum 7.5',
      'test_flush_seconds_count 3',
    ]);
    expect(() => child.load([1, 2], 0, 3)).toThrow(/BUG/);
  });

  it('refuses buckets that do not increase and an "le" label', () => {
    expect(() => new HistogramFamily(new Registry(), { name: 'h1', help: 'H.', labelNames: [], buckets: [1, 1] })).toThrow(/BUG/);
    expect(() => new HistogramFamily(new Registry(), { name: 'h2', help: 'H.', labelNames: ['le'], buckets: [1] })).toThrow(/BUG/);
  });
});

describe('GaugeFamily', () => {
  it('keeps the series set in the latest refresh and drops the others', async () => {
    const registry = new Registry();
    const family = new GaugeFamily(registry, { name: 'test_log_end_offset', help: 'E.', labelNames: ['topic', 'partition'] });
    family.beginRefresh();
    family.set(10, 'a', '0');
    family.set(20, 'b', '0');
    family.endRefresh();
    expect(await registry.metrics()).toContain('# TYPE test_log_end_offset gauge');
    expect(await samples(registry, 'test_log_end_offset')).toEqual([
      'test_log_end_offset{topic="a",partition="0"} 10',
      'test_log_end_offset{topic="b",partition="0"} 20',
    ]);
    family.beginRefresh();
    family.set(11, 'a', '0');
    family.endRefresh();
    expect(await samples(registry, 'test_log_end_offset')).toEqual(['test_log_end_offset{topic="a",partition="0"} 11']);
  });
});
