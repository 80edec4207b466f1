/**
 * Job submission on the head (as Ray's): a job is a driver program the head runs for you, with
 * its output kept in a log file after it ends. Job records live in the GCS KV (namespace `jobs`),
 * so they are in Redis when the GCS is (a submission, a stop or a delete is answered once its
 * record landed there; 503 when the GCS cannot take it). A small HTTP API (Ray's paths:
 * /api/jobs/...) lets the CLI and other tools submit, list, follow (job-tail.ts), and stop jobs;
 * job-guard.ts checks each request first (the cluster's token, no browsers but for the dashboard's
 * reads, JSON bodies of bounded size). The same server serves the dashboard (dashboard-*.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { withHugePages } from '../runtime/huge-pages.js';
import { ids } from '../ids.js';
import { GcsUnavailableError, HttpError } from '../errors.js';
import type { Landing } from './gcs-writes.js';
import { MAX_PACKAGE_BYTES, packageName, type JobPackages } from './job-packages.js';
import { JOB_RUNTIME_ENV_VAR } from '../runtime/code-packages.js';
import { attachLogTail, readLastBytes, sendTailOverHttp, tailFile } from './job-tail.js';
import { checkBody, checkSubmissionId, readBody, readJson, refuseRequest } from './job-guard.js';
import type { ClusterAuth } from './auth-token.js';

export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

/** A submitted job, as the API returns it. */
export interface JobRecord {
  submission_id: string;
  entrypoint: string;
  status: JobStatus;
  message: string;
  start_time: number;
  end_time: number | null;
  exit_code: number | null;
  working_dir: string | null;
  env_vars: Record<string, string>;
  driver_pid: number | null;
  /** What Ray's clients send and read back (Ray's JobDetails). */
  metadata?: Record<string, string>;
  runtime_env?: Record<string, unknown>;
}

/** The version of Ray's job REST protocol this API speaks (Ray's dashboard CURRENT_VERSION). */
export const JOB_API_VERSION = '4';
/**
 * The Ray release whose job API this one answers like. Ray's JobSubmissionClient reads it from
 * /api/version and refuses clusters older than it needs (2.8 for some options).
 */
export const RAY_PROTOCOL_VERSION = '2.58.0';

/** A job record as Ray's JobDetails (its clients parse it): the record plus Ray's names. */
export function rayJobDetails(rec: JobRecord): JobRecord & Record<string, unknown> {
  return {
    ...rec,
    type: 'SUBMISSION',
    job_id: rec.submission_id,
    metadata: rec.metadata ?? {},
    runtime_env: rec.runtime_env ?? {},
    driver_exit_code: rec.exit_code,
    error_type: rec.status === 'FAILED' ? 'JOB_ENTRYPOINT_COMMAND_ERROR' : null,
    driver_info: rec.driver_pid ? { id: rec.submission_id, node_ip_address: '', pid: String(rec.driver_pid) } : null,
  };
}

export interface SubmitRequest {
  entrypoint: string;
  submission_id?: string;
  runtime_env?: { working_dir?: string; env_vars?: Record<string, string> };
  /** Ray's: labels of the job, returned as given. */
  metadata?: Record<string, string>;
}

/**
 * Where job records are kept (the GCS KV of the head). `put` and `del` say when their write landed
 * (see {@link Landing}) and throw GcsUnavailableError, changing nothing, when the GCS cannot take
 * it; `internal` writes (what the head records by itself: a driver's exit) are always taken.
 */
export interface JobTable {
  put(id: string, rec: JobRecord, internal?: boolean): Landing;
  get(id: string): JobRecord | undefined;
  all(): JobRecord[];
  del(id: string): Landing;
}

const terminal = (s: JobStatus) => s === 'SUCCEEDED' || s === 'FAILED' || s === 'STOPPED';

export interface JobManagerOptions {
  /** Where the jobs' logs are written. */
  readonly logDir: string;
  /** The GCS address the job's driver connects to. */
  readonly clusterAddress: string;
  /** Uploaded working directories (Ray's packages). */
  readonly packages?: JobPackages;
  /** How often a follower of a job's log looks for new output (config.ts's jobLogTailMs). */
  readonly tailPollMs?: number;
  /** The most of a log `GET /api/jobs/<id>/logs` returns (config.ts's jobLogsMaxBytes): its end. */
  readonly logsMaxBytes?: number;
  /** Environment every job's driver gets on top of the head's (the cluster's token: auth-token.ts's authEnv). */
  readonly driverEnv?: Record<string, string>;
}

/** A job's log as `GET /api/jobs/<id>/logs` returns it: its end, and how many bytes before were left out. */
export interface JobLogs {
  readonly logs: string;
  readonly truncatedBytes: number;
}

export class JobManager {
  private readonly procs = new Map<string, ChildProcess>();
  private readonly logDir: string;
  private readonly clusterAddress: string;
  /** Uploaded working directories (Ray's packages). */
  readonly packages: JobPackages | undefined;
  private readonly tailPollMs: number;
  private readonly logsMaxBytes: number;
  private readonly driverEnv: Record<string, string>;

  constructor(
    private readonly table: JobTable,
    opts: JobManagerOptions,
  ) {
    this.logDir = opts.logDir;
    this.clusterAddress = opts.clusterAddress;
    this.packages = opts.packages;
    this.tailPollMs = opts.tailPollMs ?? 100;
    this.logsMaxBytes = opts.logsMaxBytes ?? 16 * 1024 * 1024;
    this.driverEnv = opts.driverEnv ?? {};
    fs.mkdirSync(this.logDir, { recursive: true });
    // Jobs that were running when the head went away did not survive it.
    for (const rec of table.all()) {
      if (!terminal(rec.status)) {
        const failed = { ...rec, status: 'FAILED' as const, message: 'the head stopped while the job ran' };
        void table.put(rec.submission_id, { ...failed, end_time: Date.now() }, true);
      }
    }
  }

  logPath(id: string): string {
    return path.join(this.logDir, `job-${id.replace(/[^\w.-]/g, '_')}.log`);
  }

  /** Records the job (answered once the record landed: a job acknowledged is never lost), then starts its driver. */
  async submit(req: SubmitRequest): Promise<JobRecord> {
    if (!req || typeof req.entrypoint !== 'string' || !req.entrypoint.trim()) {
      throw new HttpError(400, 'a job needs an entrypoint: the shell command of its driver, e.g. "node script.js"');
    }
    const id =
      req.submission_id === undefined || req.submission_id === null || req.submission_id === ''
        ? `raysubmit_${ids().next('job').slice(4)}`
        : checkSubmissionId(req.submission_id);
    if (this.table.get(id))
      throw new HttpError(409, `a job with submission id '${id}' exists already: pick another, or leave it out`);
    const env = req.runtime_env?.env_vars ?? {};
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== 'string') throw new HttpError(400, `env var ${k} must be a string, got ${typeof v}`);
    }
    const given = req.runtime_env?.working_dir;
    const pkg = typeof given === 'string' ? packageName(given) : undefined;
    if (pkg !== undefined && !this.packages)
      throw new HttpError(400, `this head keeps no packages: give working_dir as a folder on the head`);
    // An uploaded package runs in its unpacked copy on the head.
    const cwd = pkg !== undefined ? this.packages!.unpacked(pkg) : given;
    if (cwd !== undefined && (!path.isAbsolute(cwd) || !fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory())) {
      throw new HttpError(400, `working_dir '${cwd}' is not a directory on the head (give an absolute path there)`);
    }
    const rec: JobRecord = {
      submission_id: id,
      entrypoint: req.entrypoint,
      status: 'PENDING',
      message: 'starting',
      start_time: Date.now(),
      end_time: null,
      exit_code: null,
      working_dir: cwd ?? null,
      env_vars: env,
      driver_pid: null,
      metadata: req.metadata ?? {},
      runtime_env: req.runtime_env ?? {},
    };
    try {
      await this.table.put(id, rec);
    } catch (err) {
      // Refused (nothing was recorded), or still not in Redis after gcsWriteWaitMs: it never starts.
      if (this.table.get(id)) {
        const failed = { ...rec, status: 'FAILED' as const, end_time: Date.now() };
        void this.table.put(id, { ...failed, message: `not started: ${(err as Error).message}` }, true);
      }
      throw err;
    }
    const log = fs.openSync(this.logPath(id), 'w');
    const child = spawn('/bin/sh', ['-c', req.entrypoint], {
      cwd: cwd ?? process.cwd(),
      env: withHugePages({
        ...process.env,
        ...env,
        ...this.driverEnv,
        RAY_TS_ADDRESS: this.clusterAddress,
        RAY_TS_JOB_SUBMISSION_ID: id,
        // The driver's init() ships the same package to the nodes that run its work.
        ...(pkg !== undefined ? { [JOB_RUNTIME_ENV_VAR]: JSON.stringify({ workingDir: given }) } : {}),
      }),
      stdio: ['ignore', log, log],
      detached: true, // its own process group: stop() ends the whole tree
    });
    fs.closeSync(log);
    this.procs.set(id, child);
    const running = { ...rec, status: 'RUNNING' as const, message: 'running', driver_pid: child.pid ?? null };
    void this.table.put(id, running, true);
    child.on('error', (err) => this.finish(id, 'FAILED', `could not start: ${err.message}`, null));
    child.on('exit', (code, signal) => {
      const cur = this.table.get(id);
      if (cur?.status === 'STOPPED') this.finish(id, 'STOPPED', 'stopped with job stop', code);
      else if (code === 0) this.finish(id, 'SUCCEEDED', 'the driver exited with code 0', 0);
      else
        this.finish(
          id,
          'FAILED',
          signal ? `the driver was killed by ${signal}` : `the driver exited with code ${code}`,
          code,
        );
    });
    return running;
  }

  private finish(id: string, status: JobStatus, message: string, code: number | null): void {
    this.procs.delete(id);
    const cur = this.table.get(id);
    if (cur) void this.table.put(id, { ...cur, status, message, exit_code: code, end_time: Date.now() }, true);
  }

  /** Stops a running job: answered once its STOPPED record landed. */
  async stop(id: string): Promise<boolean> {
    const landed = this.signalStop(id, false);
    if (landed === false) return false;
    await landed;
    return true;
  }

  /** Records the job STOPPED (throws when the GCS cannot take it), then signals its driver; false: not running. */
  private signalStop(id: string, internal: boolean): Landing | false {
    const child = this.procs.get(id);
    const cur = this.table.get(id);
    if (!cur) throw new HttpError(404, `no job '${id}'`);
    if (!child || terminal(cur.status)) return false;
    const landed = this.table.put(id, { ...cur, status: 'STOPPED', message: 'stopping' }, internal);
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    setTimeout(() => {
      if (this.procs.has(id)) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, 3_000).unref();
    return landed;
  }

  /**
   * The job's log, or its last `logsMaxBytes` when it is longer (read in bounded pieces, never
   * whole), with a first line that says how much was left out and how to see it all.
   */
  async logs(id: string): Promise<JobLogs> {
    if (!this.table.get(id)) throw new HttpError(404, `no job '${id}'`);
    const { text, skipped } = await readLastBytes(this.logPath(id), this.logsMaxBytes);
    if (!skipped) return { logs: text, truncatedBytes: 0 };
    const note =
      `[ray-ts: the first ${skipped} bytes of this log are left out: the head returns its last ${this.logsMaxBytes} ` +
      `(RAY_TS_JOB_LOGS_MAX_BYTES); 'ray-ts job logs --follow ${id}' prints all of it]\n`;
    return { logs: note + text, truncatedBytes: skipped };
  }

  /**
   * The job's log from its start, chunk by chunk as it is written, until the job has ended and
   * all of it was given (Ray's tail_job_logs). Throws HttpError 404 at once for no such job.
   */
  tailLogs(id: string, signal?: AbortSignal): AsyncIterable<string> {
    if (!this.table.get(id)) throw new HttpError(404, `no job '${id}'`);
    const ended = () => {
      const cur = this.table.get(id);
      // A stopped job is STOPPED before its driver exits: its last words are still to come.
      return !cur || (terminal(cur.status) && !this.procs.has(id));
    };
    return tailFile(this.logPath(id), { ended, pollMs: this.tailPollMs, signal });
  }

  /** Forgets a job that has ended (Ray's delete_job); a running one must be stopped first. */
  async delete(id: string): Promise<boolean> {
    const cur = this.table.get(id);
    if (!cur) throw new HttpError(404, `no job '${id}'`);
    if (!terminal(cur.status))
      throw new HttpError(400, `job '${id}' is ${cur.status}: stop it first ('ray-ts job stop ${id}'), then delete it`);
    await this.table.del(id);
    fs.rmSync(this.logPath(id), { force: true });
    return true;
  }

  /** Stops every running job (the head is stopping: the GCS lands their records before it stops). */
  stopAll(): void {
    for (const id of this.procs.keys()) void this.signalStop(id, true);
  }
}

/** Where and how the job API listens. */
export interface JobApiOptions {
  readonly host: string;
  /** 0: a free one. */
  readonly port: number;
  /** ray-ts's version, in /api/version. */
  readonly version: string;
  /** The token every request must carry (`Authorization: Bearer <token>`). */
  readonly auth: ClusterAuth;
  /** The largest JSON body read (config.ts's jobApiMaxBodyBytes). */
  readonly maxBodyBytes: number;
  /** Prometheus's HTTP service discovery of the nodes' metrics endpoints (`GET /api/prometheus/sd`; metrics-sd.ts). */
  readonly prometheusTargets?: () => unknown;
  /** More routes under /api/ (the logs API, the dashboard's data), checked as every route is. */
  readonly routes?: readonly ApiRoute[];
  /**
   * Answers paths outside /api/ (the dashboard's page: dashboard-static.ts), before and without
   * the token check: what it serves holds no data. Without it, such paths are 404.
   */
  readonly page?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>;
  /**
   * The head's own host names, which a browser's GET may name as its Host (job-guard.ts's
   * browserMayRead; IP literals and localhost always may).
   */
  readonly hostNames?: readonly string[];
}

/**
 * A route of the head's HTTP API served by another module: requests whose path starts with
 * `prefix` (e.g. `/api/v0/logs`) go to `handle`, after the request passed job-guard.ts's checks.
 * `handle` answers, or throws HttpError (sent as `{ error }` with its status).
 */
export interface ApiRoute {
  readonly prefix: string;
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void>;
}

/**
 * The HTTP job API (Ray's paths). Every request is checked first (job-guard.ts): the token, no
 * browsers but for the dashboard's GETs, body types and sizes. Resolves with its server, the bound port, and `stop()`, which
 * closes the server and the log followers still connected to it.
 */
export function serveJobApi(
  jobs: JobManager,
  table: JobTable,
  opts: JobApiOptions,
): Promise<{ server: http.Server; port: number; stop: () => void }> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean); // api, jobs, id, action
    const packages = async (name: string) => {
      const store = jobs.packages;
      if (!store) throw new HttpError(404, 'this head keeps no packages');
      if (req.method === 'GET') {
        if (!store.has(name)) throw new HttpError(404, `no package ${name}`);
        return send(200, { name });
      }
      if (req.method !== 'PUT') throw new HttpError(405, `${req.method} is not allowed on /api/packages/`);
      checkBody(req, 'package', MAX_PACKAGE_BYTES);
      await store.put(name, await readBody(req, MAX_PACKAGE_BYTES));
      return send(200, { name });
    };
    const handle = async () => {
      if (parts[0] !== 'api' && opts.page) return opts.page(req, res, url);
      const refused = refuseRequest(req.headers, opts.auth, { method: req.method, hostNames: opts.hostNames ?? [] });
      if (refused) throw refused;
      if (parts[0] !== 'api') throw new HttpError(404, `no such path ${url.pathname}: the job API is under /api/jobs/`);
      if (parts[1] === 'version' && req.method === 'GET')
        return send(200, {
          version: JOB_API_VERSION,
          ray_version: RAY_PROTOCOL_VERSION,
          ray_commit: `ray-ts-${opts.version}`,
          session_name: 'ray-ts',
          ray_ts_version: opts.version,
        });
      if (parts[1] === 'packages' && parts[2] === 'gcs' && parts[3]) return packages(parts[3]);
      if (parts[1] === 'prometheus' && parts[2] === 'sd' && req.method === 'GET' && opts.prometheusTargets)
        return send(200, opts.prometheusTargets());
      const route = opts.routes?.find((r) => url.pathname === r.prefix || url.pathname.startsWith(r.prefix + '/'));
      if (route) return route.handle(req, res, url);
      if (parts[1] !== 'jobs') throw new HttpError(404, `no such path ${url.pathname}`);
      let id: string | undefined;
      try {
        id = parts[2] ? decodeURIComponent(parts[2]) : undefined;
      } catch {
        throw new HttpError(400, `the job id in ${url.pathname} is not URL-encoded text`);
      }
      if (req.method !== 'GET') checkBody(req, 'json', opts.maxBodyBytes);
      if (!id) {
        if (req.method === 'GET')
          return send(
            200,
            table
              .all()
              .sort((a, b) => a.start_time - b.start_time)
              .map(rayJobDetails),
          );
        if (req.method === 'POST') {
          const body = await readJson(
            req,
            opts.maxBodyBytes,
            '{ "entrypoint": "node script.js", "runtime_env": { ... } }',
          );
          const rec = await jobs.submit(body as SubmitRequest);
          return send(200, { submission_id: rec.submission_id, job_id: rec.submission_id });
        }
        throw new HttpError(405, `${req.method} is not allowed on /api/jobs/`);
      }
      const action = parts[3];
      if (!action && req.method === 'GET') {
        const rec = table.get(id);
        if (!rec) throw new HttpError(404, `no job '${id}'`);
        return send(200, rayJobDetails(rec));
      }
      if (!action && req.method === 'DELETE') return send(200, { deleted: await jobs.delete(id) });
      if (action === 'logs' && req.method === 'GET') {
        if (parts[4] === 'tail') return sendTailOverHttp(res, (signal) => jobs.tailLogs(id, signal));
        const { logs, truncatedBytes } = await jobs.logs(id);
        return send(200, { logs, ...(truncatedBytes ? { truncated_bytes: truncatedBytes } : {}) });
      }
      if (action === 'stop' && req.method === 'POST') return send(200, { stopped: await jobs.stop(id) });
      throw new HttpError(404, `no such path ${url.pathname}`);
    };
    handle().catch((err: unknown) => {
      if (res.headersSent) return res.end();
      // A body left unread (refused before it was read) is not drained: the connection closes.
      const close: Record<string, string> = req.complete ? {} : { connection: 'close' };
      if (err instanceof HttpError)
        send(
          err.status,
          { error: err.message },
          err.status === 401 ? { ...close, 'www-authenticate': 'Bearer' } : close,
        );
      else if (err instanceof GcsUnavailableError) send(503, { error: err.message }, close);
      else send(500, { error: (err as Error).message }, close);
    });
  });
  const closeFollowers = attachLogTail(server, jobs, opts.auth);
  const stop = () => {
    closeFollowers();
    server.close();
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () =>
      resolve({ server, port: (server.address() as { port: number }).port, stop }),
    );
  });
}
