/**
 * The dashboard's data routes on the head's HTTP API (all GET, JSON, token-checked by jobs.ts and
 * job-guard.ts like every /api/ route): the state listings in Ray's state API shape
 * (`/api/v0/nodes|actors|tasks|objects|placement_groups|jobs`), `/api/cluster_status` (what
 * `ray-ts status` prints), `/api/memory` (as `ray memory`), `/api/serve/applications/` (what
 * Serve's controller publishes in the KV), `/api/dashboard/history` (dashboard-history.ts),
 * `/api/dashboard/runs` (dashboard-runs.ts) and `/api/timeline` (the Chrome trace).
 */
import type http from 'node:http';
import { traceEvents } from '../runtime/trace-events.js';
import { HttpError } from '../errors.js';
import type { ClusterAuth } from './auth-token.js';
import { clusterStatus } from './cluster-status.js';
import type { HistorySampler } from './dashboard-history.js';
import { discoverRuns, runDetail, type RunRegistration } from './dashboard-runs.js';
import type { ApiRoute } from './jobs.js';
import { actorsOf, groupsOf, jobsOf, nodesOf, objectsOf, taskRunsOf, tasksOf, type Row } from './state-impl.js';

/** A KV namespace of the GCS, as the routes read it. */
export interface KvReader {
  get(key: string): Buffer | undefined;
  keys(): string[];
}

/** What the routes read: the head's GCS address and token, its KV, its sampler, the runs' storage folders. */
export interface DashboardContext {
  readonly address: string;
  readonly auth: ClusterAuth;
  readonly kv: (namespace: string) => KvReader;
  readonly history: HistorySampler | undefined;
  /** Folders of runs (`~/ray_ts_results` and `dashboardRunsPaths`). */
  readonly runRoots: readonly string[];
}

/** The state API's listings by path segment (Ray's names). */
const LISTINGS: Record<string, (address: string, auth: ClusterAuth) => Promise<Row[]>> = {
  nodes: nodesOf,
  actors: actorsOf,
  tasks: tasksOf,
  objects: objectsOf,
  placement_groups: groupsOf,
  jobs: jobsOf,
};

/** The most rows a listing returns (Ray's state API default is 100; its maximum 10,000). */
const MAX_LIMIT = 10_000;

function send(res: http.ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Applies Ray's state API query (`limit`, and `filter_keys`/`filter_predicates`/`filter_values`
 * given once per filter; predicates `=` and `!=`) to rows, in Ray's reply shape.
 */
export function stateReply(rows: readonly Row[], query: URLSearchParams): unknown {
  const keys = query.getAll('filter_keys');
  const preds = query.getAll('filter_predicates');
  const values = query.getAll('filter_values');
  if (keys.length !== preds.length || keys.length !== values.length)
    throw new HttpError(
      400,
      'give filter_keys, filter_predicates and filter_values once per filter, in the same order',
    );
  let out = rows;
  keys.forEach((k, i) => {
    const p = preds[i];
    if (p !== '=' && p !== '!=') throw new HttpError(400, `filter predicate '${p}' is not '=' or '!='`);
    out = out.filter((r) => (String(r[k]) === values[i]) === (p === '='));
  });
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 100 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new HttpError(400, `limit must be an integer from 1 to ${MAX_LIMIT}, not '${rawLimit}'`);
  const result = out.slice(0, limit);
  return {
    result: true,
    msg: '',
    data: {
      result: {
        total: rows.length,
        num_after_truncation: result.length,
        num_filtered: out.length,
        result,
      },
    },
  };
}

/** How an object is held, in `ray memory`'s words. */
function referenceType(o: Row): string {
  if (Number(o.pins) > 0) return 'PINNED_IN_MEMORY';
  if (Number(o.localRefs) > 0) return 'LOCAL_REFERENCE';
  if (Number(o.borrowers) > 0) return 'BORROWED';
  if (o.state === 'COPY' || o.state === 'REMOTE') return 'COPY';
  return 'UNREFERENCED';
}

/** Objects by node, as `ray memory` sums them: count, bytes, by reference type and state, the largest ones. */
export function memorySummary(objects: readonly Row[], top = 10): unknown {
  const nodes: Record<
    string,
    {
      count: number;
      bytes: number;
      byReferenceType: Record<string, { count: number; bytes: number }>;
      byState: Record<string, number>;
      top: Row[];
    }
  > = {};
  for (const o of objects) {
    const id = String(o.nodeId);
    const n = (nodes[id] ??= { count: 0, bytes: 0, byReferenceType: {}, byState: {}, top: [] });
    const size = Number(o.size) || 0;
    n.count++;
    n.bytes += size;
    const t = (n.byReferenceType[referenceType(o)] ??= { count: 0, bytes: 0 });
    t.count++;
    t.bytes += size;
    n.byState[String(o.state)] = (n.byState[String(o.state)] ?? 0) + 1;
    n.top.push({ ...o, size, referenceType: referenceType(o) });
  }
  for (const n of Object.values(nodes)) n.top = n.top.sort((a, b) => Number(b.size) - Number(a.size)).slice(0, top);
  const total = Object.values(nodes).reduce((s, n) => ({ count: s.count + n.count, bytes: s.bytes + n.bytes }), {
    count: 0,
    bytes: 0,
  });
  return { total, nodes };
}

/** Ray's Serve REST shape when Serve publishes nothing (it is not running). */
const NO_SERVE = { applications: {}, proxies: {} };

function registeredRuns(kv: KvReader): string[] {
  const out: string[] = [];
  for (const key of kv.keys()) {
    try {
      const reg = JSON.parse(kv.get(key)?.toString() ?? 'null') as RunRegistration | null;
      if (reg && typeof reg.path === 'string') out.push(reg.path);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  return out;
}

/** The dashboard's data routes (for JobApiOptions.routes). */
export function dashboardRoutes(ctx: DashboardContext): ApiRoute[] {
  const get =
    (fn: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>) =>
    async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}: GET it`);
      return fn(req, res, url);
    };
  const runs = () => discoverRuns(ctx.runRoots, registeredRuns(ctx.kv('runs')));
  return [
    ...Object.entries(LISTINGS).map(([kind, list]): ApiRoute => ({
      prefix: `/api/v0/${kind}`,
      handle: get(async (_req, res, url) => send(res, stateReply(await list(ctx.address, ctx.auth), url.searchParams))),
    })),
    {
      prefix: '/api/cluster_status',
      handle: get(async (_req, res) =>
        send(res, await clusterStatus(ctx.address, ctx.auth, (id) => ctx.history?.machine(id))),
      ),
    },
    {
      prefix: '/api/memory',
      handle: get(async (_req, res) => send(res, memorySummary(await objectsOf(ctx.address, ctx.auth)))),
    },
    {
      prefix: '/api/serve/applications',
      handle: get(async (_req, res) => {
        const text = ctx.kv('serve').get('status')?.toString();
        send(res, text ? (JSON.parse(text) as unknown) : NO_SERVE);
      }),
    },
    {
      prefix: '/api/dashboard/history',
      handle: get(async (_req, res, url) => {
        const seconds = Number(url.searchParams.get('seconds') ?? 600);
        if (!(seconds > 0))
          throw new HttpError(400, `seconds must be a number above 0, not '${url.searchParams.get('seconds')}'`);
        send(res, ctx.history ? ctx.history.ring.since(Date.now() - seconds * 1000) : { t: [], series: {} });
      }),
    },
    {
      prefix: '/api/dashboard/runs',
      handle: get(async (_req, res, url) => {
        const rest = url.pathname.slice('/api/dashboard/runs'.length).replace(/^\/+|\/+$/g, '');
        if (!rest) return send(res, runs());
        const name = decodeURIComponent(rest);
        const found = runs().filter((r) => r.name === name);
        const wanted = url.searchParams.get('path');
        // Only a run the listing names is read: the path is not a way to read other folders.
        const run = wanted ? found.find((r) => r.path === wanted) : found[0];
        if (!run)
          throw new HttpError(
            404,
            `no run '${name}'${wanted ? ` at ${wanted}` : ''}: GET /api/dashboard/runs lists them`,
          );
        send(res, runDetail(run.path));
      }),
    },
    {
      prefix: '/api/timeline',
      handle: get(async (_req, res) => {
        const events = traceEvents(await taskRunsOf(ctx.address, ctx.auth));
        const name = `ray-ts-timeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
        send(res, events, { 'content-disposition': `attachment; filename="${name}"` });
      }),
    },
  ];
}
