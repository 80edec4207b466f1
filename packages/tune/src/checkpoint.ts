/**
 * Checkpoints: a trial's saved state, as a directory (Ray's model) or as a value (a plain object,
 * typed arrays, Maps... anything structured-clonable). Tune copies each reported checkpoint into
 * the trial's folder under `storagePath`, so experiments survive the driver and resume from them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';

const DATA_FILE = 'checkpoint.bin';

/** A trial's saved state. Make one with {@link Checkpoint.fromDict} or {@link Checkpoint.fromDirectory}. */
export class Checkpoint {
  /** @internal */
  constructor(
    /** The folder holding the checkpoint, when it is one on disk. */
    readonly path: string | undefined,
    /** @internal */ readonly data: unknown,
  ) {}

  /** A checkpoint of a value (kept in memory until Tune writes it to the trial's folder). */
  static fromDict(data: unknown): Checkpoint {
    return new Checkpoint(undefined, data);
  }

  /** A checkpoint of a folder's files (copied by Tune into the trial's folder). */
  static fromDirectory(dir: string): Checkpoint {
    return new Checkpoint(path.resolve(dir), undefined);
  }

  /** The value of a {@link Checkpoint.fromDict} checkpoint (read from disk when needed). */
  toDict<T = unknown>(): T {
    if (this.data !== undefined) return this.data as T;
    if (this.path && fs.existsSync(path.join(this.path, DATA_FILE))) {
      return deserialize(fs.readFileSync(path.join(this.path, DATA_FILE))) as T;
    }
    throw new Error(
      `Checkpoint ${this.path ?? '(in memory)'} holds no value: it is a directory checkpoint; read its files from checkpoint.path.`,
    );
  }

  /**
   * Copies the checkpoint's files into `dir` (default: a new temporary folder) and returns it, as
   * Ray's `to_directory()`. A value checkpoint becomes `checkpoint.bin` there.
   */
  toDirectory(dir?: string): string {
    const out = dir ? path.resolve(dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-checkpoint-'));
    if (out !== this.path) this.writeTo(out);
    return out;
  }

  /** @internal Writes the checkpoint into `dir` (a new folder). */
  writeTo(dir: string): Checkpoint {
    fs.mkdirSync(dir, { recursive: true });
    if (this.path) fs.cpSync(this.path, dir, { recursive: true });
    if (this.data !== undefined) fs.writeFileSync(path.join(dir, DATA_FILE), serialize(this.data));
    return new Checkpoint(dir, undefined);
  }

  /** @internal What crosses to a worker: the folder, or the value. */
  toWire(): { path?: string; data?: unknown } {
    return this.path ? { path: this.path } : { data: this.data };
  }

  /** @internal */
  static fromWire(w: { path?: string; data?: unknown } | undefined): Checkpoint | undefined {
    if (!w) return undefined;
    return new Checkpoint(w.path, w.data);
  }
}
