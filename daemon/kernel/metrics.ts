/**
 * A small Prometheus registry (text exposition format 0.0.4): counters,
 * gauges (set directly or computed at scrape time by a collect callback) and
 * histograms. It lives in the core (`core.metrics`) so that every feature
 * registers its own series; the /metrics route only renders.
 *
 * Series other features register (names are part of the contract):
 * - devices (owner of `core.devices`): `core.metrics.gauge('pbxd_devices', 'Devices by license state',
 *   ['state'], async () => (await countByState()).map(([state, n]) => ({ labels: { state }, value: n })))`
 *   with state one of licensed, waiting, not_required, unassigned, blocked (always all five, 0 included).
 * - socket.io adapter: `pbxd_ui_sockets` (connected browser sockets).
 * - provisioning: nothing to register — `coreMetrics()` owns `pbxd_provisioning_requests_total` and
 *   `pbxd_provisioning_request_duration_seconds` and counts `provisioning.request` {vendor, outcome, ms} bus
 *   events; the provisioning server itself records into them directly (`get` + `bind`: no event per request).
 * - scheduler: nothing to do — `job.finished` {name, ok} is counted as `pbxd_job_runs_total{job,result}`.
 */
type Labels = Record<string, string>;
interface Sample {
  labels?: Labels;
  value: number;
}

type Kind = 'counter' | 'gauge' | 'histogram';

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly kind: Kind;
  samples(): Promise<Array<{ suffix: string; labels: Labels; value: number }>>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Labels in a stable key order, so the same series always maps to the same key. */
function keyOf(labelNames: readonly string[], labels: Labels = {}): string {
  for (const k of Object.keys(labels)) if (!labelNames.includes(k)) throw new Error(`unknown label ${k}`);
  return JSON.stringify(labelNames.map((n) => labels[n] ?? ''));
}

function labelsOf(labelNames: readonly string[], key: string): Labels {
  const values = JSON.parse(key) as string[];
  return Object.fromEntries(labelNames.map((n, i) => [n, values[i]!]));
}

export class Counter implements Metric {
  readonly kind = 'counter' as const;
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error('a counter only goes up');
    const k = keyOf(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  /** `inc` for one fixed series, its key made once (for hot paths). */
  bind(labels: Labels = {}): (by?: number) => void {
    const k = keyOf(this.labelNames, labels);
    return (by = 1) => {
      if (by < 0) throw new Error('a counter only goes up');
      this.values.set(k, (this.values.get(k) ?? 0) + by);
    };
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(this.labelNames, labels)) ?? 0;
  }

  async samples() {
    if (this.labelNames.length === 0 && this.values.size === 0) return [{ suffix: '', labels: {}, value: 0 }];
    return [...this.values].map(([k, value]) => ({ suffix: '', labels: labelsOf(this.labelNames, k), value }));
  }
}

class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly collect?: () => Sample[] | Promise<Sample[]>,
    /** 'counter' for a total read from elsewhere at scrape time (e.g. CPU seconds). */
    readonly kind: 'gauge' | 'counter' = 'gauge',
  ) {}

  set(labels: Labels, value: number): void {
    this.values.set(keyOf(this.labelNames, labels), value);
  }

  async samples() {
    if (this.collect) {
      const got = await this.collect();
      for (const s of got) keyOf(this.labelNames, s.labels);
      return got.map((s) => ({ suffix: '', labels: s.labels ?? {}, value: s.value }));
    }
    return [...this.values].map(([k, value]) => ({ suffix: '', labels: labelsOf(this.labelNames, k), value }));
  }
}

/** Latency buckets in seconds, from a cached answer to a slow one. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram implements Metric {
  readonly kind = 'histogram' as const;
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {}

  observe(labels: Labels, value: number): void {
    this.add(keyOf(this.labelNames, labels), value);
  }

  /** `observe` for one fixed series, its key made once (for hot paths). */
  bind(labels: Labels = {}): (value: number) => void {
    const k = keyOf(this.labelNames, labels);
    return (value) => this.add(k, value);
  }

  private add(k: string, value: number): void {
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const buckets = this.buckets;
    const counts = s.counts;
    for (let i = buckets.length - 1; i >= 0 && value <= buckets[i]!; i--) counts[i]!++;
    s.sum += value;
    s.count++;
  }

  async samples() {
    const out: Array<{ suffix: string; labels: Labels; value: number }> = [];
    for (const [k, s] of this.series) {
      const labels = labelsOf(this.labelNames, k);
      this.buckets.forEach((le, i) => out.push({ suffix: '_bucket', labels: { ...labels, le: formatNumber(le) }, value: s.counts[i]! }));
      out.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: s.count });
      out.push({ suffix: '_sum', labels, value: s.sum });
      out.push({ suffix: '_count', labels, value: s.count });
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(m: M, labelNames: readonly string[], counter = false): M {
    if (!NAME.test(m.name)) throw new Error(`invalid metric name ${m.name}`);
    // Prometheus' naming rules (promtool check metrics): only a counter's name ends in _total, and it must.
    if (counter !== m.name.endsWith('_total')) throw new Error(counter ? `counter ${m.name} must end in _total` : `${m.name}: only counters end in _total`);
    for (const l of labelNames) if (!LABEL.test(l) || l === 'le') throw new Error(`invalid label name ${l}`);
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames), labelNames, true);
  }

  /** A gauge; with `collect`, its samples are computed at every scrape. */
  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: () => Sample[] | Promise<Sample[]>): Gauge {
    return this.add(new Gauge(name, help, labelNames, collect), labelNames);
  }

  /** A counter whose totals are read at scrape time (they must never go down). */
  collectedCounter(name: string, help: string, labelNames: readonly string[], collect: () => Sample[] | Promise<Sample[]>): Gauge {
    return this.add(new Gauge(name, help, labelNames, collect, 'counter'), labelNames, true);
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = DEFAULT_BUCKETS): Histogram {
    return this.add(new Histogram(name, help, labelNames, [...buckets].sort((a, b) => a - b)), labelNames);
  }

  /** A registered metric by name (undefined if none), e.g. to `bind` a series owned elsewhere. */
  get(name: string): Metric | undefined {
    return this.metrics.get(name);
  }

  remove(name: string): void {
    this.metrics.delete(name);
  }

  /** Every metric in text format 0.0.4. A failing collector is reported as a comment, not a failed scrape. */
  async render(): Promise<string> {
    const lines: string[] = [];
    for (const m of this.metrics.values()) {
      lines.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${m.name} ${m.kind}`);
      try {
        for (const s of await m.samples()) lines.push(`${m.name}${s.suffix}${labelText(s.labels)} ${formatNumber(s.value)}`);
      } catch (e) {
        lines.push(`# ${m.name}: collect failed: ${String((e as Error).message ?? e).replace(/\n/g, ' ')}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
