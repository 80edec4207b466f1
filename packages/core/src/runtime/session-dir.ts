/**
 * The session directory of this machine and user: where `ray-ts start` records its nodes, logs
 * and the head's address, and where the cluster token is kept (cluster/auth-token.ts). One place
 * for its rule, and for making it private (mode 0700, this user's).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthenticationError } from '../errors.js';

/** Where `ray-ts start` keeps its session: `RAY_TS_SESSION_DIR`, else `$TMPDIR/ray-ts-session`. */
export function sessionDir(): string {
  return process.env.RAY_TS_SESSION_DIR ?? path.join(os.tmpdir(), 'ray-ts-session');
}

/**
 * Makes the session directory `dir` (mode 0700), or checks that the one there is a directory of
 * this user's and closes it to others. Throws AuthenticationError otherwise: the token kept there
 * must not be another user's to read or to plant.
 */
export function ensureSessionDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory())
    throw new AuthenticationError(
      `The session directory ${dir} is not a directory: remove it, or set RAY_TS_SESSION_DIR.`,
    );
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new AuthenticationError(
      `The session directory ${dir} belongs to another user (uid ${st.uid}): set RAY_TS_SESSION_DIR to a directory of your own.`,
    );
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}
