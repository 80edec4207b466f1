/**
 * A node's Prometheus metrics, under Ray's names and labels (src/ray/stats/metric_defs.cc, the
 * reporter agent's `ray_node_*`), so that Ray's Grafana dashboards read them: every value is read
 * at scrape time from what the node already keeps (`NodeManager.metricsState()`, the machine's
 * figures), so the node's hot paths pay nothing for them. Latency rows (metrics-latency.ts) read
 * the histograms the scheduler and the gRPC interceptor fill while metrics are on. User metrics
 * (metrics/user-metrics.ts) are rendered from the node's table as `ray_<name>`.
 */
import client from 'prom-client';
import type { NodeManager } from '../node/node-manager.js';
import type { UserMetric, UserMetricsTable } from '../metrics/user-table.js';
import { sampleGpus, SystemSampler, type GpuSample } from '../metrics/system.js';
import type { GrpcServerStats } from './grpc-stats.js';
import { registerLatencyMetrics } from './metrics-latency.js';

/** What the collectors read. */
export interface CoreMetricsSource {
  readonly node: Pick<NodeManager, 'metricsState' | 'userMetrics'>;
  /** Whether the node has GPUs: `ray_node_gpus_*` then asks `nvidia-smi` at each scrape. */
  readonly hasGpus: boolean;
  /** The machine's GPUs (default: nvidia-smi); a seam for tests. */
  readonly gpus?: () => Promise<GpuSample[]>;
  /** What the node's gRPC server handled (`ray_grpc_server_*`; absent: no rows). */
  readonly grpc?: GrpcServerStats;
}

type Labels = Record<string, string | number>;

/** A gauge whose rows are computed at each scrape (the previous rows are dropped first). */
function gauge(
  reg: client.Registry,
  name: string,
  help: string,
  labelNames: string[],
  rows: () => Iterable<[Labels, number]> | Promise<Iterable<[Labels, number]>>,
): void {
  const g: client.Gauge = new client.Gauge({
    name,
    help,
    labelNames,
    registers: [reg],
    async collect() {
      const r = await rows();
      g.reset();
      for (const [labels, v] of r) g.set(labels, v);
    },
  });
}

/** `state + '\0' + name` keys of NodeMetricsState as rows. */
function* byStateAndName(counts: Map<string, number>, extra: Labels = {}): Iterable<[Labels, number]> {
  for (const [key, n] of counts) {
    const i = key.indexOf('\0');
    yield [{ State: key.slice(0, i), Name: key.slice(i + 1), ...extra }, n];
  }
}

/**
 * Registers the core collectors on `reg`. Call `beginScrape()` before each `reg.metrics()`: the
 * node, the machine and the GPUs are read once per scrape, shared by its collectors.
 */
export function registerCoreMetrics(reg: client.Registry, src: CoreMetricsSource): { beginScrape(): void } {
  const sys = new SystemSampler();
  let scrape: ReturnType<CoreMetricsSource['node']['metricsState']> | undefined;
  const state = () => (scrape ??= src.node.metricsState());
  let sysSample: ReturnType<SystemSampler['sample']> | undefined;
  const machine = () => (sysSample ??= sys.sample());
  let gpuReading: Promise<GpuSample[]> | undefined;

  gauge(
    reg,
    'ray_tasks',
    'Current number of tasks currently in a particular state.',
    ['State', 'Name', 'IsRetry'],
    function* () {
      yield* byStateAndName(state().tasks, { IsRetry: '0' });
      yield* byStateAndName(state().retries, { IsRetry: '1' });
    },
  );
  gauge(reg, 'ray_actors', 'Current number of actors currently in a particular state.', ['State', 'Name'], () =>
    byStateAndName(state().actors),
  );
  gauge(reg, 'ray_resources', 'Logical resource usage for each node of the cluster.', ['Name', 'State'], function* () {
    const { total, available } = state();
    for (const [name, t] of Object.entries(total)) {
      const a = available[name] ?? 0;
      yield [{ Name: name, State: 'AVAILABLE' }, a];
      yield [{ Name: name, State: 'USED' }, Math.max(0, t - a)];
    }
  });
  gauge(
    reg,
    'ray_object_store_memory',
    'Object store memory by various sub-kinds on this node',
    ['Location', 'ObjectState'],
    function* () {
      const s = state().store;
      yield [{ Location: 'MMAP_SHM', ObjectState: 'SEALED' }, s.usedBytes];
      yield [{ Location: 'SPILLED', ObjectState: 'SEALED' }, s.spilledBytes];
    },
  );
  gauge(
    reg,
    'ray_object_store_available_memory',
    'Amount of memory currently available in the object store.',
    [],
    () => {
      const s = state().store;
      return [[{}, Math.max(0, s.capacityBytes - s.usedBytes)]];
    },
  );
  gauge(reg, 'ray_object_store_used_memory', 'Amount of memory currently occupied in the object store.', [], () => [
    [{}, state().store.usedBytes],
  ]);
  gauge(reg, 'ray_object_store_num_local_objects', 'Number of objects currently in the object store.', [], () => [
    [{}, state().store.numObjects],
  ]);
  gauge(reg, 'ray_spill_manager_objects', 'Number of local objects broken down by state.', ['Type'], () => {
    const s = state().store;
    return [
      [{ Type: 'Pinned' }, s.numObjects - s.spilledObjects],
      [{ Type: 'Spilled' }, s.spilledObjects],
    ];
  });
  gauge(reg, 'ray_spill_manager_objects_bytes', 'Byte size of local objects broken down by state.', ['Type'], () => {
    const s = state().store;
    return [
      [{ Type: 'Pinned' }, s.usedBytes],
      [{ Type: 'Spilled' }, s.spilledBytes],
    ];
  });
  const requests: client.Counter = new client.Counter({
    name: 'ray_spill_manager_request_total',
    help: 'Number of {spill, restore} requests.',
    labelNames: ['Type'],
    registers: [reg],
    collect() {
      const s = state().store;
      requests.reset();
      requests.inc({ Type: 'Spilled' }, s.spillsTotal);
      requests.inc({ Type: 'Restored' }, s.restoresTotal);
      requests.inc({ Type: 'FailedSpill' }, s.failedSpillsTotal);
    },
  });

  gauge(reg, 'ray_node_cpu_utilization', 'Total CPU usage on a ray node', [], () => [[{}, machine().cpuPercent]]);
  gauge(reg, 'ray_node_cpu_count', 'Total CPUs available on a ray node', [], () => [[{}, machine().cpuCount]]);
  gauge(reg, 'ray_node_mem_used', 'Memory usage on a ray node', [], () => [[{}, machine().memUsed]]);
  gauge(reg, 'ray_node_mem_available', 'Memory available on a ray node', [], () => [[{}, machine().memAvailable]]);
  gauge(reg, 'ray_node_mem_total', 'Total memory on a ray node', [], () => [[{}, machine().memTotal]]);
  gauge(reg, 'ray_node_mem_shared_bytes', 'Total shared memory usage on a ray node', [], () => [
    [{}, machine().memShared],
  ]);
  gauge(reg, 'ray_node_network_sent', 'Total network sent', [], () => [[{}, machine().netSent]]);
  gauge(reg, 'ray_node_network_received', 'Total network received', [], () => [[{}, machine().netReceived]]);
  gauge(reg, 'ray_node_network_send_speed', 'Network send speed', [], () => [[{}, machine().netSendSpeed]]);
  gauge(reg, 'ray_node_network_receive_speed', 'Network receive speed', [], () => [[{}, machine().netReceiveSpeed]]);
  gauge(reg, 'ray_component_rss_mb', 'RSS usage of all components on the node.', ['Component'], () => [
    [{ Component: 'raylet' }, process.memoryUsage.rss() / (1024 * 1024)],
  ]);
  if (src.hasGpus) {
    const gpus = src.gpus ?? (() => sampleGpus());
    const read = () => (gpuReading ??= gpus());
    const per = (f: (g: GpuSample) => number) => async () =>
      (await read()).map((g): [Labels, number] => [{ GpuIndex: String(g.index), GpuDeviceName: g.name }, f(g)]);
    const labels = ['GpuIndex', 'GpuDeviceName'];
    gauge(reg, 'ray_node_gpus_available', 'Total GPUs available on a ray node', [], async () => [
      [{}, (await read()).length],
    ]);
    gauge(
      reg,
      'ray_node_gpus_utilization',
      'Total GPUs usage on a ray node',
      labels,
      per((g) => g.utilization),
    );
    gauge(
      reg,
      'ray_node_gram_used',
      'Total GPU RAM usage on a ray node',
      labels,
      per((g) => g.memUsed),
    );
    gauge(
      reg,
      'ray_node_gram_available',
      'Total GPU RAM available on a ray node',
      labels,
      per((g) => g.memTotal - g.memUsed),
    );
  }
  registerLatencyMetrics(reg, { placement: () => state().placement, grpc: src.grpc });
  return {
    beginScrape() {
      scrape = undefined;
      sysSample = undefined;
      gpuReading = undefined;
    },
  };
}

/** Registers the node's user metrics that the registry does not have yet (they appear as threads record them). */
export function registerUserMetrics(reg: client.Registry, table: UserMetricsTable): void {
  for (const m of table.values()) {
    const name = `ray_${m.def.name}`;
    if (reg.getSingleMetric(name)) continue;
    reg.registerMetric(userMetric(name, m) as unknown as client.Metric);
  }
}

/** A user metric as prom-client's registry renders it (its `get()` gives the rows). */
function userMetric(name: string, m: UserMetric): object {
  const { def } = m;
  const type = def.kind;
  const labelsOf = (tags: readonly string[]) => Object.fromEntries(def.tagKeys.map((k, i) => [k, tags[i]]));
  const help = def.description || `${def.kind} ${def.name} (ray-ts user metric)`;
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get() {
      const values: { value: number; labels: Record<string, string | number>; metricName?: string }[] = [];
      for (const s of m.series.values()) {
        const labels = labelsOf(s.tags);
        if (type !== 'histogram') {
          values.push({ value: s.value, labels });
          continue;
        }
        let acc = 0;
        const bounds = def.boundaries!;
        for (let i = 0; i <= bounds.length; i++) {
          acc += s.buckets?.[i] ?? 0;
          values.push({
            value: acc,
            labels: { ...labels, le: i < bounds.length ? bounds[i] : '+Inf' },
            metricName: `${name}_bucket`,
          });
        }
        values.push({ value: s.value, labels, metricName: `${name}_sum` });
        values.push({ value: s.count, labels, metricName: `${name}_count` });
      }
      return { name, help, type, values, aggregator: 'sum' };
    },
  };
}
