// Counter, gauge and histogram families whose values live in plain numbers we own, exposed
// through a prom-client Registry at scrape time.
//
// Why not prom-client's own Counter/Histogram: every inc/observe there hashes its label object
// into a string key (~150 ns per counter inc, ~250 ns per histogram observe, measured on these
// machines by metrics.bench.ts), and the request path does four of them per request. Here the
// caller resolves a child once (per API key, per topic) and then an inc is one addition and an
// observe a short bucket scan. prom-client still owns the registry, the exposition format and
// the default process metrics; it reads these families through the same `get()` contract its own
// metrics implement (name, help, type, values). Gauges refreshed per partition at scrape time
// are families too, for the same reason at scrape scale (thousands of series per scrape).
//
// Concurrency: event loop only.

import type { Metric, Registry } from 'prom-client';

export type Labels = Readonly<Record<string, string>>;

interface ExposedValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

interface Exposed {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: ExposedValue[];
  aggregator: 'sum';
}

/** One labelled counter. `value` only grows, except through `set` from a source that counts itself. */
export class CounterChild {
  readonly labels: Labels;
  value = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }

  inc(n = 1): void {
    if (!(n >= 0)) throw new Error(`BUG: counter increment must be >= 0, got ${n}`);
    this.value += n;
  }

  /** Mirrors a monotonic total kept elsewhere (the native writer's and flush counters). */
  set(total: number): void {
    if (!(total >= 0)) throw new Error(`BUG: counter total must be >= 0, got ${total}`);
    this.value = total;
  }
}

/** One labelled gauge: a value read at scrape time. */
export class GaugeChild {
  readonly labels: Labels;
  value = 0;
  /** The refresh that last set this child (see Family.beginRefresh). */
  refreshed = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }
}

/** One labelled histogram: per-bucket counts (not cumulative), sum and count. */
export class HistogramChild {
  readonly labels: Labels;
  private readonly bounds: Float64Array;
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last entry: above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: Float64Array) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    // Linear: most observations land in the first few buckets, and there are fewer than 20.
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Mirrors a histogram kept elsewhere (the native flush histogram), with these same bounds. */
  load(counts: ArrayLike<number>, sum: number, count: number): void {
    if (counts.length !== this.counts.length) {
      throw new Error(`BUG: ${counts.length} bucket counts for ${this.counts.length} buckets`);
    }
    this.counts.set(counts);
    this.sum = sum;
    this.count = count;
  }
}

interface FamilyOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

/** What prom-client's registry uses of a metric: its name and get(). */
function isRegistrable(metric: object): metric is Metric {
  return 'name' in metric && typeof metric.name === 'string' && 'get' in metric && typeof metric.get === 'function';
}

/** The parts both families share: children by label values, registration, removal. */
abstract class Family<C extends { readonly labels: Labels }> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum' as const;
  protected readonly children = new Map<string, C>();

  constructor(registry: Registry, options: FamilyOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The registry keeps whatever implements get(); its TypeScript type names only its own
    // classes, so a run-time check of that surface stands in for a cast.
    if (!isRegistrable(this)) throw new Error(`BUG: metric family ${this.name} cannot be registered`);
    registry.registerMetric(this);
  }

  protected abstract create(labels: Labels): C;

  /** Series currently exposed. */
  get size(): number {
    return this.children.size;
  }

  /** The child for these label values (in labelNames order), created at 0 the first time. */
  child(...labelValues: string[]): C {
    if (labelValues.length !== this.labelNames.length) {
      throw new Error(`BUG: ${this.name} takes ${this.labelNames.length} label values, got ${labelValues.length}`);
    }
    const key = labelValues.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = labelValues[i]));
      child = this.create(Object.freeze(labels));
      this.children.set(key, child);
    }
    return child;
  }

  /** Drops the series whose labels match (a deleted topic's). */
  removeWhere(matches: (labels: Labels) => boolean): void {
    for (const [key, child] of this.children) if (matches(child.labels)) this.children.delete(key);
  }

  /** prom-client's Registry.resetMetrics(): every series back to 0, none removed. */
  abstract reset(): void;

  abstract get(): Promise<Exposed>;
}

export class CounterFamily extends Family<CounterChild> {
  readonly type = 'counter' as const;

  protected create(labels: Labels): CounterChild {
    return new CounterChild(labels);
  }

  reset(): void {
    for (const child of this.children.values()) child.value = 0;
  }

  async get(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    for (const child of this.children.values()) values.push({ value: child.value, labels: child.labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/**
 * Gauges whose series mirror state read at scrape time (partitions, groups): each refresh sets
 * the series that exist now, and `endRefresh` drops those it did not touch (a deleted topic, a
 * forgotten group). Children are found by their label values, so a refresh allocates nothing
 * for series that already exist.
 */
export class GaugeFamily extends Family<GaugeChild> {
  readonly type = 'gauge' as const;
  private refresh = 0;

  protected create(labels: Labels): GaugeChild {
    return new GaugeChild(labels);
  }

  beginRefresh(): void {
    this.refresh++;
  }

  /** Sets the series for these label values (labelNames order) in the current refresh. */
  set(value: number, ...labelValues: string[]): void {
    const child = this.child(...labelValues);
    child.value = value;
    child.refreshed = this.refresh;
  }

  endRefresh(): void {
    for (const [key, child] of this.children) if (child.refreshed !== this.refresh) this.children.delete(key);
  }

  reset(): void {
    for (const child of this.children.values()) child.value = 0;
  }

  async get(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    for (const child of this.children.values()) values.push({ value: child.value, labels: child.labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export interface HistogramOptions extends FamilyOptions {
  /** Upper bounds, increasing, in the metric's unit; +Inf is implied. */
  readonly buckets: readonly number[];
}

export class HistogramFamily extends Family<HistogramChild> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  private readonly bounds: Float64Array;
  private readonly leLabels: readonly string[];

  constructor(registry: Registry, options: HistogramOptions) {
    super(registry, options);
    for (let i = 1; i < options.buckets.length; i++) {
      if (!(options.buckets[i] > options.buckets[i - 1])) throw new Error(`BUG: ${options.name} buckets must increase`);
    }
    if (options.labelNames.includes('le')) throw new Error(`BUG: ${options.name} cannot use the label "le"`);
    this.buckets = Object.freeze([...options.buckets]);
    this.bounds = Float64Array.from(options.buckets);
    this.leLabels = [...options.buckets.map(String), '+Inf'];
  }

  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }

  reset(): void {
    for (const child of this.children.values()) {
      child.counts.fill(0);
      child.sum = 0;
      child.count = 0;
    }
  }

  async get(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const child of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i < child.counts.length; i++) {
        cumulative += child.counts[i];
        values.push({ metricName: bucketName, labels: { ...child.labels, le: this.leLabels[i] }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: child.labels, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels: child.labels, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
