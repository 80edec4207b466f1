/**
 * Which cluster a program, the state API or a command line talks to: an address given
 * explicitly, else the cluster this driver is connected to (where asked), else `RAY_TS_ADDRESS`,
 * else the head that `ray-ts start --head` started on this machine (where asked). One place for
 * the rule, used by `init()`, the state API, `timeline()`, and the core and library CLIs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connectedAddress } from './driver.js';
import { sessionDir } from './session-dir.js';

/** The head `ray-ts start --head` started on this machine, as it recorded itself (undefined: none). */
export function localHead(): { address: string; jobApiAddress?: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(sessionDir(), 'head.json'), 'utf8')) as {
      address: string;
      jobApiAddress?: string;
    };
  } catch {
    return undefined; // no head started here (or its record is being written)
  }
}

export interface AddressSources {
  /** Use the cluster this driver is connected to, before `RAY_TS_ADDRESS` (the state API does). */
  connected?: boolean;
  /** Fall back to the head started on this machine (command lines do). */
  localHead?: boolean;
}

/**
 * The cluster to talk to: `explicit`, else (with `connected`) the one this driver is connected
 * to, else `RAY_TS_ADDRESS`, else (with `localHead`) the head started here; undefined: none.
 */
export function resolveClusterAddress(explicit: string | undefined, from: AddressSources = {}): string | undefined {
  if (explicit !== undefined) return explicit;
  if (from.connected) {
    const c = connectedAddress();
    if (c) return c;
  }
  if (process.env.RAY_TS_ADDRESS) return process.env.RAY_TS_ADDRESS;
  return from.localHead ? localHead()?.address : undefined;
}
