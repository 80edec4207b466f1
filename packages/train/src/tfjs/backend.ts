/**
 * Choosing the TensorFlow.js backend of a training worker: native TensorFlow when
 * `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` is installed, else WebAssembly
 * (`@tensorflow/tfjs-backend-wasm`, its `.wasm` files found in the installed package), else plain
 * JavaScript (`cpu`). Each worker thread has its own tfjs engine, so each calls
 * {@link setupBackend} once at the start of its training loop.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TrainInvalidArgumentError } from '../errors.js';

/** A backend {@link setupBackend} can pick: native TensorFlow, WebAssembly or plain JavaScript. */
export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

const BACKENDS: readonly TfjsBackendName[] = ['tensorflow', 'wasm', 'cpu'];
/** The native bindings, GPU first; either registers the 'tensorflow' backend when imported. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const WASM_FILE = 'tfjs-backend-wasm.wasm';

const require = createRequire(import.meta.url);

// One setup at a time per thread (module state is per thread: worker threads each have theirs).
let setup: { preferred: TfjsBackendName | undefined; done: Promise<TfjsBackendName> } | undefined;
let wasmPathsSet = false;

/**
 * Tries to make the native backend available. The bindings are imported by a computed name
 * because they are optional: neither is a dependency of this package.
 */
async function registerNative(): Promise<boolean> {
  if (tf.findBackendFactory('tensorflow') !== null) return true;
  for (const name of NATIVE_PACKAGES) {
    try {
      const specifier: string = name;
      await import(specifier);
    } catch {
      continue; // not installed, or its native library does not load here (no CUDA, ...)
    }
    // A binding that brought its own copy of tfjs-core registers with that copy, not ours.
    if (tf.findBackendFactory('tensorflow') !== null) return true;
  }
  return false;
}

/** The folder holding the wasm backend's `.wasm` files, with a trailing separator; null if not found. */
function wasmDir(): string | null {
  try {
    // The package's `main` is dist/tf-backend-wasm.node.js, next to the .wasm files.
    const dir = path.dirname(require.resolve(WASM_PACKAGE));
    return existsSync(path.join(dir, WASM_FILE)) ? dir + path.sep : null;
  } catch {
    return null;
  }
}

async function registerWasm(): Promise<boolean> {
  const dir = wasmDir();
  if (dir === null) return false;
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      try {
        wasm.setWasmPaths(dir);
      } catch {
        // It throws after a failed initialization (then the wasm backend is not usable anyway,
        // and setBackend('wasm') fails); after a successful one the paths no longer matter.
      }
      wasmPathsSet = true;
    }
    return tf.findBackendFactory('wasm') !== null;
  } catch {
    return false;
  }
}

async function trySet(name: TfjsBackendName): Promise<boolean> {
  const available = name === 'tensorflow' ? await registerNative() : name === 'wasm' ? await registerWasm() : true;
  if (!available) return false;
  try {
    // setBackend resolves false (with a console warning) when the backend fails to initialize.
    const ok = (await tf.setBackend(name)) && tf.getBackend() === name;
    if (ok && name === 'wasm') patchWasmMatMul();
    return ok;
  } catch {
    return false;
  }
}

let matMulPatched = false;

/**
 * The wasm backend multiplies by a transposed operand 8 to 13 times slower than by a plain one
 * (a 256×256 matMul: 19 ms with transposeA, 12 ms with transposeB, 1.5 ms without, on this
 * project's 2-core VMs), and every dense layer's gradient takes two such products. Its matMul
 * kernels are wrapped here to transpose the operand first (0.26 ms for 256×256) and multiply
 * plainly: training small networks gets several times faster, results are unchanged.
 */
function patchWasmMatMul(): void {
  if (matMulPatched) return;
  matMulPatched = true;
  for (const kernelName of [tf.BatchMatMul, tf._FusedMatMul]) {
    const original = tf.getKernel(kernelName, 'wasm');
    const transpose = tf.getKernel(tf.Transpose, 'wasm');
    if (!original || !transpose) continue;
    const kernelFunc = original.kernelFunc;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      ...original,
      setupFunc: undefined, // ran when the backend started; the original function keeps what it set up
      kernelFunc: (args) => {
        const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
        if (!attrs.transposeA && !attrs.transposeB) return kernelFunc(args);
        const inputs = { ...args.inputs } as Record<string, tf.TensorInfo>;
        const made: tf.TensorInfo[] = [];
        for (const [key, flag] of [
          ['a', attrs.transposeA],
          ['b', attrs.transposeB],
        ] as const) {
          if (!flag) continue;
          const x = inputs[key];
          const perm = x.shape.map((_, i) => i);
          [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
          const t = transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm } }) as tf.TensorInfo;
          made.push(t);
          inputs[key] = t;
        }
        try {
          return kernelFunc({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
        } finally {
          for (const t of made) (args.backend as tf.KernelBackend).disposeData(t.dataId);
        }
      },
    });
  }
}

async function choose(preferred: TfjsBackendName | undefined): Promise<TfjsBackendName> {
  const order = preferred === undefined ? BACKENDS : [preferred, ...BACKENDS.filter((b) => b !== preferred)];
  for (const name of order) if (await trySet(name)) return name;
  throw new Error(`setupBackend(): no TensorFlow.js backend could be initialized (tried ${order.join(', ')}).`);
}

/**
 * Makes a TensorFlow.js backend the current one in this thread and resolves to its name:
 * `preferred` when given and it works here, else the first that works of `'tensorflow'`
 * (needs `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` installed), `'wasm'` (its
 * `.wasm` files are located in the installed `@tensorflow/tfjs-backend-wasm`, so it works from
 * Node without a server) and `'cpu'` (always works).
 *
 * Idempotent: later calls in the same thread resolve to the first call's result without work,
 * unless they name a different `preferred`, which switches backends (tensors made before are
 * still readable; tfjs moves their data on first use). Concurrent calls share one setup. Worker
 * threads have their own tfjs engine, so each thread (each Train worker) calls it once itself.
 *
 * The wasm backend runs single-threaded in Node (tfjs disables its thread pool there), which
 * suits one training worker per core.
 *
 * @param preferred the backend to try first.
 * @throws TrainInvalidArgumentError for a `preferred` other than `'tensorflow'`, `'wasm'` or `'cpu'`.
 * @example
 * const backend = await setupBackend();   // 'tensorflow', 'wasm' or 'cpu'
 * const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
 */
export function setupBackend(preferred?: TfjsBackendName): Promise<TfjsBackendName> {
  if (preferred !== undefined && !BACKENDS.includes(preferred)) {
    return Promise.reject(
      new TrainInvalidArgumentError(
        `setupBackend(): preferred must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(preferred)}.`,
      ),
    );
  }
  if (setup !== undefined && (preferred === undefined || preferred === setup.preferred)) return setup.done;
  const before = setup?.done.catch(() => undefined);
  const done = (async () => {
    await before;
    return choose(preferred);
  })();
  const current = { preferred, done };
  setup = current;
  // A failed setup is not cached, so a later call tries again.
  void done.catch(() => {
    if (setup === current) setup = undefined;
  });
  return done;
}
