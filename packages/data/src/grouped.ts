/** Grouped rows (`groupby`) and the built-in aggregations. */
import { portable } from '@ray-ts/core';
import type { BatchFormat, BatchOf, Row } from './block.js';
import type { AggSpec } from './compute.js';
import { Dataset } from './dataset.js';
import { checkFunction, fnName } from './args.js';
import { DataInvalidArgumentError } from './errors.js';
import type { LogicalNode } from './plan.js';
import type { Step } from './steps.js';

/** Rows grouped by key columns: aggregate them, or map each group. */
export class GroupedData {
  /** @internal */
  constructor(
    private readonly plan: LogicalNode,
    private readonly keys: readonly string[],
  ) {}

  /** One row per group: the keys, then one column per aggregation (`count()`, `mean(x)`...). */
  aggregate(...aggs: AggSpec[]): Dataset<Row> {
    if (aggs.length === 0)
      throw new DataInvalidArgumentError('aggregate() needs at least one aggregation, e.g. count() or mean("x").');
    const name = `groupby(${this.keys.join(', ')}).aggregate(${aggs.map((a) => a.alias).join(', ')})`;
    return new Dataset({ kind: 'exchange', name, input: this.plan, op: { kind: 'aggregate', keys: this.keys, aggs } });
  }
  /** Rows per group, in a `count()` column. */
  count(): Dataset<Row> {
    return this.aggregate(count());
  }
  sum(on: string): Dataset<Row> {
    return this.aggregate(sum(on));
  }
  min(on: string): Dataset<Row> {
    return this.aggregate(min(on));
  }
  max(on: string): Dataset<Row> {
    return this.aggregate(max(on));
  }
  mean(on: string): Dataset<Row> {
    return this.aggregate(mean(on));
  }
  std(on: string, ddof = 1): Dataset<Row> {
    return this.aggregate(std(on, ddof));
  }

  /** Applies `fn` to each group (all its rows in one batch); it returns a batch. */
  mapGroups<F extends BatchFormat = 'columns'>(
    fn: (group: BatchOf[F]) => unknown,
    options: { batchFormat?: F } = {},
  ): Dataset<Row> {
    if (this.keys.length === 0)
      throw new DataInvalidArgumentError('mapGroups() needs a key: groupby(key).mapGroups(fn).');
    checkFunction(fn, 'mapGroups()');
    const name = `mapGroups(${fnName(fn)})`;
    const step: Step = {
      kind: 'mapBatches',
      name,
      fn: portable(fn as never, 'mapGroups()'),
      isClass: false,
      fnArgs: [],
      fnConstructorArgs: [],
      batchSize: null,
      batchFormat: (options.batchFormat ?? 'columns') as BatchFormat,
    };
    return new Dataset({
      kind: 'exchange',
      name: `groupby(${this.keys.join(', ')}).${name}`,
      input: this.plan,
      op: { kind: 'mapGroups', keys: this.keys, step },
    });
  }
}

/** Rows per group (or in the dataset), as `count()`. */
export function count(): AggSpec {
  return { fn: 'count', alias: 'count()' };
}
/** Sum of a column, as `sum(col)`. */
export function sum(on: string): AggSpec {
  return { fn: 'sum', on, alias: `sum(${on})` };
}
/** Smallest value, as `min(col)`. */
export function min(on: string): AggSpec {
  return { fn: 'min', on, alias: `min(${on})` };
}
/** Largest value, as `max(col)`. */
export function max(on: string): AggSpec {
  return { fn: 'max', on, alias: `max(${on})` };
}
/** Mean, as `mean(col)`. */
export function mean(on: string): AggSpec {
  return { fn: 'mean', on, alias: `mean(${on})` };
}
/** Standard deviation (ddof 1 by default), as `std(col)`. */
export function std(on: string, ddof = 1): AggSpec {
  return { fn: 'std', on, alias: `std(${on})`, ddof };
}
