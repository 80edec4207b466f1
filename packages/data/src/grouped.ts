/** The built-in aggregations of `groupby(...).aggregate(...)` and `Dataset.aggregate(...)`. */
import type { AggSpec } from './compute.js';

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
