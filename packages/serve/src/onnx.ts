/**
 * `onnxDeployment()`: a ready-made deployment that serves an ONNX model with onnxruntime-node
 * over HTTP and through handles, batching the rows of concurrent requests into one
 * `session.run()`.
 *
 * The deployment is defined once, at the top level of this module, so that replicas find its class
 * by importing this module; `onnxDeployment()` binds it to a model's configuration.
 * onnxruntime-node is imported inside replicas only, so importing `@ray-ts/serve` does not load it.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { batch } from './batch.js';
import { deployment, type Application } from './deployment.js';
import { ServeInvalidArgumentError } from './errors.js';
import type { DeploymentOptions } from './options.js';

/** Options of {@link onnxDeployment}: the model, its batching, and the usual deployment options. */
export interface OnnxDeploymentOptions extends DeploymentOptions {
  /**
   * The `.onnx` file. A relative path is resolved against `process.cwd()` when
   * `onnxDeployment()` is called; the file must exist at that absolute path on every node
   * where replicas run.
   */
  modelPath: string;
  /** The model input that rows go to (default: the model's first input). */
  inputName?: string;
  /** The outputs to compute and return (default: all of the model's outputs). */
  outputNames?: string[];
  /** Most rows in one `session.run()` (default 32). */
  maxBatchSize?: number;
  /** Seconds a batch waits for more rows after its first (default 0.005). */
  batchWaitTimeoutS?: number;
  /**
   * Threads of each replica's session (default 1: replicas already run side by side; 0 lets
   * onnxruntime pick, one per core).
   */
  intraOpNumThreads?: number;
}

/** What each replica's constructor gets: the model part of {@link OnnxDeploymentOptions}, compiled. */
interface OnnxModelConfig {
  modelPath: string;
  inputName: string | undefined;
  outputNames: string[] | undefined;
  maxBatchSize: number;
  batchWaitTimeoutS: number;
  intraOpNumThreads: number;
}

/** Batching seen by one replica, from `handle.stats.remote()`. */
export interface OnnxBatchStats {
  /** `session.run()` calls so far. */
  batches: number;
  /** Rows predicted so far. */
  rows: number;
  /** How many runs had each number of rows, e.g. `{ 1: 3, 32: 10 }`. */
  batchSizes: Record<number, number>;
}

/** What `GET` answers, and `handle.metadata.remote()`. */
export interface OnnxModelMetadata {
  modelPath: string;
  inputNames: string[];
  /** The outputs it computes and returns (all of the model's, unless `outputNames` was given). */
  outputNames: string[];
  /** The input rows go to. */
  inputName: string;
  /** Values in each row, when the model's input shape fixes it (else any width, the same across a request's rows). */
  inputWidth: number | null;
  /** The input's element type: rows are sent as this type. */
  inputType: 'float32' | 'float64';
}

/**
 * The methods of an ONNX deployment's replicas, for handles (`handle.predict.remote(rows)`).
 * HTTP: `POST` a JSON body `{ "inputs": [...] }` (one row of numbers, or an array of rows) and get
 * `{ "outputs": { <output name>: row or rows } }`; `GET` returns {@link OnnxModelMetadata}.
 */
export interface OnnxModel {
  /** Serves HTTP (see above); bad input gets 400 with a JSON `{ error }` that says what is expected. */
  fetch(request: Request): Promise<Response>;
  /**
   * Predicts rows (each a feature vector of the input's width), batched with other callers'.
   * Returns each output's values, one array per row (flattened when an output row has several dimensions).
   * @throws ServeInvalidArgumentError when the rows are not arrays of numbers of the model's width.
   */
  predict(rows: number[][]): Promise<Record<string, number[][]>>;
  /** The model's inputs and outputs. */
  metadata(): Promise<OnnxModelMetadata>;
  /** How this replica batched so far. */
  stats(): OnnxBatchStats;
}

export type OrtModule = typeof Ort;
type Row = readonly number[];
type RowOutputs = Record<string, number[]>;

interface Loaded {
  ort: OrtModule;
  session: Ort.InferenceSession;
  meta: OnnxModelMetadata;
  /** Dimensions of one row in the input tensor, when the model fixes them. */
  rowDims: number[] | undefined;
}

/** Thrown inside a replica for a request's bad input: answered with 400 over HTTP. */
class BadInput extends ServeInvalidArgumentError {}

/**
 * onnxruntime-node, an optional peer dependency of @ray-ts/serve (~290 MB that only
 * `onnxDeployment` needs): a clear error naming the package when it is not installed.
 */
export async function loadOnnxRuntime(
  importer: () => Promise<unknown> = () => import('onnxruntime-node'),
): Promise<OrtModule> {
  try {
    return (await importer()) as OrtModule;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new ServeInvalidArgumentError(
        'onnxDeployment needs onnxruntime-node, an optional peer dependency of @ray-ts/serve: install it ' +
          'next to your app (npm install onnxruntime-node) on every node that runs its replicas.',
        { cause: err },
      );
    throw err;
  }
}

async function load(config: OnnxModelConfig): Promise<Loaded> {
  const ort = await loadOnnxRuntime();
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(config.modelPath, {
      intraOpNumThreads: config.intraOpNumThreads,
      interOpNumThreads: 1,
    });
  } catch (err) {
    throw new ServeInvalidArgumentError(
      `onnxruntime could not load the ONNX model ${config.modelPath}: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  }
  const inputNames = [...session.inputNames];
  const inputName = config.inputName ?? inputNames[0];
  if (inputName === undefined || !inputNames.includes(inputName)) {
    throw new ServeInvalidArgumentError(
      `The ONNX model ${config.modelPath} has no input '${inputName}'. Its inputs: ${inputNames.join(', ') || 'none'}; set inputName to one of them.`,
    );
  }
  const outputNames = config.outputNames ?? [...session.outputNames];
  const unknown = outputNames.filter((n) => !session.outputNames.includes(n));
  if (unknown.length > 0) {
    throw new ServeInvalidArgumentError(
      `The ONNX model ${config.modelPath} has no output ${unknown.map((n) => `'${n}'`).join(', ')}. Its outputs: ${session.outputNames.join(', ')}.`,
    );
  }
  let rowDims: number[] | undefined;
  let inputType: 'float32' | 'float64' = 'float32';
  const meta = session.inputMetadata?.find((m) => m.name === inputName);
  if (meta?.isTensor) {
    if (meta.type !== 'float32' && meta.type !== 'float64') {
      throw new ServeInvalidArgumentError(
        `The ONNX model's input '${inputName}' holds ${meta.type} values; onnxDeployment() serves models whose input is float32 or float64.`,
      );
    }
    inputType = meta.type;
    // [batch, ...row]: a row's dimensions are known when every one after the batch's is a number.
    const dims = meta.shape.slice(1);
    if (meta.shape.length >= 2 && dims.every((d): d is number => typeof d === 'number' && d > 0)) rowDims = dims;
  }
  return {
    ort,
    session,
    rowDims,
    meta: {
      modelPath: config.modelPath,
      inputNames,
      outputNames,
      inputName,
      inputWidth: rowDims ? rowDims.reduce((a, b) => a * b, 1) : null,
      inputType,
    },
  };
}

/** The replica class. Its constructor's argument is made by {@link onnxDeployment}. */
const OnnxModelDeployment = deployment({ name: 'OnnxModel' })(
  class OnnxModelImpl implements OnnxModel {
    private readonly loaded: Promise<Loaded>;
    private readonly predictRow: (row: Row) => Promise<RowOutputs>;
    private readonly counts = { batches: 0, rows: 0, batchSizes: {} as Record<number, number> };

    constructor(config: OnnxModelConfig) {
      // A missing file fails the deployment now, with a clear message, rather than every request.
      if (!existsSync(config.modelPath) || !statSync(config.modelPath).isFile()) {
        throw new ServeInvalidArgumentError(
          `ONNX model file not found: ${config.modelPath}. Give onnxDeployment() the path of a .onnx file that exists on every node where replicas run.`,
        );
      }
      // Loading starts now; requests wait for it (a constructor cannot).
      this.loaded = load(config);
      this.loaded.catch(() => undefined); // reported by every request that awaits it
      this.predictRow = batch((rows: Row[]) => this.runBatch(rows), {
        maxBatchSize: config.maxBatchSize,
        batchWaitTimeoutS: config.batchWaitTimeoutS,
      });
    }

    async fetch(request: Request): Promise<Response> {
      if (request.method === 'GET' || request.method === 'HEAD') return Response.json(await this.metadata());
      if (request.method !== 'POST') {
        return Response.json(
          {
            error: `Use POST with a JSON body {"inputs": [...]}, or GET for the model's metadata; got ${request.method}.`,
          },
          {
            status: 405,
            headers: { allow: 'GET, HEAD, POST' },
          },
        );
      }
      const { meta } = await this.loaded;
      let rows: Row[];
      let single: boolean;
      try {
        let body: unknown;
        try {
          body = JSON.parse(await request.text());
        } catch {
          throw new BadInput(`The request body is not JSON. ${expected(meta)}`);
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body) || !('inputs' in body)) {
          throw new BadInput(`The request body has no "inputs". ${expected(meta)}`);
        }
        const inputs = (body as { inputs: unknown }).inputs;
        single = Array.isArray(inputs) && inputs.length > 0 && !Array.isArray(inputs[0]);
        rows = this.checkRows(single ? [inputs] : inputs, meta);
      } catch (err) {
        if (err instanceof BadInput) return Response.json({ error: err.message }, { status: 400 });
        throw err;
      }
      const results = await Promise.all(rows.map((r) => this.predictRow(r)));
      const outputs: Record<string, number[] | number[][]> = {};
      for (const name of meta.outputNames) {
        outputs[name] = single ? results[0][name] : results.map((r) => r[name]);
      }
      return Response.json({ outputs });
    }

    async predict(rows: number[][]): Promise<Record<string, number[][]>> {
      const { meta } = await this.loaded;
      const checked = this.checkRows(rows, meta);
      const results = await Promise.all(checked.map((r) => this.predictRow(r)));
      const out: Record<string, number[][]> = {};
      for (const name of Object.keys(results[0])) out[name] = results.map((r) => r[name]);
      return out;
    }

    async metadata(): Promise<OnnxModelMetadata> {
      return (await this.loaded).meta;
    }

    stats(): OnnxBatchStats {
      return { batches: this.counts.batches, rows: this.counts.rows, batchSizes: { ...this.counts.batchSizes } };
    }

    /** Rows of finite numbers, all of the model's width (or, when the model leaves it open, of one width). */
    private checkRows(rows: unknown, meta: OnnxModelMetadata): Row[] {
      if (!Array.isArray(rows) || rows.length === 0)
        throw new BadInput(`"inputs" must be a non-empty array. ${expected(meta)}`);
      const width = meta.inputWidth ?? (Array.isArray(rows[0]) ? rows[0].length : 0);
      rows.forEach((row: unknown, i) => {
        const where = rows.length > 1 ? `Row ${i}` : 'The row';
        if (!Array.isArray(row)) throw new BadInput(`${where} is not an array of numbers. ${expected(meta)}`);
        if (row.length !== width || width === 0) {
          throw new BadInput(
            `${where} has ${row.length} values; ${meta.inputWidth !== null ? `the model takes ${width}` : `expected ${width || 'some'}, the same in every row`}. ${expected(meta)}`,
          );
        }
        const bad = row.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
        if (bad >= 0)
          throw new BadInput(
            `${where} has ${JSON.stringify(row[bad]) ?? String(row[bad])} at index ${bad}, not a finite number. ${expected(meta)}`,
          );
      });
      return rows as Row[];
    }

    /** One session.run() per row width in the batch (one in all, when the model fixes the width). */
    private async runBatch(rows: Row[]): Promise<RowOutputs[]> {
      const results: RowOutputs[] = new Array(rows.length);
      const byWidth = new Map<number, number[]>();
      rows.forEach((r, i) => {
        const group = byWidth.get(r.length);
        if (group) group.push(i);
        else byWidth.set(r.length, [i]);
      });
      for (const [width, indices] of byWidth) {
        const out = await this.run(
          indices.map((i) => rows[i]),
          width,
        );
        indices.forEach((i, k) => (results[i] = out[k]));
      }
      return results;
    }

    private async run(rows: Row[], width: number): Promise<RowOutputs[]> {
      const { ort, session, meta, rowDims } = await this.loaded;
      const n = rows.length;
      const data = meta.inputType === 'float64' ? new Float64Array(n * width) : new Float32Array(n * width);
      rows.forEach((r, i) => data.set(r, i * width));
      const input = new ort.Tensor(meta.inputType, data as Float32Array, [n, ...(rowDims ?? [width])]);
      const fetched = await session.run({ [meta.inputName]: input }, meta.outputNames);
      this.counts.batches++;
      this.counts.rows += n;
      this.counts.batchSizes[n] = (this.counts.batchSizes[n] ?? 0) + 1;
      const results: RowOutputs[] = rows.map(() => ({}));
      for (const name of meta.outputNames) {
        const values = fetched[name].data as ArrayLike<number | bigint | string | boolean>;
        if (values.length % n !== 0) {
          throw new ServeInvalidArgumentError(
            `The ONNX model's output '${name}' has ${values.length} values for a batch of ${n} rows: onnxDeployment() needs outputs whose first dimension is the batch.`,
          );
        }
        const per = values.length / n;
        for (let i = 0; i < n; i++)
          results[i][name] = Array.from({ length: per }, (_, k) => Number(values[i * per + k]));
      }
      return results;
    }
  },
);

function expected(meta: OnnxModelMetadata): string {
  const w = meta.inputWidth;
  return (
    `Expected a JSON body {"inputs": row} or {"inputs": [row, ...]}, each row ${w !== null ? `${w} numbers` : 'an array of numbers'} ` +
    `(the model's input '${meta.inputName}').`
  );
}

const modelKeys = [
  'modelPath',
  'inputName',
  'outputNames',
  'maxBatchSize',
  'batchWaitTimeoutS',
  'intraOpNumThreads',
] as const;

/**
 * A deployment that serves an ONNX model with onnxruntime-node, bound to the model: give it to
 * `serve.run()`. Each replica loads the model once; the rows of concurrent requests, from any
 * number of clients, are batched into one `session.run()` on an `[N, width]` tensor (up to
 * `maxBatchSize` rows, waiting at most `batchWaitTimeoutS` for more).
 *
 * HTTP: `POST {"inputs": [0.1, 0.2, ...]}` (one row) answers `{"outputs": {"y": [...]}}`;
 * `POST {"inputs": [[...], [...]]}` (rows) answers `{"outputs": {"y": [[...], [...]]}}`;
 * `GET` answers the model's metadata. Bad input gets 400 with `{"error": ...}` saying what is
 * expected. Through a handle: `predict(rows)`, `metadata()`, `stats()` (see {@link OnnxModel}).
 *
 * The deployment is named `'OnnxModel'` unless `name` is given, and allows `2 * maxBatchSize`
 * ongoing requests per replica unless `maxOngoingRequests` is given, so a replica fills its
 * next batch while one runs.
 * @throws ServeInvalidArgumentError for invalid options. A model file missing on a replica's
 *   node fails `serve.run()` with DeployFailedError; a file onnxruntime cannot load fails the
 *   requests with its message.
 * @example
 * const handle = await serve.run(onnxDeployment({ modelPath: '/models/mlp.onnx', numReplicas: 2 }), { routePrefix: '/mlp' });
 * // curl -d '{"inputs": [[0.1, 0.2, ...]]}' http://127.0.0.1:8000/mlp
 * const { y } = await handle.predict.remote([[0.1, 0.2, ...]]);
 */
export function onnxDeployment(opts: OnnxDeploymentOptions): Application<new (...args: never[]) => OnnxModel> {
  if (opts === null || typeof opts !== 'object')
    throw new ServeInvalidArgumentError('onnxDeployment() takes an options object: onnxDeployment({ modelPath }).');
  const what = 'onnxDeployment()';
  if (typeof opts.modelPath !== 'string' || opts.modelPath === '') {
    throw new ServeInvalidArgumentError(
      `${what} needs modelPath: the path of a .onnx file, e.g. onnxDeployment({ modelPath: '/models/model.onnx' }).`,
    );
  }
  if (opts.inputName !== undefined && (typeof opts.inputName !== 'string' || opts.inputName === '')) {
    throw new ServeInvalidArgumentError(
      `Invalid inputName for ${what}: ${JSON.stringify(opts.inputName)}. Expected the name of one of the model's inputs.`,
    );
  }
  if (
    opts.outputNames !== undefined &&
    (!Array.isArray(opts.outputNames) ||
      opts.outputNames.length === 0 ||
      !opts.outputNames.every((n) => typeof n === 'string' && n !== ''))
  ) {
    throw new ServeInvalidArgumentError(
      `Invalid outputNames for ${what}: ${JSON.stringify(opts.outputNames)}. Expected a non-empty array of output names.`,
    );
  }
  const int = (key: 'maxBatchSize' | 'intraOpNumThreads', min: number, dflt: number): number => {
    const v = opts[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new ServeInvalidArgumentError(
        `Invalid ${key} for ${what}: ${JSON.stringify(v)}. Expected an integer >= ${min}.`,
      );
    }
    return v;
  };
  const maxBatchSize = int('maxBatchSize', 1, 32);
  const intraOpNumThreads = int('intraOpNumThreads', 0, 1);
  const batchWaitTimeoutS = opts.batchWaitTimeoutS ?? 0.005;
  if (typeof batchWaitTimeoutS !== 'number' || !Number.isFinite(batchWaitTimeoutS) || batchWaitTimeoutS < 0) {
    throw new ServeInvalidArgumentError(
      `Invalid batchWaitTimeoutS for ${what}: ${JSON.stringify(batchWaitTimeoutS)}. Expected seconds >= 0.`,
    );
  }
  if (opts.userConfig !== undefined) {
    throw new ServeInvalidArgumentError(
      `${what} takes no userConfig: the model is configured by its options (modelPath, inputName, ...).`,
    );
  }
  const config: OnnxModelConfig = {
    modelPath: path.resolve(process.cwd(), opts.modelPath),
    inputName: opts.inputName,
    outputNames: opts.outputNames ? [...opts.outputNames] : undefined,
    maxBatchSize,
    batchWaitTimeoutS,
    intraOpNumThreads,
  };
  const deploymentOpts: DeploymentOptions = { maxOngoingRequests: 2 * maxBatchSize };
  for (const [k, v] of Object.entries(opts)) {
    if (!(modelKeys as readonly string[]).includes(k) && v !== undefined)
      (deploymentOpts as Record<string, unknown>)[k] = v;
  }
  return OnnxModelDeployment.options(deploymentOpts).bind(config) as unknown as Application<
    new (...args: never[]) => OnnxModel
  >;
}
