/**
 * Per-block steps (map, mapBatches, filter, flatMap, column ops, a local limit): the optimizer fuses
 * adjacent ones into one task or actor call, which runs them here, in the worker, one after another.
 */
import type { PortableFunction } from '@ray-ts/core';
import { Table, type Vector } from 'apache-arrow';
import { filterTable } from './compute.js';
import {
  concatTables,
  fromBatch,
  fromColumns,
  fromRows,
  typeHints,
  toBatch,
  toColumns,
  toRows,
  toVector,
  type BatchFormat,
  type Row,
} from './block.js';
import { DataInvalidArgumentError, UserFunctionError } from './errors.js';
import type { ExprNode } from './expr.js';

type AnyFn = (...args: unknown[]) => unknown;

/** One fusable step. `name` is what errors and stats call it, e.g. `mapBatches(normalize)`. */
export type Step =
  | {
      readonly kind: 'mapBatches';
      readonly name: string;
      readonly fn: PortableFunction<AnyFn>;
      /** A class: one instance per actor (or per worker thread for tasks), built with `fnConstructorArgs`. */
      readonly isClass: boolean;
      readonly fnArgs: readonly unknown[];
      readonly fnConstructorArgs: readonly unknown[];
      readonly batchSize: number | null;
      readonly batchFormat: BatchFormat;
    }
  | { readonly kind: 'map' | 'flatMap' | 'filterFn'; readonly name: string; readonly fn: PortableFunction<AnyFn> }
  | { readonly kind: 'filterExpr'; readonly name: string; readonly expr: ExprNode }
  | {
      readonly kind: 'addColumn';
      readonly name: string;
      readonly column: string;
      readonly fn: PortableFunction<AnyFn>;
      readonly batchFormat: BatchFormat;
    }
  | { readonly kind: 'select' | 'drop'; readonly name: string; readonly columns: readonly string[] }
  | { readonly kind: 'rename'; readonly name: string; readonly mapping: Readonly<Record<string, string>> }
  | { readonly kind: 'limit'; readonly name: string; readonly n: number };

/** Instances of user classes, per step, kept by an actor (or a worker thread) across calls. */
export type Instances = Map<string, object>;

const threadInstances: Instances = new Map();
const instanceKeys = new WeakMap<object, string>();
let nextKey = 0;

function keyOf(step: { fn: object; name: string }): string {
  let k = instanceKeys.get(step.fn);
  if (!k) instanceKeys.set(step.fn, (k = `${step.name}#${nextKey++}`));
  return k;
}

/** Builds the class instances of `steps` (an actor does it once, in its constructor). */
export async function constructInstances(steps: readonly Step[], into: Instances): Promise<void> {
  for (const [i, step] of steps.entries()) {
    if (step.kind === 'mapBatches' && step.isClass) into.set(`step${i}`, await construct(step));
  }
}

async function construct(step: Extract<Step, { kind: 'mapBatches' }>): Promise<object> {
  const C = (await step.fn.resolve()) as unknown as new (...a: unknown[]) => object;
  try {
    return new C(...step.fnConstructorArgs);
  } catch (err) {
    throw userError(step.name, `its constructor threw`, err);
  }
}

function userError(op: string, where: string, err: unknown): UserFunctionError {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new UserFunctionError(`${op} failed: ${where}: ${msg}`, op, { cause: err });
}

function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? `<${x.constructor.name}>` : x,
    );
  } catch {
    s = String(v);
  }
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

/**
 * Runs steps over a table. `instances` holds class instances (an actor's); task runs keep them per
 * worker thread, so a class is constructed once per thread, not once per block.
 */
export async function runSteps(input: Table, steps: readonly Step[], instances?: Instances): Promise<Table> {
  let t = input;
  for (const [i, step] of steps.entries()) {
    t = await runStep(t, step, i, instances);
  }
  return t;
}

async function runStep(t: Table, step: Step, index: number, instances: Instances | undefined): Promise<Table> {
  switch (step.kind) {
    case 'select': {
      checkColumns(t, step.columns, step.name);
      return t.select(step.columns as string[]);
    }
    case 'drop': {
      checkColumns(t, step.columns, step.name);
      const drop = new Set(step.columns);
      return t.select(t.schema.fields.map((f) => f.name).filter((n) => !drop.has(n)));
    }
    case 'rename': {
      checkColumns(t, Object.keys(step.mapping), step.name);
      const cols = toColumnsKeepingVectors(t);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(cols)) out[step.mapping[k] ?? k] = v;
      return rebuild(out);
    }
    case 'limit':
      return t.numRows <= step.n ? t : t.slice(0, step.n);
    case 'filterExpr': {
      if (t.numRows === 0) return t;
      return filterTable(t, step.expr);
    }
    case 'map':
    case 'flatMap':
    case 'filterFn':
      return runRowStep(t, step);
    case 'addColumn': {
      const fn = (await step.fn.resolve()) as AnyFn;
      let values: unknown;
      try {
        values = await fn(toBatch(t, step.batchFormat));
      } catch (err) {
        throw userError(step.name, `on a batch of ${t.numRows} rows`, err);
      }
      const arr = values as ArrayLike<unknown>;
      if (arr === null || typeof arr !== 'object' || arr.length !== t.numRows) {
        throw new DataInvalidArgumentError(
          `${step.name} must return an array with one value per row (${t.numRows}), got ${preview(values)}.`,
        );
      }
      const cols = toColumnsKeepingVectors(t);
      cols[step.column] = toVector(arr, step.column, step.name);
      return rebuild(cols);
    }
    case 'mapBatches':
      return runMapBatches(t, step, index, instances);
  }
}

function checkColumns(t: Table, cols: readonly string[], op: string): void {
  if (t.numCols === 0) return;
  const have = new Set(t.schema.fields.map((f) => f.name));
  const missing = cols.filter((c) => !have.has(c));
  if (missing.length) {
    throw new DataInvalidArgumentError(
      `${op}: no column ${missing.map((m) => `'${m}'`).join(', ')}; the columns are ${[...have].map((h) => `'${h}'`).join(', ')}.`,
    );
  }
}

function toColumnsKeepingVectors(t: Table): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of t.schema.fields) out[f.name] = t.getChild(f.name);
  return out;
}

function rebuild(cols: Record<string, unknown>): Table {
  return new Table(cols as unknown as Record<string, Vector>);
}

async function runRowStep(t: Table, step: Extract<Step, { kind: 'map' | 'flatMap' | 'filterFn' }>): Promise<Table> {
  const fn = (await step.fn.resolve()) as AnyFn;
  const rows = toRows(t);
  const out: Row[] = [];
  if (step.kind === 'filterFn') {
    const keep = new Uint8Array(rows.length);
    let any = false;
    for (let i = 0; i < rows.length; i++) {
      let r: unknown;
      try {
        r = fn(rows[i]);
        if (r instanceof Promise) r = await r;
      } catch (err) {
        throw userError(step.name, `on row ${preview(rows[i])}`, err);
      }
      if (r) keep[i] = 1;
      else any = true;
    }
    if (!any) return t;
    const cols = toColumns(t);
    const kept: Record<string, unknown[]> = {};
    for (const [name, c] of Object.entries(cols)) {
      const dst: unknown[] = [];
      for (let i = 0; i < keep.length; i++) if (keep[i]) dst.push(c[i]);
      kept[name] = (ArrayBuffer.isView(c) ? typedLike(c, dst) : dst) as unknown[];
    }
    return fromColumns(kept as Record<string, ArrayLike<unknown>>, step.name, typeHints(t));
  }
  for (const row of rows) {
    let r: unknown;
    try {
      r = fn(row);
      if (r instanceof Promise) r = await r;
    } catch (err) {
      throw userError(step.name, `on row ${preview(row)}`, err);
    }
    if (step.kind === 'map') {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        throw new DataInvalidArgumentError(
          `${step.name} must return a row object for each row; on row ${preview(row)} it returned ${preview(r)}.`,
        );
      }
      out.push(r as Row);
    } else {
      if (!Array.isArray(r)) {
        throw new DataInvalidArgumentError(
          `${step.name} must return an array of rows for each row; on row ${preview(row)} it returned ${preview(r)}.`,
        );
      }
      for (const x of r as Row[]) out.push(x);
    }
  }
  return fromRows(out, step.name, undefined, typeHints(t));
}

function typedLike(src: ArrayLike<unknown>, values: unknown[]): ArrayLike<unknown> {
  const C = (src as unknown as { constructor: { from(x: unknown[]): ArrayLike<unknown> } }).constructor;
  return C.from(values);
}

async function runMapBatches(
  t: Table,
  step: Extract<Step, { kind: 'mapBatches' }>,
  index: number,
  instances: Instances | undefined,
): Promise<Table> {
  let call: AnyFn;
  if (step.isClass) {
    let inst: object | undefined;
    if (instances) inst = instances.get(`step${index}`);
    else {
      const k = keyOf(step);
      inst = threadInstances.get(k);
      if (!inst) threadInstances.set(k, (inst = await construct(step)));
    }
    const callable = inst as { call?: AnyFn } | undefined;
    if (!callable || typeof callable.call !== 'function') {
      throw new DataInvalidArgumentError(
        `${step.name}: the class given to mapBatches() must have a call(batch) method.`,
      );
    }
    call = (...a: unknown[]) => (callable.call as AnyFn).apply(callable, a);
  } else {
    call = (await step.fn.resolve()) as AnyFn;
  }
  const n = t.numRows;
  const size = step.batchSize ?? Math.max(n, 1);
  const outs: Table[] = [];
  const hints = step.batchFormat === 'arrow' ? undefined : typeHints(t);
  for (let start = 0, k = 0; start < n || (n === 0 && k === 0); start += size, k++) {
    const batch = n === 0 ? t : t.slice(start, Math.min(n, start + size));
    if (n === 0) break;
    let r: unknown;
    try {
      r = call(toBatch(batch, step.batchFormat), ...step.fnArgs);
      if (r instanceof Promise) r = await r;
    } catch (err) {
      throw userError(step.name, `on batch ${k} (rows ${start}..${start + batch.numRows - 1} of the block)`, err);
    }
    outs.push(fromBatch(r, step.name, hints));
  }
  return concatTables(outs);
}
