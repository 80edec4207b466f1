/**
 * Latency rows of a node's `/metrics`, under Ray's names: the scheduler's placement times
 * (`ray_scheduler_placement_time_ms{WorkloadType}`, node/placement-times.ts) and what its gRPC
 * server handled (`ray_grpc_server_req_process_time_ms{Method}` and the `ray_grpc_server_req_*`
 * counters, grpc-stats.ts). The hot paths fill fixed histograms and counts; the rows are made
 * here, at scrape time.
 */
import client from 'prom-client';
import type { LatencyHistogram } from '../metrics/latency-histogram.js';
import type { PlacementTimes } from '../node/placement-times.js';
import type { GrpcServerStats, GrpcMethodStats } from './grpc-stats.js';

type Labels = Record<string, string | number>;
type Value = { value: number; labels: Labels; metricName?: string };

/** Prometheus's rows of one histogram series: cumulative buckets, `_sum`, `_count`. */
export function histogramValues(name: string, labels: Labels, h: LatencyHistogram): Value[] {
  const out: Value[] = [];
  let acc = 0;
  for (let i = 0; i <= h.bounds.length; i++) {
    acc += h.buckets[i];
    out.push({
      value: acc,
      labels: { ...labels, le: i < h.bounds.length ? h.bounds[i] : '+Inf' },
      metricName: `${name}_bucket`,
    });
  }
  out.push({ value: h.sum, labels, metricName: `${name}_sum` });
  out.push({ value: h.count, labels, metricName: `${name}_count` });
  return out;
}

/** A metric prom-client renders from `values()` at each scrape (no copy kept in between). */
function computed(
  reg: client.Registry,
  name: string,
  help: string,
  type: 'histogram' | 'counter',
  values: () => Value[],
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name, help, type, aggregator: 'sum', values: values() }),
  };
  reg.registerMetric(metric as unknown as client.Metric);
}

export interface LatencySources {
  /** The node's placement times at this scrape (undefined: metrics off, no rows). */
  placement: () => PlacementTimes | undefined;
  grpc: GrpcServerStats | undefined;
}

/** Registers the latency rows on `reg`. */
export function registerLatencyMetrics(reg: client.Registry, src: LatencySources): void {
  const placement = 'ray_scheduler_placement_time_ms';
  computed(
    reg,
    placement,
    'The time it takes for a workload (task, actor) to be placed: from when its arguments are ready to when it runs on a worker of this node.',
    'histogram',
    () => {
      const p = src.placement();
      if (!p) return [];
      return [
        ...histogramValues(placement, { WorkloadType: 'Task' }, p.task),
        ...histogramValues(placement, { WorkloadType: 'Actor' }, p.actor),
      ];
    },
  );
  const grpc = src.grpc;
  if (!grpc) return;
  const latency = 'ray_grpc_server_req_process_time_ms';
  computed(reg, latency, 'Request latency in grpc server', 'histogram', () =>
    [...grpc.rows()].flatMap(([Method, m]) => (m.latency ? histogramValues(latency, { Method }, m.latency) : [])),
  );
  const counter = (name: string, help: string, f: (m: GrpcMethodStats) => number) =>
    computed(reg, name, help, 'counter', () =>
      [...grpc.rows()].map(([Method, m]) => ({ value: f(m), labels: { Method } })),
    );
  counter('ray_grpc_server_req_new_total', 'New request number in grpc server', (m) => m.started);
  counter(
    'ray_grpc_server_req_finished_total',
    'Finished request number in grpc server',
    (m) => m.succeeded + m.failed,
  );
  counter('ray_grpc_server_req_succeeded_total', 'Succeeded request count in grpc server', (m) => m.succeeded);
  counter('ray_grpc_server_req_failed_total', 'Failed request count in grpc server', (m) => m.failed);
}
