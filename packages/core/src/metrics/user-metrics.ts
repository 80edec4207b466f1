/**
 * User metrics, as Ray's `ray.util.metrics`: `Counter`, `Gauge` and `Histogram` with tags, usable
 * in the driver and in tasks and actors on any node. Updates are aggregated in the thread
 * (thread-metrics.ts) and reach the node's Prometheus endpoint as `ray_<name>` within
 * `metricsReportIntervalMs`. Declaring and recording check what Ray checks, and throw MetricsError.
 */
import { MetricsError } from '../errors.js';
import { threadState } from '../runtime/thread-state.js';
import { ThreadMetrics, type MetricDef, type MetricKind } from './thread-metrics.js';

/** Options of a user metric. */
export interface MetricOptions {
  /** Its help text on the endpoint. */
  description?: string;
  /** The tag keys its points carry (Prometheus labels); every point gives each a value (or a default). */
  tagKeys?: readonly string[];
}

/** Options of a {@link Histogram}: `boundaries` is required. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds of its buckets: positive and increasing (a `+Inf` bucket is added). */
  boundaries: readonly number[];
}

export type Tags = Readonly<Record<string, string>>;

/** Names of the metrics ray-ts exports itself (without `ray_`): a user metric may not take one. */
export const CORE_METRIC_NAMES: readonly string[] = [
  'tasks',
  'actors',
  'resources',
  'object_store_memory',
  'object_store_available_memory',
  'object_store_used_memory',
  'object_store_num_local_objects',
  'spill_manager_objects',
  'spill_manager_objects_bytes',
  'spill_manager_request_total',
  'node_cpu_utilization',
  'node_cpu_count',
  'node_mem_used',
  'node_mem_available',
  'node_mem_total',
  'node_mem_shared_bytes',
  'node_network_sent',
  'node_network_received',
  'node_network_send_speed',
  'node_network_receive_speed',
  'node_gpus_available',
  'node_gpus_utilization',
  'node_gram_used',
  'node_gram_available',
  'component_rss_mb',
  'grpc_server_req_latency_ms',
  'grpc_server_req_process_time_ms',
  'grpc_server_req_new_total',
  'grpc_server_req_finished_total',
  'grpc_server_req_succeeded_total',
  'grpc_server_req_failed_total',
  'scheduler_tasks',
  'scheduler_unscheduleable_tasks',
  'scheduler_placement_time_ms',
];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TAG_KEY = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** This thread's aggregator (made on first use; the driver or the worker runtime attaches it to its node). */
export function threadMetrics(): ThreadMetrics {
  const st = threadState();
  return (st.metrics ??= new ThreadMetrics());
}

abstract class Metric {
  protected readonly def: MetricDef;
  private defaults: Tags = {};

  constructor(name: string, kind: MetricKind, opts: MetricOptions & { boundaries?: readonly number[] }) {
    if (typeof name !== 'string' || name === '')
      throw new MetricsError('Empty name is not allowed. Please provide a metric name.');
    if (!NAME.test(name))
      throw new MetricsError(
        `Metric name '${name}' is invalid: Prometheus names match [a-zA-Z_:][a-zA-Z0-9_:]* (use underscores, not dots or dashes).`,
      );
    if (CORE_METRIC_NAMES.includes(name))
      throw new MetricsError(
        `Metric name '${name}' is taken by ray-ts's own 'ray_${name}' metric: pick another name for your metric.`,
      );
    const tagKeys = opts.tagKeys ?? [];
    if (!Array.isArray(tagKeys))
      throw new MetricsError(`tagKeys of metric '${name}' must be an array of strings, got ${typeof tagKeys}.`);
    for (const k of tagKeys) {
      if (typeof k !== 'string' || !TAG_KEY.test(k) || k.startsWith('__'))
        throw new MetricsError(
          `Tag key ${JSON.stringify(k)} of metric '${name}' is invalid: tag keys match [a-zA-Z_][a-zA-Z0-9_]* and do not start with '__'.`,
        );
    }
    if (new Set(tagKeys).size !== tagKeys.length)
      throw new MetricsError(`Metric '${name}' declares a tag key twice: [${tagKeys.join(', ')}].`);
    this.def = {
      name,
      kind,
      description: opts.description ?? '',
      tagKeys: [...tagKeys],
      boundaries: opts.boundaries ? [...opts.boundaries] : undefined,
    };
  }

  /** Its name, as declared (exported as `ray_<name>`). */
  get name(): string {
    return this.def.name;
  }

  /** Its tag keys, as declared. */
  get tagKeys(): readonly string[] {
    return this.def.tagKeys;
  }

  /**
   * Values used for tags a point does not give (Ray's `set_default_tags`). Throws MetricsError for
   * a key the metric was not declared with. Returns the metric, for chaining.
   */
  setDefaultTags(tags: Tags): this {
    for (const k of Object.keys(tags)) {
      if (!this.def.tagKeys.includes(k))
        throw new MetricsError(
          `Unrecognized tag key '${k}' for metric '${this.def.name}': its tag keys are [${this.def.tagKeys.join(', ')}]; declare it in tagKeys.`,
        );
      if (typeof tags[k] !== 'string')
        throw new MetricsError(`Tag '${k}' of metric '${this.def.name}' must be a string.`);
    }
    this.defaults = { ...tags };
    return this;
  }

  /** The tag values in `tagKeys` order: given ones over defaults; undeclared or missing keys throw. */
  private tagValues(tags: Tags | undefined): string[] {
    const keys = this.def.tagKeys;
    if (tags)
      for (const k in tags)
        if (!keys.includes(k))
          throw new MetricsError(
            `Unrecognized tag key '${k}' for metric '${this.def.name}': its tag keys are [${keys.join(', ')}]; declare it in tagKeys.`,
          );
    const out = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const v = tags?.[keys[i]] ?? this.defaults[keys[i]];
      if (v === undefined)
        throw new MetricsError(
          `Missing value for tag key '${keys[i]}' of metric '${this.def.name}': pass it in the tags, or set a default with setDefaultTags().`,
        );
      if (typeof v !== 'string')
        throw new MetricsError(`Tag '${keys[i]}' of metric '${this.def.name}' must be a string, got ${typeof v}.`);
      out[i] = v;
    }
    return out;
  }

  protected put(value: number, tags: Tags | undefined): void {
    if (typeof value !== 'number' || Number.isNaN(value))
      throw new MetricsError(
        `The value recorded for metric '${this.def.name}' must be a number, got ${String(value)}.`,
      );
    threadMetrics().record(this.def, this.tagValues(tags), value);
  }
}

/**
 * A cumulative count (Ray's `Counter`): `inc(value, tags)` adds a positive value.
 *
 * @example
 * const requests = new Counter('requests', { description: 'Requests served', tagKeys: ['route'] });
 * requests.inc(1, { route: '/predict' });
 */
export class Counter extends Metric {
  constructor(name: string, opts: MetricOptions = {}) {
    super(name, 'counter', opts);
  }

  /** Adds `value` (default 1; must be > 0) to the series of `tags`. Throws MetricsError otherwise. */
  inc(value = 1, tags?: Tags): void {
    if (!(value > 0)) throw new MetricsError(`value must be >0, got ${value} (metric '${this.def.name}').`);
    this.put(value, tags);
  }
}

/** A value that goes up and down (Ray's `Gauge`): `set(value, tags)`; the last value set is exported. */
export class Gauge extends Metric {
  constructor(name: string, opts: MetricOptions = {}) {
    super(name, 'gauge', opts);
  }

  /** Sets the series of `tags` to `value`. */
  set(value: number, tags?: Tags): void {
    this.put(value, tags);
  }
}

/** A distribution in buckets (Ray's `Histogram`): `observe(value, tags)`. */
export class Histogram extends Metric {
  constructor(name: string, opts: HistogramOptions) {
    const b = opts?.boundaries;
    if (!Array.isArray(b) || b.length === 0)
      throw new MetricsError(
        `Histogram '${name}' needs boundaries: a non-empty array of increasing positive numbers, e.g. [1, 10, 100].`,
      );
    b.forEach((x, i) => {
      if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x))
        throw new MetricsError(
          `Invalid boundaries argument at index ${i}, [${b.join(', ')}] (histogram '${name}'): use positive finite numbers.`,
        );
      if (i > 0 && !(x > b[i - 1]))
        throw new MetricsError(`Boundaries of histogram '${name}' must increase: [${b.join(', ')}].`);
    });
    super(name, 'histogram', opts);
  }

  /** Its bucket bounds, as declared. */
  get boundaries(): readonly number[] {
    return this.def.boundaries!;
  }

  /** Adds one observation of `value` to the series of `tags`. */
  observe(value: number, tags?: Tags): void {
    this.put(value, tags);
  }
}
