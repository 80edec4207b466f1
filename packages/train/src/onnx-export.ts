/**
 * Exporting a trained stack of dense layers (a tfjs `Sequential` of `dense` layers, or its
 * weights as plain arrays) as an ONNX model, for serving with onnxruntime (`@ray-ts/serve`,
 * Data's batch inference) without TensorFlow. The ModelProto is encoded with protobufjs from the
 * subset of `onnx/onnx.proto` below (official field numbers); ir_version 8, opset 17.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import protobuf from 'protobufjs';
import type * as tf from '@tensorflow/tfjs';
import { TrainInvalidArgumentError } from './errors.js';

/** The activations {@link exportDenseToOnnx} can export (tfjs names). */
export type OnnxActivation = 'relu' | 'linear' | 'sigmoid' | 'tanh' | 'softmax';

/** One dense layer: `y = activation(x · kernel + bias)`. */
export interface DenseLayerSpec {
  /** Row-major `[inDim, outDim]` (tfjs's layout: `kernel[i * outDim + j]` links input i to output j). */
  readonly kernel: Float32Array;
  /** `[outDim]`; omit for a layer without bias. */
  readonly bias?: Float32Array;
  readonly inDim: number;
  readonly outDim: number;
  readonly activation: OnnxActivation;
}

/** A stack of dense layers, the first taking the model's input, each the previous one's output. */
export interface DenseModelSpec {
  readonly layers: readonly DenseLayerSpec[];
}

/** Options of {@link exportDenseToOnnx} and {@link encodeDenseOnnx}. */
export interface OnnxExportOptions {
  /** The graph input's name (default `'x'`); its shape is `[batch, inDim]`, float32. */
  inputName?: string;
  /** The graph output's name (default `'y'`); its shape is `[batch, outDim]`, float32. */
  outputName?: string;
  /** Name of the graph (default `'dense'`). */
  graphName?: string;
  /** The model's `doc_string` (default: a summary such as `dense 4->8 relu->3 softmax`). */
  docString?: string;
  /** The model's `producer_name` (default `'@ray-ts/train'`). */
  producerName?: string;
}

/** What {@link exportDenseToOnnx} wrote. */
export interface OnnxExportResult {
  readonly path: string;
  readonly bytes: number;
  readonly inDim: number;
  readonly outDim: number;
  readonly inputName: string;
  readonly outputName: string;
}

const ACTIVATIONS: readonly OnnxActivation[] = ['relu', 'linear', 'sigmoid', 'tanh', 'softmax'];
const ONNX_OP: Record<Exclude<OnnxActivation, 'linear'>, string> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
};
/** tfjs layer classes exported as nothing at inference time. */
const PASS_THROUGH_LAYERS = new Set(['InputLayer', 'Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);
const SUPPORTED = `Dense (activation ${ACTIVATIONS.join(', ')}), Activation (same activations), and InputLayer, Dropout, GaussianNoise, GaussianDropout, AlphaDropout (no-ops at inference)`;

// The subset of onnx/onnx.proto (proto2) needed to write a model, field numbers as upstream.
const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated float floats = 7;
  repeated int64 ints = 8;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}
`;

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT
const IR_VERSION = 8;
const OPSET = 17;
/** protobuf messages cannot exceed 2 GiB. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

let modelProtoType: protobuf.Type | undefined;

function isLayersModel(m: unknown): m is tf.LayersModel {
  return typeof (m as tf.LayersModel).predict === 'function' && typeof (m as tf.LayersModel).getLayer === 'function';
}

function isActivation(a: unknown): a is OnnxActivation {
  return typeof a === 'string' && (ACTIVATIONS as readonly string[]).includes(a);
}

/** A tfjs activation config value as a name: a string, or `{ className }` for a serialized one. */
function activationName(a: unknown): string {
  if (a === undefined || a === null) return 'linear';
  if (typeof a === 'string') return a;
  if (typeof a === 'object' && 'className' in a) return String((a as { className: unknown }).className);
  return String(a);
}

function unsupportedActivation(layer: string, a: string): TrainInvalidArgumentError {
  return new TrainInvalidArgumentError(
    `exportDenseToOnnx(): layer '${layer}' has activation '${a}', which is not supported; supported activations: ${ACTIVATIONS.join(', ')}.`,
  );
}

/** A step of the exported graph: a dense layer, or an activation on its own. */
type Step =
  | { kind: 'dense'; name: string; layer: DenseLayerSpec }
  | { kind: 'activation'; name: string; activation: OnnxActivation };

/**
 * Reads a tfjs model as steps. Only a chain qualifies: one input of shape `[null, n]`, one
 * output, and every layer fed by the one before it.
 */
function stepsOfLayersModel(model: tf.LayersModel): Step[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TrainInvalidArgumentError(
      `exportDenseToOnnx(): model '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs; only a chain of layers with one input and one output can be exported.`,
    );
  }
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 2) {
    throw new TrainInvalidArgumentError(
      `exportDenseToOnnx(): model '${model.name}' takes inputs of shape [${inShape.map((d) => d ?? 'null').join(', ')}]; only [batch, features] inputs are supported.`,
    );
  }
  const steps: Step[] = [];
  let previous: tf.layers.Layer | undefined;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const inbound = layer.inboundNodes.flatMap((n) => n.inboundLayers);
    if (
      layer.inboundNodes.length > 1 ||
      inbound.length > 1 ||
      (previous !== undefined && inbound[0] !== previous && cls !== 'InputLayer')
    ) {
      throw new TrainInvalidArgumentError(
        `exportDenseToOnnx(): layer '${layer.name}' is not fed by the layer before it (or is shared); only a plain chain of layers can be exported.`,
      );
    }
    previous = layer;
    if (PASS_THROUGH_LAYERS.has(cls)) continue;
    const config = layer.getConfig();
    if (cls === 'Activation') {
      const a = activationName(config.activation);
      if (!isActivation(a)) throw unsupportedActivation(layer.name, a);
      steps.push({ kind: 'activation', name: layer.name, activation: a });
      continue;
    }
    if (cls !== 'Dense') {
      throw new TrainInvalidArgumentError(
        `exportDenseToOnnx(): layer '${layer.name}' is a ${cls}, which cannot be exported; supported layers: ${SUPPORTED}.`,
      );
    }
    const a = activationName(config.activation);
    if (!isActivation(a)) throw unsupportedActivation(layer.name, a);
    const weights = layer.getWeights();
    const kernel = weights[0];
    if (kernel === undefined || kernel.shape.length !== 2) {
      throw new TrainInvalidArgumentError(
        `exportDenseToOnnx(): layer '${layer.name}' has no 2-D kernel (is its input 2-D [batch, features]?); got weights of shapes ${JSON.stringify(weights.map((w) => w.shape))}.`,
      );
    }
    const [inDim, outDim] = kernel.shape as [number, number];
    const bias = config.useBias === false ? undefined : weights[1];
    steps.push({
      kind: 'dense',
      name: layer.name,
      layer: {
        kernel: Float32Array.from(kernel.dataSync()),
        ...(bias !== undefined && { bias: Float32Array.from(bias.dataSync()) }),
        inDim,
        outDim,
        activation: a,
      },
    });
  }
  return steps;
}

function stepsOfSpec(spec: DenseModelSpec): Step[] {
  if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.layers)) {
    throw new TrainInvalidArgumentError(
      'exportDenseToOnnx() takes a tf.LayersModel or { layers: [{ kernel, bias, inDim, outDim, activation }, ...] }.',
    );
  }
  return spec.layers.map((l, i) => {
    const name = `layers[${i}]`;
    if (l === null || typeof l !== 'object')
      throw new TrainInvalidArgumentError(`exportDenseToOnnx(): ${name} is not a layer spec object.`);
    for (const d of ['inDim', 'outDim'] as const) {
      if (!Number.isInteger(l[d]) || l[d] < 1)
        throw new TrainInvalidArgumentError(
          `exportDenseToOnnx(): ${name}.${d} must be a positive integer, got ${String(l[d])}.`,
        );
    }
    if (!(l.kernel instanceof Float32Array) || l.kernel.length !== l.inDim * l.outDim) {
      throw new TrainInvalidArgumentError(
        `exportDenseToOnnx(): ${name}.kernel must be a Float32Array of inDim * outDim = ${l.inDim * l.outDim} elements (row-major [inDim, outDim]), got ${l.kernel instanceof Float32Array ? `${l.kernel.length} elements` : typeof l.kernel}.`,
      );
    }
    if (l.bias !== undefined && (!(l.bias instanceof Float32Array) || l.bias.length !== l.outDim)) {
      throw new TrainInvalidArgumentError(
        `exportDenseToOnnx(): ${name}.bias must be a Float32Array of outDim = ${l.outDim} elements, got ${l.bias instanceof Float32Array ? `${l.bias.length} elements` : typeof l.bias}.`,
      );
    }
    if (!isActivation(l.activation)) throw unsupportedActivation(name, String(l.activation));
    return { kind: 'dense', name: `dense_${i}`, layer: l };
  });
}

function summary(steps: readonly Step[], inDim: number): string {
  return (
    `dense ${inDim}` +
    steps
      .map((s) =>
        s.kind === 'dense'
          ? `->${s.layer.outDim}${s.layer.activation === 'linear' ? '' : ` ${s.layer.activation}`}`
          : ` ${s.activation}`,
      )
      .join('')
  );
}

/** A valid ONNX name for a node or tensor from a tfjs layer name (which may contain '/'). */
function onnxName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * Encodes a stack of dense layers as the bytes of an ONNX model (see {@link exportDenseToOnnx}),
 * for callers that keep the model in memory (an object store, a Serve deployment).
 * @throws TrainInvalidArgumentError as {@link exportDenseToOnnx}.
 */
export function encodeDenseOnnx(model: tf.LayersModel | DenseModelSpec, opts: OnnxExportOptions = {}): Uint8Array {
  return buildDenseOnnx(model, opts).bytes;
}

function buildDenseOnnx(
  model: tf.LayersModel | DenseModelSpec,
  opts: OnnxExportOptions,
): { bytes: Uint8Array; inDim: number; outDim: number } {
  const inputName = opts.inputName ?? 'x';
  const outputName = opts.outputName ?? 'y';
  for (const [k, v] of [
    ['inputName', inputName],
    ['outputName', outputName],
  ] as const) {
    if (typeof v !== 'string' || v.length === 0)
      throw new TrainInvalidArgumentError(
        `exportDenseToOnnx(): ${k} must be a non-empty string, got ${JSON.stringify(v)}.`,
      );
  }
  if (inputName === outputName)
    throw new TrainInvalidArgumentError(
      `exportDenseToOnnx(): inputName and outputName must differ (both are '${inputName}').`,
    );

  const steps = isLayersModel(model) ? stepsOfLayersModel(model) : stepsOfSpec(model);
  const dense = steps.filter((s): s is Extract<Step, { kind: 'dense' }> => s.kind === 'dense');
  if (dense.length === 0)
    throw new TrainInvalidArgumentError('exportDenseToOnnx(): the model has no dense layer to export.');
  for (let i = 1; i < dense.length; i++) {
    if (dense[i].layer.inDim !== dense[i - 1].layer.outDim) {
      throw new TrainInvalidArgumentError(
        `exportDenseToOnnx(): ${dense[i].name} takes ${dense[i].layer.inDim} inputs but ${dense[i - 1].name} gives ${dense[i - 1].layer.outDim} outputs.`,
      );
    }
  }
  const inDim = dense[0].layer.inDim;
  const outDim = dense[dense.length - 1].layer.outDim;

  const nodes: object[] = [];
  const initializer: object[] = [];
  // Each op reads `current` and writes a fresh name; the last op writes the output's name instead.
  const ops: { opType: string; name: string; inputs: string[]; attribute?: object[] }[] = [];
  const activationOp = (a: OnnxActivation, name: string): void => {
    if (a === 'linear') return;
    ops.push({
      opType: ONNX_OP[a],
      name,
      inputs: [],
      // tfjs applies softmax over the last axis; ONNX's default (opset 13+) is also -1, said explicitly.
      ...(a === 'softmax' && { attribute: [{ name: 'axis', type: ATTR_INT, i: -1 }] }),
    });
  };
  steps.forEach((s, i) => {
    const base = `${i}_${onnxName(s.name)}`;
    if (s.kind === 'activation') return activationOp(s.activation, `${base}_${s.activation}`);
    const w = `${base}_kernel`;
    initializer.push(tensorProto(w, [s.layer.inDim, s.layer.outDim], s.layer.kernel));
    const inputs = [w];
    if (s.layer.bias !== undefined) {
      initializer.push(tensorProto(`${base}_bias`, [s.layer.outDim], s.layer.bias));
      inputs.push(`${base}_bias`);
    }
    ops.push({ opType: 'Gemm', name: `${base}_gemm`, inputs });
    activationOp(s.layer.activation, `${base}_${s.layer.activation}`);
  });
  let current = inputName;
  ops.forEach((op, i) => {
    const out = i === ops.length - 1 ? outputName : `${op.name}_out`;
    nodes.push({
      name: op.name,
      op_type: op.opType,
      domain: '',
      input: [current, ...op.inputs],
      output: [out],
      ...(op.attribute && { attribute: op.attribute }),
    });
    current = out;
  });

  const valueInfo = (name: string, cols: number) => ({
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: 'batch' }, { dim_value: cols }] } } },
  });
  const bytes = encodeOnnxModel({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: opts.producerName ?? '@ray-ts/train',
    producer_version: '1',
    model_version: 1,
    doc_string: opts.docString ?? summary(steps, inDim),
    graph: {
      name: opts.graphName ?? 'dense',
      node: nodes,
      initializer,
      input: [valueInfo(inputName, inDim)],
      output: [valueInfo(outputName, outDim)],
    },
  });
  return { bytes, inDim, outDim };
}

function tensorProto(name: string, dims: number[], data: Float32Array): object {
  // raw_data is little-endian float32 (as on every platform Node runs on); copy so that a
  // subarray view's neighbours do not leak in.
  const copy = new Float32Array(data);
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength) };
}

/**
 * Encodes an ONNX ModelProto given as a plain object, field names as in onnx.proto (e.g.
 * `{ ir_version, opset_import, graph: { node, initializer, input, output } }`, tensors with
 * `dims`, `data_type` and `raw_data`), to its bytes. Only the subset of onnx.proto above is
 * known; an object outside it throws. {@link encodeDenseOnnx} builds its models with it.
 */
export function encodeOnnxModel(model: object): Uint8Array {
  modelProtoType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  const err = modelProtoType.verify(model);
  if (err) throw new TrainInvalidArgumentError(`encodeOnnxModel(): invalid ModelProto: ${err}`);
  const bytes = modelProtoType.encode(modelProtoType.fromObject(model)).finish();
  if (bytes.length > MAX_MODEL_BYTES)
    throw new TrainInvalidArgumentError(
      `encodeOnnxModel(): the model takes ${bytes.length} bytes, over ONNX's 2 GiB limit for a single file.`,
    );
  return bytes;
}

/**
 * Writes a stack of dense layers as an ONNX model (ir_version 8, opset 17) to `path`: one `Gemm`
 * per dense layer (weights as float32 initializers) followed by its activation (`Relu`,
 * `Sigmoid`, `Tanh`, `Softmax` over the last axis; none for `linear`). The graph takes
 * `x: float32[batch, inDim]` and gives `y: float32[batch, outDim]` (names configurable), so it
 * loads in onnxruntime as is. The parent folder is created if needed; the file is replaced.
 *
 * `model` is either a tfjs `LayersModel` made of a chain of supported layers (Dense with a
 * supported activation, Activation, and the inference no-ops InputLayer and Dropout-like
 * layers), or the layers' weights as plain arrays (`{ layers: [{ kernel, bias, inDim, outDim,
 * activation }] }`, kernels row-major `[inDim, outDim]`).
 *
 * @returns where it wrote, the file's size, and the model's input and output widths and names.
 * @throws TrainInvalidArgumentError for an unsupported layer (naming it and listing what is
 *   supported), an unsupported activation, a model that is not a single chain with 2-D input,
 *   inconsistent layer sizes, or bad options.
 * @example
 * const model = tf.sequential({ layers: [
 *   tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *   tf.layers.dense({ units: 3, activation: 'softmax' }),
 * ] });
 * await exportDenseToOnnx(model, '/tmp/model.onnx');
 * const session = await ort.InferenceSession.create('/tmp/model.onnx');   // input 'x', output 'y'
 */
export async function exportDenseToOnnx(
  model: tf.LayersModel | DenseModelSpec,
  path: string,
  opts: OnnxExportOptions = {},
): Promise<OnnxExportResult> {
  if (typeof path !== 'string' || path.length === 0)
    throw new TrainInvalidArgumentError(`exportDenseToOnnx() needs a file path, got ${JSON.stringify(path)}.`);
  const { bytes, inDim, outDim } = buildDenseOnnx(model, opts);
  const file = resolve(path);
  await fsp.mkdir(dirname(file), { recursive: true });
  // Through a temporary file and a rename, so a reader (a Serve replica) never sees half a model.
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fsp.writeFile(tmp, bytes);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  return {
    path: file,
    bytes: bytes.length,
    inDim,
    outDim,
    inputName: opts.inputName ?? 'x',
    outputName: opts.outputName ?? 'y',
  };
}
