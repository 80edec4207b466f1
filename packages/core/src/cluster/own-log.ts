/**
 * A node process's own output in its log directory (Ray's `raylet.out` and `raylet.err`),
 * rotated by size like its workers' files. `ray-ts start` runs a node in the background with
 * `quiet`: once it serves, its output goes to these files only (its start log stops growing);
 * otherwise (a test's node, `ray-ts start --block`) it goes to both.
 */
import path from 'node:path';
import { RotatingFile, type RotationPolicy } from '../node/log-files.js';

export interface OwnLog {
  /** Resolves once what was written so far is on disk. */
  flush(): Promise<void>;
}

/** Captures this process's output from now on; `header` starts `raylet.out` (so both files exist from the start). */
export function captureOwnOutput(dir: string, policy: RotationPolicy, quiet: boolean, header: string): OwnLog {
  const files: RotatingFile[] = [];
  for (const [stream, name] of [
    [process.stdout, 'raylet.out'],
    [process.stderr, 'raylet.err'],
  ] as const) {
    const file = new RotatingFile(path.join(dir, name), policy);
    file.append(name === 'raylet.out' ? header : '');
    files.push(file);
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
      file.append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      if (!quiet) return write(chunk, enc, cb);
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  }
  return { flush: async () => void (await Promise.all(files.map((f) => f.flush()))) };
}
