// A Prometheus histogram for what every request observes (docs/operations.md, "Metrics").
// prom-client's Histogram validates and hashes the label object on every observation (about
// 1 us; a read observes three times); this one finds its series by the label values joined
// (label values here are configured names, routes and statuses: none holds the NUL it joins with)
// and counts into a fixed array. It is exposed through the same prom-client registry, which
// formats it as it formats its own histograms (registerMetric and the metric's get()).
import type { Metric, Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  /** Per bucket, the observations that fell into it (not yet cumulative); the last is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** One line of the exposition, as prom-client's registry reads it. */
interface Value {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
}

/** What the registry reads of a metric (prom-client's own typings name the type as a number). */
interface Exported {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: Value[];
}

export class LabelledHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** One observation; `values` in the order of the label names. */
  observe(values: readonly string[], value: number): void {
    if (!Number.isFinite(value)) return;
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      s = { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  reset(): void {
    this.series = new Map();
  }

  /** The exposition's form: `le` first, then the series' labels (as prom-client writes them). */
  getForPromString(): Promise<Exported> {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: bucket, labels: { le }, sharedLabels: s.labels, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: s.labels, value: s.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The JSON form: every label on the value. */
  async get(): Promise<Exported> {
    const metric = await this.getForPromString();
    return {
      ...metric,
      values: metric.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } })),
    };
  }
}
