/**
 * Ray Data's per-operator Prometheus metrics, under its names and labels (through core's user
 * metrics, from the thread that runs the executor, the driver's, to its node's `/metrics`; a
 * driver connected to a cluster serves one): `ray_data_output_rows`, `ray_data_output_bytes`,
 * `ray_data_num_tasks_submitted` and `ray_data_num_tasks_running`, labelled `dataset` (one id per
 * execution) and `operator` (`<name>_<index>`, as Ray tags operators). The executor samples its
 * operators after each scheduling step; a value is recorded only when it changed. The rows keep
 * their last values once the execution ended.
 */
import { Gauge } from '@ray-ts/core';

const tagKeys = ['dataset', 'operator'];

/** What the metrics read of one operator. */
export interface OperatorSample {
  readonly name: string;
  readonly stats: { readonly tasks: number; readonly rowsOut: number; readonly bytesOut: number };
  inFlight(): number;
}

let gauges: { rows: Gauge; bytes: Gauge; submitted: Gauge; running: Gauge } | undefined;

/** Declared once per thread, on the first execution. */
function declare(): NonNullable<typeof gauges> {
  gauges ??= {
    rows: new Gauge('data_output_rows', { description: 'Rows outputted by dataset operators', tagKeys }),
    bytes: new Gauge('data_output_bytes', { description: 'Bytes outputted by dataset operators', tagKeys }),
    submitted: new Gauge('data_num_tasks_submitted', { description: 'Number of submitted tasks', tagKeys }),
    running: new Gauge('data_num_tasks_running', { description: 'Number of running tasks', tagKeys }),
  };
  return gauges;
}

let executions = 0;

/** The metrics of one execution of a plan. */
export class ExecutionMetrics {
  /** Ray's `dataset` label: unique per execution in this process. */
  readonly dataset = `dataset_${process.pid.toString(36)}_${(executions++).toString(36)}`;
  private readonly last: number[][] = [];

  /** Records what changed since the previous sample. */
  sample(ops: readonly OperatorSample[]): void {
    const g = declare();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const now = [op.stats.rowsOut, op.stats.bytesOut, op.stats.tasks, op.inFlight()];
      const prev = this.last[i];
      if (prev && prev.every((v, j) => v === now[j])) continue;
      this.last[i] = now;
      const tags = { dataset: this.dataset, operator: `${op.name}_${i}` };
      const metrics = [g.rows, g.bytes, g.submitted, g.running];
      for (let j = 0; j < metrics.length; j++) if (prev?.[j] !== now[j]) metrics[j].set(now[j], tags);
    }
  }
}
