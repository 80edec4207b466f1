/**
 * `ray-ts job ...`: submit jobs to a cluster's head and follow, stop, list them, over its job API
 * (Ray's REST protocol, served by cluster/jobs.ts), with the cluster's token in every request.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { ignored } from './log.js';
import { localHead } from './runtime/cluster-address.js';
import { authHeaders, clientAuth } from './cluster/auth-token.js';

/** What the job commands take from the rest of the command line. */
export interface CliContext {
  /** Prints `ray-ts: <message>` and exits with 1. */
  fail(message: string): never;
  /** The cluster's GCS address: `explicit`, else RAY_TS_ADDRESS or the head started here. */
  headAddress(explicit: string | undefined): string;
  printTable(rows: Record<string, unknown>[]): void;
}

/** The job API's URL: an http:// address as given, else asked of the cluster at a GCS address. */
export async function jobApi(ctx: CliContext, address: string | undefined): Promise<string> {
  if (!address && !process.env.RAY_TS_ADDRESS) {
    const head = localHead();
    if (head?.jobApiAddress) return head.jobApiAddress;
  }
  const target = address && /^https?:\/\//.test(address) ? address : ctx.headAddress(address);
  const { logApiOf } = await import('./cluster/log-client.js');
  try {
    return await logApiOf(target);
  } catch (err) {
    ctx.fail((err as Error).message);
  }
}

/** Why a request failed: the head's `{ error }` when it sent one, else the HTTP status. */
function errorOf(status: number, text: string): string {
  try {
    const data = JSON.parse(text) as { error?: unknown };
    if (typeof data.error === 'string') return data.error;
  } catch (err) {
    ignored("an error body that is not JSON (not a ray-ts head's); its status says what failed")(err);
  }
  return `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

function unreachable(base: string, err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return (
    `the job API at ${base} does not answer (${e.cause?.code ?? e.cause?.message ?? e.message}): ` +
    `is the head running, and is this the address 'ray-ts start --head' printed?`
  );
}

/** The cluster's token as this machine finds it (RAY_TS_AUTH_TOKEN, else the session directory's). */
function tokenHeaders(ctx: CliContext): Record<string, string> {
  try {
    return authHeaders(clientAuth());
  } catch (err) {
    ctx.fail((err as Error).message);
  }
}

/** A request to the job API: its status and body text (a JSON body, or raw bytes to upload). */
async function call(
  ctx: CliContext,
  base: string,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const init: RequestInit = { method, headers: tokenHeaders(ctx) };
  if (Buffer.isBuffer(body)) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...tokenHeaders(ctx), 'content-type': 'application/json' };
  }
  try {
    const res = await fetch(`${base}${p}`, init);
    return { status: res.status, text: await res.text() };
  } catch (err) {
    ctx.fail(unreachable(base, err));
  }
}

async function api<T>(ctx: CliContext, base: string, method: string, p: string, body?: unknown): Promise<T> {
  const { status, text } = await call(ctx, base, method, p, body);
  if (status < 200 || status >= 300) ctx.fail(errorOf(status, text));
  return JSON.parse(text) as T;
}

/**
 * The URI of `dir` as a package on the head (Ray's protocol): packed by content, looked for with
 * GET /api/packages/gcs/<name>, and PUT there only when the head has not got it yet. A URI given
 * (gcs://...) is taken as it is.
 */
async function uploadWorkingDir(ctx: CliContext, base: string, dir: string, excludes: string[]): Promise<string> {
  if (/^[a-z][\w+.-]*:\/\//i.test(dir)) return dir;
  const { packDirectory } = await import('./runtime/pack-dir.js');
  let packed: ReturnType<typeof packDirectory>;
  try {
    packed = packDirectory(dir, { excludes });
  } catch (err) {
    ctx.fail(`--working-dir: ${(err as Error).message}`);
  }
  const at = `/api/packages/gcs/${packed.name}`;
  const found = await call(ctx, base, 'GET', at);
  if (found.status === 200) {
    console.error(`Package ${packed.uri} already exists, skipping upload.`);
    return packed.uri;
  }
  if (found.status !== 404) ctx.fail(`cannot upload ${dir}: ${errorOf(found.status, found.text)}`);
  const kib = Math.ceil(packed.zip.length / 1024);
  console.error(`Uploading package ${packed.uri} (${packed.files} files, ${kib} KiB) from ${path.resolve(dir)}.`);
  await api(ctx, base, 'PUT', at, packed.zip);
  return packed.uri;
}

interface JobRow {
  submission_id: string;
  status: string;
  message: string;
  entrypoint: string;
  start_time: number;
  end_time: number | null;
}

/**
 * Prints a job's log as it is written until the job ends, over the head's websocket (as Ray's
 * `ray job logs --follow`: one text frame per chunk, a normal close at the end).
 */
async function followLogs(ctx: CliContext, base: string, id: string): Promise<void> {
  const { WebSocket } = await import('ws');
  const url = `${base.replace(/^http/, 'ws')}/api/jobs/${encodeURIComponent(id)}/logs/tail`;
  await new Promise<void>((resolve) => {
    const ws = new WebSocket(url, { headers: tokenHeaders(ctx) });
    ws.on('message', (data: Buffer) => process.stdout.write(data));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => ctx.fail(`cannot follow the logs of job ${id}: ${errorOf(res.statusCode ?? 0, text)}`));
    });
    ws.on('error', (err) => ctx.fail(unreachable(base, err)));
    ws.on('close', (code, reason) => {
      if (code === 1000) return resolve(); // the job ended and all of its log was sent
      ctx.fail(
        code === 1001
          ? `the head stopped while job ${id} ran.`
          : `the connection to the head was lost while following job ${id} (code ${code}${reason.length ? `: ${reason.toString()}` : ''}): ` +
              `'ray-ts job logs ${id}' prints what it wrote.`,
      );
    });
  });
}

/** Adds `ray-ts job submit|status|logs|stop|list` to `program`. */
export function registerJobCommands(program: Command, ctx: CliContext): void {
  const job = program.command('job').description('submit and manage jobs (driver programs the head runs)');
  const jobAddress = '--address <address>';
  const jobAddressHelp =
    'the head: HOST:PORT of the cluster, or http://HOST:PORT of its job API (default: RAY_TS_ADDRESS or the head started here)';
  job
    .command('submit')
    .description('run a driver program on the head: ray-ts job submit -- node script.js')
    .option(jobAddress, jobAddressHelp)
    .option(
      '--working-dir <dir>',
      "folder the job runs in: packed and uploaded to the head once (node_modules, .git and .gitignore'd files left out); or a gcs:// package URI",
    )
    .option(
      '--excludes <pattern...>',
      "gitignore-style patterns of --working-dir's files to leave out, e.g. '*.log' data/",
    )
    .option('--env-vars <json>', 'environment variables of the job, e.g. \'{"LR": "0.1"}\'')
    .option('--submission-id <id>', "the job's id (default: a new one)")
    .option('--no-wait', 'return once submitted instead of following its logs to the end')
    .argument('<entrypoint...>', 'the command after --, e.g. -- node script.js')
    .action(
      async (
        entry: string[],
        f: {
          address?: string;
          workingDir?: string;
          excludes?: string[];
          envVars?: string;
          submissionId?: string;
          wait: boolean;
        },
      ) => {
        let env: Record<string, string> | undefined;
        if (f.envVars) {
          try {
            env = JSON.parse(f.envVars) as Record<string, string>;
          } catch {
            ctx.fail(`--env-vars must be a JSON object of strings, e.g. '{"LR": "0.1"}'; got ${f.envVars}`);
          }
        }
        if (f.excludes && !f.workingDir)
          ctx.fail('--excludes leaves files of --working-dir out: give --working-dir too.');
        const base = await jobApi(ctx, f.address);
        const workingDir = f.workingDir ? await uploadWorkingDir(ctx, base, f.workingDir, f.excludes ?? []) : undefined;
        const r = await api<{ submission_id: string }>(ctx, base, 'POST', '/api/jobs/', {
          entrypoint: entry.join(' '),
          ...(f.submissionId ? { submission_id: f.submissionId } : {}),
          runtime_env: { ...(workingDir ? { working_dir: workingDir } : {}), ...(env ? { env_vars: env } : {}) },
        });
        console.error(`Job '${r.submission_id}' submitted.`);
        if (!f.wait) {
          console.log(r.submission_id);
          return;
        }
        await followLogs(ctx, base, r.submission_id);
        const rec = await api<JobRow>(ctx, base, 'GET', `/api/jobs/${encodeURIComponent(r.submission_id)}`);
        console.error(`Job '${r.submission_id}' ${rec.status}: ${rec.message}.`);
        process.exit(rec.status === 'SUCCEEDED' ? 0 : 1);
      },
    );
  job
    .command('status')
    .argument('<id>')
    .option(jobAddress, jobAddressHelp)
    .description('the status of a job')
    .action(async (id: string, f: { address?: string }) => {
      const rec = await api<JobRow>(ctx, await jobApi(ctx, f.address), 'GET', `/api/jobs/${encodeURIComponent(id)}`);
      console.log(`${rec.submission_id}: ${rec.status} (${rec.message})`);
    });
  job
    .command('logs')
    .argument('<id>')
    .option(jobAddress, jobAddressHelp)
    .option('--follow', 'keep printing until the job ends')
    .description('the output of a job (kept after it ends)')
    .action(async (id: string, f: { address?: string; follow?: boolean }) => {
      const base = await jobApi(ctx, f.address);
      if (f.follow) await followLogs(ctx, base, id);
      else
        process.stdout.write(
          (await api<{ logs: string }>(ctx, base, 'GET', `/api/jobs/${encodeURIComponent(id)}/logs`)).logs,
        );
    });
  job
    .command('stop')
    .argument('<id>')
    .option(jobAddress, jobAddressHelp)
    .description('stop a running job')
    .action(async (id: string, f: { address?: string }) => {
      const r = await api<{ stopped: boolean }>(
        ctx,
        await jobApi(ctx, f.address),
        'POST',
        `/api/jobs/${encodeURIComponent(id)}/stop`,
      );
      console.log(r.stopped ? `Job '${id}' is stopping.` : `Job '${id}' was not running.`);
    });
  job
    .command('list')
    .option(jobAddress, jobAddressHelp)
    .option('--format <format>', 'table or json', 'table')
    .description('every submitted job')
    .action(async (f: { address?: string; format: string }) => {
      const rows = await api<JobRow[]>(ctx, await jobApi(ctx, f.address), 'GET', '/api/jobs/');
      if (f.format === 'json') console.log(JSON.stringify(rows, null, 2));
      else
        ctx.printTable(
          rows.map((r) => ({ id: r.submission_id, status: r.status, entrypoint: r.entrypoint, message: r.message })),
        );
    });
}
