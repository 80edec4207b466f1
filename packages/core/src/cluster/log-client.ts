/**
 * The client of the head's log routes (log-api.ts), with the cluster's token: what `ray-ts logs`
 * and the public `listLogs` / `getLog` (api/state.ts) call.
 */
import { LogNotFoundError, LogPathError, RayError } from '../errors.js';
import { ignored } from '../log.js';
import { authHeaders, clientAuth } from './auth-token.js';
import { kvGetOf } from './state-impl.js';

/** Which node's logs (default: the head's). */
export interface LogNodeQuery {
  readonly nodeId?: string;
  readonly nodeIp?: string;
}

/** A log file as the head lists it. */
export interface LogFileRow {
  readonly name: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly category: string;
}

/** Which log, and how much of it (see GetLogOptions in api/state.ts). */
export interface LogQuery extends LogNodeQuery {
  readonly filename?: string;
  readonly actorId?: string;
  readonly actorName?: string;
  readonly namespace?: string;
  readonly taskId?: string;
  readonly pid?: number;
  readonly submissionId?: string;
  readonly tail?: number;
  readonly offset?: number;
  readonly err?: boolean;
  readonly follow?: boolean;
}

/**
 * The http:// base of the head's API (jobs, logs, dashboard): `address` when it is one, else asked
 * of the cluster whose GCS is at `address` (the head publishes it in its KV store). `ray-ts job`,
 * `ray-ts logs`, `ray-ts dashboard` and `listLogs`/`getLog` all find it here.
 */
export async function logApiOf(address: string): Promise<string> {
  if (/^https?:\/\//.test(address)) return address.replace(/\/$/, '');
  const url = await kvGetOf(address, 'cluster', 'job_api_address');
  if (!url) throw new RayError(`The cluster at ${address} serves no HTTP API (its head has no job API).`);
  return url;
}

function params(q: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  return p.toString();
}

async function request(base: string, pathAndQuery: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${base}${pathAndQuery}`, { headers: authHeaders(clientAuth()), signal });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new RayError(
      `The head's API at ${base} does not answer (${e.cause?.code ?? e.message}): is the head running, and is this its address?`,
      { cause: err },
    );
  }
  if (res.ok) return res;
  const text = await res.text();
  let message = `HTTP ${res.status}: ${text.slice(0, 200)}`;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch (err) {
    ignored("an error body that is not JSON (not a ray-ts head's); its status says what failed")(err);
  }
  if (res.status === 404) throw new LogNotFoundError(message);
  if (res.status === 400) throw new LogPathError(message);
  throw new RayError(message);
}

/** The log files of a node (default: the head), by category, and the node's id. */
export async function listLogsAt(
  base: string,
  q: LogNodeQuery & { glob?: string },
): Promise<{ nodeId: string; byCategory: Record<string, string[]>; files: LogFileRow[] }> {
  const res = await request(base, `/api/v0/logs?${params({ node_id: q.nodeId, node_ip: q.nodeIp, glob: q.glob })}`);
  const body = (await res.json()) as {
    data: {
      result: Record<string, string[]>;
      node_id: string;
      files: { name: string; size_bytes: number; mtime_ms: number; category: string }[];
    };
  };
  return {
    nodeId: body.data.node_id,
    byCategory: body.data.result,
    files: body.data.files.map((f) => ({
      name: f.name,
      sizeBytes: f.size_bytes,
      mtimeMs: f.mtime_ms,
      category: f.category,
    })),
  };
}

/** A log's text in chunks; following, until `signal` aborts (then it ends quietly). */
export async function* getLogAt(base: string, q: LogQuery, signal?: AbortSignal): AsyncGenerator<string> {
  const query = params({
    node_id: q.nodeId,
    node_ip: q.nodeIp,
    filename: q.filename,
    actor_id: q.actorId,
    actor_name: q.actorName,
    namespace: q.namespace,
    task_id: q.taskId,
    pid: q.pid,
    submission_id: q.submissionId,
    lines: q.tail,
    offset: q.offset,
    suffix: q.err ? 'err' : undefined,
    media_type: q.follow ? 'stream' : undefined,
  });
  const res = await request(base, `/api/v0/logs/file?${query}`, signal);
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield text;
    }
  } catch (err) {
    if (signal?.aborted) return ignored('the reader stopped following')(err);
    throw new RayError(`The head stopped sending the log: ${(err as Error).message}`, { cause: err });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}
