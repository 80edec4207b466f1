/**
 * The head's log routes (Ray's dashboard paths, so Ray's state client reads them too), served on
 * the job API's port with its checks (the token first):
 *
 * - `GET /api/v0/logs?node_id=ID | node_ip=IP [&glob=G]`: the node's log files (default: the
 *   head's) as `{ result: true, msg: '', data: { result: { <category>: [names] }, node_id, files:
 *   [{ name, size_bytes, mtime_ms, category }] } }`.
 * - `GET /api/v0/logs/file?<which>[&lines=N][&suffix=out|err][&media_type=stream]`: one log as
 *   text (`lines`: its last N lines, default 1000, `-1` all; or `offset`: from that byte on, at
 *   most `logReadMaxBytes`; `media_type=stream`: then what is written after, until the client
 *   goes away). `<which>` is one of `filename=` (with `node_id=`
 *   or `node_ip=`, default the head), `actor_id=` or `actor_name=` (`&namespace=`), `task_id=`,
 *   `pid=` (with a node, else the nodes are asked in turn) or `submission_id=` (a submitted job's
 *   driver log). Answers `x-ray-ts-node-id` and `x-ray-ts-log-file` headers naming where it read.
 *
 * Errors are the job API's `{ error }` JSON: 400 for a bad request (a file name that is a path),
 * 404 for an unknown node, actor, task or file, with what to do next.
 */
import type http from 'node:http';
import { HttpError, LogNotFoundError, LogPathError } from '../errors.js';
import type { ApiRoute } from './jobs.js';
import type { LogRequest, LogSource, OpenedLog } from './node-logs.js';

/** A node as the log routes see it. */
export interface LogNodeInfo {
  readonly nodeId: string;
  readonly address: string;
  readonly alive: boolean;
}

/** What the log routes need of the head. */
export interface LogApiContext {
  readonly headNodeId: string;
  /** The cluster's nodes (drivers left out). */
  nodes(): LogNodeInfo[];
  /** The logs of node `nodeId` (the head's own read here, others' over gRPC). */
  source(node: LogNodeInfo): LogSource;
  /** Where an actor runs, by id or by name (undefined: not known). */
  findActor(q: {
    actorId?: string;
    name?: string;
    namespace?: string;
  }): { actorId: string; nodeId: string } | undefined;
}

/** The default of `lines` (Ray's `ray logs --tail`). */
export const DEFAULT_LOG_LINES = 1000;

function httpErrorOf(err: unknown): unknown {
  if (err instanceof LogNotFoundError) return new HttpError(404, err.message);
  if (err instanceof LogPathError) return new HttpError(400, err.message);
  return err;
}

export function logRoutes(ctx: LogApiContext): ApiRoute {
  const nodeNamed = (q: URLSearchParams): LogNodeInfo | undefined => {
    const id = q.get('node_id');
    const ip = q.get('node_ip');
    if (id) {
      const n = ctx.nodes().find((x) => x.nodeId === id);
      if (!n) throw new HttpError(404, `No node ${id} in this cluster: 'ray-ts list nodes' lists them.`);
      return n;
    }
    if (ip) {
      const n = ctx.nodes().find((x) => x.alive && x.address.replace(/:\d+$/, '') === ip);
      if (!n) throw new HttpError(404, `No live node at ${ip}: 'ray-ts list nodes' lists the nodes and addresses.`);
      return n;
    }
    return undefined;
  };
  const head = (): LogNodeInfo => {
    const h = ctx.nodes().find((n) => n.nodeId === ctx.headNodeId);
    if (!h) throw new HttpError(404, 'The head is not in its own node table yet: try again in a moment.');
    return h;
  };
  const live = (n: LogNodeInfo): LogNodeInfo => {
    if (!n.alive)
      throw new HttpError(
        404,
        `Node ${n.nodeId} is not alive: its log files stay on its machine, in its log directory.`,
      );
    return n;
  };

  const list = async (res: http.ServerResponse, q: URLSearchParams) => {
    const node = live(nodeNamed(q) ?? head());
    const files = await ctx.source(node).list(q.get('glob') ?? '');
    const result: Record<string, string[]> = {};
    for (const f of files) (result[f.category] ??= []).push(f.name);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        result: true,
        msg: '',
        data: {
          result,
          node_id: node.nodeId,
          files: files.map((f) => ({
            name: f.name,
            size_bytes: f.sizeBytes,
            mtime_ms: Math.round(f.mtimeMs),
            category: f.category,
          })),
        },
      }),
    );
  };

  /** Opens the log on the first of `nodes` that has it. */
  const openOn = async (
    nodes: LogNodeInfo[],
    req: LogRequest,
    signal: AbortSignal,
    missing: string,
  ): Promise<{ node: LogNodeInfo; log: OpenedLog }> => {
    const failures: string[] = [];
    for (const node of nodes) {
      try {
        return { node, log: await ctx.source(live(node)).open(req, signal) };
      } catch (err) {
        if (nodes.length === 1) throw httpErrorOf(err);
        if (!(err instanceof LogNotFoundError)) failures.push(`node ${node.nodeId}: ${(err as Error).message}`);
      }
    }
    throw new HttpError(
      404,
      `${missing} (looked on ${nodes.length} node${nodes.length === 1 ? '' : 's'}).` +
        (failures.length ? ` Some could not be asked: ${failures.join('; ')}` : ''),
    );
  };

  const file = async (req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams) => {
    const rawLines = q.get('lines');
    const lines = rawLines === null || rawLines === '' ? DEFAULT_LOG_LINES : Number(rawLines);
    if (!Number.isInteger(lines))
      throw new HttpError(400, `lines must be a whole number (-1: all); got '${rawLines}'.`);
    const err = q.get('suffix') === 'err';
    const follow = q.get('media_type') === 'stream';
    const rawOffset = q.get('offset');
    if (rawOffset !== null && !/^\d+$/.test(rawOffset))
      throw new HttpError(400, `offset must be a byte offset (a whole number >= 0); got '${rawOffset}'.`);
    const base = { lines, err, follow, ...(rawOffset !== null ? { offset: Number(rawOffset) } : {}) };
    const named = nodeNamed(q);
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const alive = () => ctx.nodes().filter((n) => n.alive);
    let found: { node: LogNodeInfo; log: OpenedLog };
    const submission = q.get('submission_id');
    const actorId = q.get('actor_id');
    const actorName = q.get('actor_name');
    const taskId = q.get('task_id');
    const pid = q.get('pid');
    const filename = q.get('filename');
    if (submission) {
      const name = `job-${submission.replace(/[^\w.-]/g, '_')}.log`;
      found = await openOn([head()], { ...base, filename: name }, ac.signal, '').catch((e: unknown) => {
        throw e instanceof HttpError && e.status === 404
          ? new HttpError(404, `No job '${submission}' has a log on this head: 'ray-ts job list' lists the jobs.`)
          : e;
      });
    } else if (actorId || actorName) {
      const namespace = q.get('namespace') ?? 'default';
      const a = ctx.findActor(actorId ? { actorId } : { name: actorName!, namespace });
      const what = actorId ? `Actor ${actorId}` : `Actor '${actorName}' (namespace '${namespace}')`;
      if (!a) throw new HttpError(404, `${what} is not known to this cluster: 'ray-ts list actors' lists them.`);
      if (!a.nodeId) throw new HttpError(404, `${what} has not been placed on a node yet: it has no log.`);
      const node = ctx.nodes().find((n) => n.nodeId === a.nodeId);
      if (!node) throw new HttpError(404, `${what} ran on node ${a.nodeId}, which this cluster no longer knows.`);
      found = await openOn([node], { ...base, actorId: a.actorId }, ac.signal, '');
    } else if (taskId) {
      found = await openOn(
        named ? [named] : alive(),
        { ...base, taskId },
        ac.signal,
        `Task ${taskId} wrote no log lines`,
      );
    } else if (pid) {
      if (!/^\d+$/.test(pid)) throw new HttpError(400, `pid must be a process id; got '${pid}'.`);
      found = await openOn(
        named ? [named] : alive(),
        { ...base, pid: Number(pid) },
        ac.signal,
        `No worker with pid ${pid} wrote a log`,
      );
    } else if (filename) {
      found = await openOn([named ?? head()], { ...base, filename }, ac.signal, '');
    } else {
      throw new HttpError(
        400,
        'Say which log: filename= (with node_id= or node_ip=), actor_id=, actor_name=, task_id=, pid= or submission_id=.',
      );
    }
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'x-ray-ts-node-id': found.node.nodeId,
      'x-ray-ts-log-file': found.log.filename,
      'cache-control': 'no-store',
    });
    if (follow) res.flushHeaders();
    for await (const chunk of found.log.chunks) {
      if (ac.signal.aborted) break;
      if (!res.write(chunk))
        await new Promise((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
    }
    res.end();
  };

  return {
    prefix: '/api/v0/logs',
    async handle(req, res, url) {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      if (url.pathname === '/api/v0/logs') return list(res, url.searchParams);
      if (url.pathname === '/api/v0/logs/file') return file(req, res, url.searchParams);
      throw new HttpError(404, `no such path ${url.pathname}: the log API is /api/v0/logs and /api/v0/logs/file`);
    },
  };
}
