/**
 * The state API (as Ray's `ray.util.state`): list the nodes, actors, tasks, objects, placement
 * groups and jobs of a cluster. The same data `ray-ts list ...` prints.
 */
import { InvalidArgumentError, RayError } from '../errors.js';
import { resolveClusterAddress } from '../runtime/cluster-address.js';
import { stateClient } from '../runtime/driver.js';

/** A filter: `[field, '=' | '!=', value]`, e.g. `['state', '=', 'ALIVE']`. */
export type StateFilter = readonly [field: string, op: '=' | '!=', value: string | number | boolean];

/** Options of the `list*` functions. */
export interface ListOptions {
  /** HOST:PORT of the cluster (default: `RAY_TS_ADDRESS`, else the cluster this driver is connected to). */
  address?: string;
  filters?: readonly StateFilter[];
  /** At most this many rows (default 10,000). */
  limit?: number;
}

/** One row of a listing: plain data, ids as strings. */
export type StateRow = Record<string, unknown>;

/** The cluster address `o` names, else the connected one, else `RAY_TS_ADDRESS` (undefined: none). */
export function stateAddress(o: { address?: string }): string | undefined {
  return resolveClusterAddress(o.address, { connected: true });
}

function resolveAddress(o: ListOptions): string {
  const a = stateAddress(o);
  if (!a) {
    throw new RayError(
      'The state API needs a cluster address: pass { address: "HOST:PORT" }, set RAY_TS_ADDRESS, or call it from a driver connected with init({ address }). ' +
        '(An embedded cluster has no state service; use nodes() and clusterResources().)',
    );
  }
  return a;
}

/** Applies filters and the limit to rows. */
export function filterRows(rows: StateRow[], o: ListOptions): StateRow[] {
  let out = rows;
  for (const f of o.filters ?? []) {
    if (!Array.isArray(f) || f.length !== 3 || (f[1] !== '=' && f[1] !== '!=')) {
      throw new InvalidArgumentError(
        `Invalid filter ${JSON.stringify(f)}: use [field, '=' | '!=', value], e.g. ['state', '=', 'ALIVE'].`,
      );
    }
    const [field, op, value] = f;
    out = out.filter((r) => (String(r[field]) === String(value)) === (op === '='));
  }
  return out.slice(0, o.limit ?? 10_000);
}

async function list(
  o: ListOptions,
  fn: (m: Awaited<ReturnType<typeof stateClient>>, address: string) => Promise<StateRow[]>,
): Promise<StateRow[]> {
  const address = resolveAddress(o);
  const m = await stateClient();
  return filterRows(await fn(m, address), o);
}

/** The cluster's nodes, their resources (total and available) and load. */
export function listNodes(o: ListOptions = {}): Promise<StateRow[]> {
  return list(o, (m, a) => m.nodesOf(a));
}
/** Every actor the GCS knows, alive or dead. */
export function listActors(o: ListOptions = {}): Promise<StateRow[]> {
  return list(o, (m, a) => m.actorsOf(a));
}
/** Tasks running, queued, and recently finished on every node. */
export function listTasks(o: ListOptions = {}): Promise<StateRow[]> {
  return list(o, (m, a) => m.tasksOf(a));
}
/** Objects on every node and driver (owned, borrowed and copies). */
export function listObjects(o: ListOptions = {}): Promise<StateRow[]> {
  return list(o, (m, a) => m.objectsOf(a));
}
/** Placement groups and where their bundles are. */
export function listPlacementGroups(o: ListOptions = {}): Promise<StateRow[]> {
  return list(o, (m, a) => m.groupsOf(a));
}
/** Jobs (drivers) of the cluster. */
export function listJobs(o: ListOptions = {}): Promise<StateRow[]> {
  return list(o, (m, a) => m.jobsOf(a));
}
