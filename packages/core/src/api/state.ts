/**
 * The state API (as Ray's `ray.util.state`): list the nodes, actors, tasks, objects, placement
 * groups and jobs of a cluster, and read the logs of its nodes. The same data `ray-ts list ...`
 * and `ray-ts logs ...` print.
 */
import { InvalidArgumentError, RayError } from '../errors.js';
import { resolveClusterAddress } from '../runtime/cluster-address.js';
import { logClient, stateClient } from '../runtime/driver.js';

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

/** Options of {@link listLogs}. */
export interface ListLogsOptions {
  /** The cluster: HOST:PORT of its head, or http://HOST:PORT of the head's API (default as {@link ListOptions.address}). */
  address?: string;
  /** The node whose logs to list (default: the head). */
  nodeId?: string;
  /** Or the node at this IP address. */
  nodeIp?: string;
  /** Only file names matching this glob (`*`, `?`), e.g. `worker-*.err`. */
  glob?: string;
}

/** Options of {@link getLog}: which log (one of `filename`, `actorId`, `actorName`, `taskId`, `pid`, `submissionId`). */
export interface GetLogOptions extends ListLogsOptions {
  /** A file of the node's log directory, as {@link listLogs} names it (on `nodeId`/`nodeIp`, default the head). */
  filename?: string;
  /** The log of an actor: its worker's file. */
  actorId?: string;
  /** The log of the actor of this name (in `namespace`, default `'default'`). */
  actorName?: string;
  namespace?: string;
  /** The lines a task (or an actor call) wrote. */
  taskId?: string;
  /** The log of the worker process of this pid (on `nodeId`, else the node that has one). */
  pid?: number;
  /** A submitted job's driver log. */
  submissionId?: string;
  /** The last this many lines (default 1000; -1: all, up to `logReadMaxBytes`). */
  tail?: number;
  /** Instead of `tail`: the file (or an actor's or a pid's) from this byte on, at most `logReadMaxBytes` unless following. */
  offset?: number;
  /** For an actor, a task or a pid: its stderr (`'err'`) rather than its stdout (`'out'`, the default). */
  suffix?: 'out' | 'err';
  /** Go on with what is written after, until the loop over the chunks stops (`break`) or `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
}

async function logApi(o: ListLogsOptions): Promise<{ base: string; client: Awaited<ReturnType<typeof logClient>> }> {
  const client = await logClient();
  const address = o.address && /^https?:\/\//.test(o.address) ? o.address : resolveAddress(o);
  return { base: await client.logApiOf(address), client };
}

/**
 * The log files of a node (Ray's `ray.util.state.list_logs`), by category: `worker_out`,
 * `worker_err` (its workers' `worker-<id>-<job>-<pid>.out|.err`), `raylet` (the node's own
 * output), `driver` (the head: submitted jobs' logs), `internal`.
 * Throws LogNotFoundError for an unknown node.
 * @example
 * const files = await listLogs({ nodeId });  // { worker_out: ['worker-...out'], raylet: ['raylet.out'], ... }
 */
export async function listLogs(o: ListLogsOptions = {}): Promise<Record<string, string[]>> {
  const { base, client } = await logApi(o);
  return (await client.listLogsAt(base, o)).byCategory;
}

/**
 * A log's text, in chunks (Ray's `ray.util.state.get_log`): a file of a node, an actor's, a
 * task's, a worker's or a submitted job's. With `follow`, the chunks go on as the log grows
 * (across rotations) until the loop stops or `signal` aborts. Throws LogNotFoundError when there
 * is no such log (an unknown actor, a task that printed nothing), LogPathError for a file name
 * that is a path.
 * @example
 * for await (const text of getLog({ actorName: 'counter', tail: 100 })) process.stdout.write(text);
 */
export async function* getLog(o: GetLogOptions): AsyncGenerator<string> {
  const { base, client } = await logApi(o);
  const ac = new AbortController();
  const abort = () => ac.abort();
  o.signal?.addEventListener('abort', abort, { once: true });
  try {
    yield* client.getLogAt(base, { ...o, err: o.suffix === 'err' }, ac.signal);
  } finally {
    o.signal?.removeEventListener('abort', abort);
    ac.abort(); // a loop that stopped early closes the stream
  }
}
