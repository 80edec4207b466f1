/**
 * The dashboard's plots over time: the head samples its nodes' `/metrics` every
 * `dashboardSampleMs` into a bounded ring buffer (`dashboardHistoryMs` of samples), which
 * `GET /api/dashboard/history?seconds=N` returns as aligned series: per node `cpu:<nodeId>`
 * (percent), `mem:<nodeId>` (bytes used), `objstore:<nodeId>` (bytes used); `tasks:<STATE>`
 * (Ray's `ray_tasks` summed over the nodes); per Serve deployment `serve_rps:<d>`,
 * `serve_p50_ms:<d>`, `serve_p99_ms:<d>` (from its replicas' request counter and latency
 * histogram, over the last sample period).
 */
import { ignored } from '../log.js';
import { metricRows } from '../metrics/prom-text.js';

/** Series by name, aligned with `t` (ms since the epoch); null where a sample lacks the series. */
export interface HistoryReply {
  t: number[];
  series: Record<string, (number | null)[]>;
}

/** Samples kept in a ring of at most `capacity`; the oldest go first. */
export class HistoryRing {
  private readonly samples: { t: number; values: Record<string, number> }[] = [];
  private start = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`a history ring holds at least 1 sample, not ${capacity}`);
  }

  get size(): number {
    return this.samples.length;
  }

  push(t: number, values: Record<string, number>): void {
    if (this.samples.length < this.capacity) this.samples.push({ t, values });
    else {
      this.samples[this.start] = { t, values };
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The samples taken at `sinceMs` or later, oldest first, as aligned series. */
  since(sinceMs: number): HistoryReply {
    const n = this.samples.length;
    const kept: { t: number; values: Record<string, number> }[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.samples[(this.start + i) % n];
      if (s.t >= sinceMs) kept.push(s);
    }
    const series: HistoryReply['series'] = {};
    kept.forEach((s, i) => {
      for (const [name, v] of Object.entries(s.values)) {
        (series[name] ??= new Array<number | null>(kept.length).fill(null))[i] = v;
      }
    });
    return { t: kept.map((s) => s.t), series };
  }
}

/** A node to sample: its id and `/metrics` page text (undefined: it did not answer). */
export interface NodePage {
  readonly nodeId: string;
  readonly objectStoreUsed: number;
  readonly text: string | undefined;
}

/** A node's machine use as its last page said it. */
export interface MachineSample {
  cpuPercent: number;
  memUsedBytes: number;
  memTotalBytes: number;
}

const REQUESTS = 'ray_serve_deployment_request_counter';
const LATENCY = 'ray_serve_deployment_processing_latency_ms';

/** Counter rows under their name, with prom-client's or Prometheus's `_total` ending alike. */
function counterRows(text: string, name: string) {
  return [...metricRows(text, name), ...metricRows(text, `${name}_total`)];
}

/** The value at quantile `q` of a cumulative histogram (`le` bounds ascending), interpolated in its bucket. */
export function histogramQuantile(q: number, buckets: readonly { le: number; count: number }[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // beyond the last bound: its bound is what is known
      const within = b.count - prevCount;
      return within > 0 ? prevLe + ((b.le - prevLe) * (rank - prevCount)) / within : b.le;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/**
 * Turns pages of the nodes into one sample: machine use and tasks as they are, Serve's counters
 * as rates and quantiles over the time since `prev` (the cumulative values of the last sample,
 * kept in `cumulative` for the next one).
 */
export function sampleOf(
  pages: readonly NodePage[],
  dtMs: number,
  prev: Map<string, number> | undefined,
  cumulative: Map<string, number>,
): { values: Record<string, number>; machines: Map<string, MachineSample> } {
  const values: Record<string, number> = {};
  const machines = new Map<string, MachineSample>();
  const add = (name: string, v: number) => (values[name] = (values[name] ?? 0) + v);
  const tasks: Record<string, number> = {};
  for (const p of pages) {
    values[`objstore:${p.nodeId}`] = p.objectStoreUsed;
    if (p.text === undefined) continue;
    const one = (name: string) => metricRows(p.text!, name)[0]?.value;
    const cpu = one('ray_node_cpu_utilization');
    const used = one('ray_node_mem_used');
    const total = one('ray_node_mem_total');
    if (cpu !== undefined) values[`cpu:${p.nodeId}`] = cpu;
    if (used !== undefined) values[`mem:${p.nodeId}`] = used;
    if (cpu !== undefined && used !== undefined && total !== undefined)
      machines.set(p.nodeId, { cpuPercent: cpu, memUsedBytes: used, memTotalBytes: total });
    for (const r of metricRows(p.text, 'ray_tasks')) {
      const state = r.labels.State;
      if (state) tasks[state] = (tasks[state] ?? 0) + r.value;
    }
    for (const r of counterRows(p.text, REQUESTS))
      if (r.labels.deployment)
        cumulative.set(`req:${r.labels.deployment}`, (cumulative.get(`req:${r.labels.deployment}`) ?? 0) + r.value);
    for (const r of metricRows(p.text, `${LATENCY}_bucket`)) {
      const key = `lat:${r.labels.deployment}:${r.labels.le}`;
      if (r.labels.deployment && r.labels.le) cumulative.set(key, (cumulative.get(key) ?? 0) + r.value);
    }
  }
  for (const [state, n] of Object.entries(tasks)) add(`tasks:${state}`, n);
  const deployments = new Set<string>();
  for (const key of cumulative.keys()) if (key.startsWith('req:')) deployments.add(key.slice(4));
  for (const d of deployments) {
    // A replica gone since (its counts left the sum) reads as no requests rather than a negative rate.
    const delta = (key: string) => Math.max(0, (cumulative.get(key) ?? 0) - (prev?.get(key) ?? 0));
    if (prev && dtMs > 0) values[`serve_rps:${d}`] = (delta(`req:${d}`) * 1000) / dtMs;
    const buckets: { le: number; count: number }[] = [];
    for (const key of cumulative.keys()) {
      const m = /^lat:(.*):([^:]+)$/.exec(key);
      if (m && m[1] === d)
        buckets.push({ le: m[2] === '+Inf' ? Infinity : Number(m[2]), count: prev ? delta(key) : 0 });
    }
    const p50 = histogramQuantile(0.5, buckets);
    const p99 = histogramQuantile(0.99, buckets);
    if (p50 !== null) values[`serve_p50_ms:${d}`] = p50;
    if (p99 !== null) values[`serve_p99_ms:${d}`] = p99;
  }
  return { values, machines };
}

/** What the sampler reads of the cluster: its alive nodes, and a node's `/metrics` page. */
export interface HistorySource {
  nodes(): { nodeId: string; metricsAddress: string; objectStoreUsed: number }[];
  scrape(metricsAddress: string): Promise<string>;
}

/**
 * Samples the nodes every `sampleMs` into a ring of `historyMs / sampleMs` samples, and keeps
 * each node's last machine use (for `/api/cluster_status`). `stop()` ends it.
 */
export class HistorySampler {
  readonly ring: HistoryRing;
  private machines = new Map<string, MachineSample>();
  private prev: Map<string, number> | undefined;
  private prevT = 0;
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly source: HistorySource,
    readonly sampleMs: number,
    historyMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ring = new HistoryRing(Math.max(1, Math.ceil(historyMs / sampleMs)));
    this.timer = setInterval(() => void this.sample(), sampleMs);
    this.timer.unref();
    void this.sample();
  }

  /** The last machine use `/metrics` gave for a node. */
  machine(nodeId: string): MachineSample | undefined {
    return this.machines.get(nodeId);
  }

  /** Takes one sample (skipped while the last one is still being taken). */
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const nodes = this.source.nodes();
      const pages = await Promise.all(
        nodes.map(async (n): Promise<NodePage> => {
          let text: string | undefined;
          if (n.metricsAddress) {
            text = await this.source
              .scrape(n.metricsAddress)
              .catch((err: unknown) => void ignored(`a node's /metrics for the dashboard (${n.nodeId})`)(err));
          }
          return { nodeId: n.nodeId, objectStoreUsed: n.objectStoreUsed, text };
        }),
      );
      const t = this.now();
      const cumulative = new Map<string, number>();
      const { values, machines } = sampleOf(pages, t - this.prevT, this.prev, cumulative);
      this.prev = cumulative;
      this.prevT = t;
      this.machines = machines;
      this.ring.push(t, values);
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
