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
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
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
    return Promise.reject(new TrainInvalidArgumentError(`setupBackend(): preferred must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(preferred)}.`));
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
