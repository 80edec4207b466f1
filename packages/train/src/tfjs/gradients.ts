/**
 * Data-parallel training helpers for TensorFlow.js: gradients (or weights) packed into one
 * Float32Array so that a single `collective.allreduce` averages them over the worker group,
 * then unpacked into tensors of the original shapes.
 */
import { collective } from '@ray-ts/core';
import * as tf from '@tensorflow/tfjs';
import { TrainInvalidArgumentError } from '../errors.js';

/** Where one tensor lies in a flat buffer. */
export interface TensorLayoutEntry {
  /** Its name, for a layout of a `NamedTensorMap`; its index as a string for an array. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset of its first element in the buffer (elements, not bytes). */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
}

/**
 * How {@link flattenTensors} packed tensors into a buffer; {@link unflatten} reads it back. Plain
 * data (structured-clonable, JSON-serializable), so it can travel with the buffer.
 */
export interface TensorLayout<K extends 'array' | 'map' = 'array' | 'map'> {
  /** Whether the tensors came as an array (unflatten returns an array) or a `NamedTensorMap`. */
  readonly kind: K;
  readonly entries: readonly TensorLayoutEntry[];
  /** Total number of elements: the buffer's length. */
  readonly totalSize: number;
}

/** A buffer of packed tensors and its layout. */
export interface FlatTensors<K extends 'array' | 'map' = 'array' | 'map'> {
  readonly buffer: Float32Array;
  readonly layout: TensorLayout<K>;
}

function checkFloat32(t: unknown, name: string, what: string): tf.Tensor {
  // Duck-typed rather than instanceof: a second copy of tfjs-core makes tensors of another class.
  if (
    t === null ||
    typeof t !== 'object' ||
    typeof (t as tf.Tensor).dataSync !== 'function' ||
    !Array.isArray((t as tf.Tensor).shape)
  ) {
    throw new TrainInvalidArgumentError(
      `${what}: '${name}' is not a tf.Tensor (got ${t === null ? 'null' : typeof t}).`,
    );
  }
  const tensor = t as tf.Tensor;
  if (tensor.isDisposed) throw new TrainInvalidArgumentError(`${what}: tensor '${name}' is already disposed.`);
  if (tensor.dtype !== 'float32') {
    throw new TrainInvalidArgumentError(
      `${what}: tensor '${name}' has dtype ${tensor.dtype}; only float32 tensors are packed (cast it first: tf.cast(t, 'float32')).`,
    );
  }
  return tensor;
}

/**
 * Packs float32 tensors into one new Float32Array, in order: an array in its order, a
 * `NamedTensorMap` in the sorted order of its names (so workers that built their maps in
 * different orders still agree on the layout). The tensors are read (synchronously) and left
 * as they are: the caller still owns them.
 *
 * @throws TrainInvalidArgumentError for an entry that is not a live float32 tensor.
 * @example
 * const { buffer, layout } = flattenTensors(grads);
 * await collective.allreduce(buffer, { groupName, op: 'mean' });
 * const averaged = unflatten(buffer, layout);
 */
export function flattenTensors(tensors: readonly tf.Tensor[]): FlatTensors<'array'>;
export function flattenTensors(tensors: tf.NamedTensorMap): FlatTensors<'map'>;
export function flattenTensors(tensors: readonly tf.Tensor[] | tf.NamedTensorMap): FlatTensors;
export function flattenTensors(tensors: readonly tf.Tensor[] | tf.NamedTensorMap): FlatTensors {
  const what = 'flattenTensors()';
  if (tensors === null || typeof tensors !== 'object') {
    throw new TrainInvalidArgumentError(
      `${what} takes an array of tensors or a NamedTensorMap, got ${tensors === null ? 'null' : typeof tensors}.`,
    );
  }
  const isArray = Array.isArray(tensors);
  const named: [string, tf.Tensor][] = isArray
    ? (tensors as readonly tf.Tensor[]).map((t, i) => [String(i), checkFloat32(t, String(i), what)])
    : Object.keys(tensors)
        .sort()
        .map((k) => [k, checkFloat32((tensors as tf.NamedTensorMap)[k], k, what)]);
  const entries: TensorLayoutEntry[] = [];
  let offset = 0;
  for (const [name, t] of named) {
    entries.push({ name, shape: [...t.shape], offset, size: t.size });
    offset += t.size;
  }
  const buffer = new Float32Array(offset);
  for (let i = 0; i < named.length; i++) buffer.set(named[i][1].dataSync() as Float32Array, entries[i].offset);
  return { buffer, layout: { kind: isArray ? 'array' : 'map', entries, totalSize: offset } };
}

/**
 * Unpacks a buffer written by {@link flattenTensors} (or reduced since) into new float32
 * tensors of the layout's shapes: an array or a `NamedTensorMap`, as was flattened. The tensors
 * copy their data (later changes to `buffer` do not reach them) and belong to the caller, who
 * disposes them.
 *
 * @throws TrainInvalidArgumentError when `buffer` is not a Float32Array of `layout.totalSize` elements.
 */
export function unflatten(buffer: Float32Array, layout: TensorLayout<'array'>): tf.Tensor[];
export function unflatten(buffer: Float32Array, layout: TensorLayout<'map'>): tf.NamedTensorMap;
export function unflatten(buffer: Float32Array, layout: TensorLayout): tf.Tensor[] | tf.NamedTensorMap;
export function unflatten(buffer: Float32Array, layout: TensorLayout): tf.Tensor[] | tf.NamedTensorMap {
  if (!(buffer instanceof Float32Array)) {
    throw new TrainInvalidArgumentError(
      `unflatten() takes a Float32Array, got ${ArrayBuffer.isView(buffer) ? (buffer as object).constructor.name : typeof buffer}.`,
    );
  }
  if (layout === null || typeof layout !== 'object' || !Array.isArray(layout.entries)) {
    throw new TrainInvalidArgumentError('unflatten() takes the layout that flattenTensors() returned with the buffer.');
  }
  if (buffer.length !== layout.totalSize) {
    throw new TrainInvalidArgumentError(
      `unflatten(): the buffer has ${buffer.length} elements but the layout describes ${layout.totalSize}; pass the layout flattenTensors() returned with this buffer.`,
    );
  }
  const tensors = layout.entries.map((e) =>
    tf.tensor(buffer.slice(e.offset, e.offset + e.size), [...e.shape], 'float32'),
  );
  if (layout.kind === 'array') return tensors;
  const map: tf.NamedTensorMap = {};
  layout.entries.forEach((e, i) => (map[e.name] = tensors[i]));
  return map;
}

/** The allreduce {@link averageGradients} calls: `collective.allreduce`'s shape. */
export type AllreduceFn = (
  array: Float32Array,
  opts: { groupName: string; op: 'mean'; timeoutMs?: number },
) => Promise<Float32Array>;

/** Options of {@link averageGradients} and {@link applyAveragedGradients}. */
export interface AverageGradientsOptions {
  /** Fail with `CollectiveTimeoutError` if a worker is not heard from within this (collective's default: 10 min). */
  timeoutMs?: number;
  /** Dispose the input gradients once they are packed (default false for averageGradients, true for applyAveragedGradients). */
  disposeInput?: boolean;
  /** The allreduce to call (default `collective.allreduce` of `@ray-ts/core`); tests pass a fake. */
  allreduce?: AllreduceFn;
}

/**
 * Averages gradients over the workers of a collective group: packs them into one Float32Array,
 * calls `collective.allreduce(buffer, { groupName, op: 'mean' })` once, and unpacks. Every worker
 * of the group must call it with gradients of the same names and shapes (as from the same model
 * and optimizer), and resolves to the same values (bit-identical on every worker).
 *
 * Runs inside a group member (a Train worker, an actor): the collective API is not available in
 * the driver. The returned tensors are new and belong to the caller; the input gradients are
 * kept unless `disposeInput`.
 *
 * @param grads gradients by variable name, as from `optimizer.computeGradients()` or `tf.variableGrads()`.
 * @param groupName the collective group (Train's `getContext().collectiveGroup`).
 * @throws TrainInvalidArgumentError for gradients that are not live float32 tensors; the
 *   allreduce's own errors (e.g. `CollectiveTimeoutError`) pass through.
 * @example
 * const { value, grads } = optimizer.computeGradients(() => loss(model, xs, ys));
 * const averaged = await averageGradients(grads, ctx.collectiveGroup, { disposeInput: true });
 * optimizer.applyGradients(averaged);
 * tf.dispose([value, averaged]);
 */
export async function averageGradients(
  grads: tf.NamedTensorMap,
  groupName: string,
  opts: AverageGradientsOptions = {},
): Promise<tf.NamedTensorMap> {
  if (typeof groupName !== 'string' || groupName.length === 0) {
    throw new TrainInvalidArgumentError(
      `averageGradients() needs the collective group's name (a non-empty string), got ${JSON.stringify(groupName)}.`,
    );
  }
  if (grads === null || typeof grads !== 'object' || Array.isArray(grads)) {
    throw new TrainInvalidArgumentError(
      'averageGradients() takes gradients as a NamedTensorMap ({ [variableName]: tf.Tensor }).',
    );
  }
  const { buffer, layout } = flattenTensors(grads);
  if (opts.disposeInput) tf.dispose(grads);
  const allreduce: AllreduceFn = opts.allreduce ?? ((a, o) => collective.allreduce(a, o));
  const reduced = await allreduce(buffer, {
    groupName,
    op: 'mean',
    ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
  });
  return unflatten(reduced, layout);
}

/**
 * One data-parallel optimizer step: averages `grads` over the group ({@link averageGradients}),
 * applies the average with `optimizer.applyGradients`, and disposes the averaged tensors and,
 * unless `disposeInput: false`, the input gradients.
 *
 * @example
 * const { value, grads } = optimizer.computeGradients(() => loss(model, xs, ys));
 * await applyAveragedGradients(optimizer, grads, ctx.collectiveGroup);
 * const lossValue = (await value.data())[0];
 * value.dispose();
 */
export async function applyAveragedGradients(
  optimizer: tf.Optimizer,
  grads: tf.NamedTensorMap,
  groupName: string,
  opts: AverageGradientsOptions = {},
): Promise<void> {
  const averaged = await averageGradients(grads, groupName, { ...opts, disposeInput: opts.disposeInput ?? true });
  try {
    optimizer.applyGradients(averaged);
  } finally {
    tf.dispose(averaged);
  }
}
