/**
 * An algorithm's checkpoint folder: `algorithm_state.json` (config, counters, recent episodes and
 * the learners' state), `weights.bin` (the flat weights), and the learners' typed arrays (a replay
 * buffer's columns...) as binary files under `arrays/`, since JSON would spell each float out.
 * The folder is written whole or not at all (Tune's atomic folder write): saving again into the
 * same folder replaces the previous checkpoint only once the new one is complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import { recoverDir, writeDirAtomic } from '@ray-ts/tune/internal';
import { RLlibInvalidArgumentError } from './env/errors.js';

const STATE_FILE = 'algorithm_state.json';
const WEIGHTS_FILE = 'weights.bin';
const ARRAYS_DIR = 'arrays';
const ARRAY_TYPES = { Float32Array, Float64Array, Int32Array, Uint8Array } as const;

/** What algorithm_state.json holds (besides its format tag). */
export interface AlgorithmState {
  config: Record<string, unknown>;
  iteration: number;
  stepsSampled: number;
  stepsTrained: number;
  timeTotalS: number;
  recentReturns: number[];
  recentLengths: number[];
  /** The learners' state but their weights (in weights.bin). */
  learner: unknown;
  recentPolicyReturns?: Record<string, number[]>;
  recentAgentReturns?: Record<string, number[]>;
}

/**
 * Writes a checkpoint as folder `dir`, whole or not at all, replacing the checkpoint there if any;
 * returns its absolute path.
 * @throws RLlibInvalidArgumentError when `dir` holds other files than a checkpoint (they would go).
 */
export function writeCheckpoint(dir: string, weights: Float32Array, state: AlgorithmState): string {
  const out = path.resolve(dir);
  if (fs.existsSync(out) && !fs.existsSync(path.join(out, STATE_FILE)) && fs.readdirSync(out).length > 0)
    throw new RLlibInvalidArgumentError(
      `Cannot save into ${out}: it holds files but no checkpoint, and saving replaces the folder. Pass a new or empty folder.`,
    );
  return writeDirAtomic(out, (tmp) => {
    fs.writeFileSync(path.join(tmp, WEIGHTS_FILE), Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength));
    fs.writeFileSync(
      path.join(tmp, STATE_FILE),
      JSON.stringify(
        { format: 'ray-ts-rllib-1', ...state, learner: externalizeArrays(state.learner, tmp, 'learner') },
        null,
        1,
      ),
    );
  });
}

/** The flat weights in checkpoint `dir`. */
export function readWeights(dir: string): Float32Array {
  const bytes = fs.readFileSync(path.join(dir, WEIGHTS_FILE));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The learners' state in checkpoint `dir`, its typed arrays read back from `arrays/`. */
export function readLearnerState(s: AlgorithmState, dir: string): Record<string, unknown> {
  return reviveArrays(s.learner, dir) as Record<string, unknown>;
}

/**
 * `v` with its typed arrays (a replay buffer's columns...) written as binary files under
 * `dir/arrays/` and replaced by references to them: JSON would spell each float out.
 */
function externalizeArrays(v: unknown, dir: string, key: string): unknown {
  if (ArrayBuffer.isView(v) && v.constructor.name in ARRAY_TYPES) {
    const file = `${key.replace(/[^\w.-]/g, '_')}.bin`;
    fs.mkdirSync(path.join(dir, ARRAYS_DIR), { recursive: true });
    fs.writeFileSync(path.join(dir, ARRAYS_DIR, file), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    return { $array: file, type: v.constructor.name };
  }
  if (Array.isArray(v)) return v.map((x, i) => externalizeArrays(x, dir, `${key}.${i}`));
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, externalizeArrays(x, dir, `${key}.${k}`)]));
  return v;
}

/** Reads back what {@link externalizeArrays} wrote. */
function reviveArrays(v: unknown, dir: string): unknown {
  if (Array.isArray(v)) return v.map((x) => reviveArrays(x, dir));
  if (v === null || typeof v !== 'object') return v;
  const ref = v as { $array?: string; type?: keyof typeof ARRAY_TYPES };
  if (typeof ref.$array === 'string' && ref.type && ref.type in ARRAY_TYPES) {
    const f = path.join(dir, ARRAYS_DIR, ref.$array);
    if (!fs.existsSync(f))
      throw new RLlibInvalidArgumentError(
        `Checkpoint ${dir} is incomplete: ${path.join(ARRAYS_DIR, ref.$array)} is missing. Copy the whole checkpoint folder.`,
      );
    const bytes = fs.readFileSync(f);
    return new ARRAY_TYPES[ref.type](bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reviveArrays(x, dir)]));
}

/**
 * The state in checkpoint `dir` (its algorithm_state.json).
 * @throws RLlibInvalidArgumentError when `dir` holds no checkpoint.
 */
export function readState(dir: string): AlgorithmState {
  // A save cut short between moving the previous checkpoint aside and renaming the new one in.
  recoverDir(dir);
  const f = path.join(dir, STATE_FILE);
  if (!fs.existsSync(f))
    throw new RLlibInvalidArgumentError(
      `${dir} is not an algorithm checkpoint (no ${STATE_FILE}): pass a folder written by algo.save(dir).`,
    );
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}
