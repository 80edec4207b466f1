/**
 * Values as nodes and workers store and send them, and functions as they are sent: plain data
 * shared by the protocol, the runtime and the nodes.
 */
import type { WireError } from '../errors.js';

/** Names of the classes whose instances are stored raw (typed arrays and byte containers). */
export type TypedArrayName =
  | 'Int8Array'
  | 'Uint8Array'
  | 'Uint8ClampedArray'
  | 'Int16Array'
  | 'Uint16Array'
  | 'Int32Array'
  | 'Uint32Array'
  | 'Float32Array'
  | 'Float64Array'
  | 'BigInt64Array'
  | 'BigUint64Array'
  | 'Buffer'
  | 'ArrayBuffer'
  | 'DataView';

/** A value in its stored form. `b` may be backed by a SharedArrayBuffer (large values). */
export type StoredValue =
  | { t: 'js'; v: number | string | boolean | bigint | null | undefined }
  | { t: 'v8'; b: Uint8Array; refs?: string[]; special?: true }
  | { t: 'raw'; ctor: TypedArrayName; b: Uint8Array }
  | { t: 'err'; e: WireError };

export type FnDescriptor =
  | {
      kind: 'module';
      url: string;
      key: string;
      name: string;
      isClass: boolean;
      /** A module of a shipped folder: the package (`gcs://_ray_pkg_<hash>.zip`) and the module's path in it. */
      pkg?: { uri: string; path: string };
    }
  | { kind: 'source'; source: string; name: string; isClass: boolean; origin: string };

/** A function as sent to workers: its id, and its descriptor where the worker may not know it yet. */
export interface FnRef {
  id: string;
  desc?: FnDescriptor;
}
