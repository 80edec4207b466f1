/**
 * `ray-ts job ...`: submit jobs to a cluster's head and follow, stop, list them, over its job API
 * (Ray's REST protocol, served by cluster/jobs.ts).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { localHead } from './runtime/cluster-address.js';

/** What the job commands take from the rest of the command line. */
export interface CliContext {
  /** Prints `ray-ts: <message>` and exits with 1. */
  fail(message: string): never;
  /** The cluster's GCS address: `explicit`, else RAY_TS_ADDRESS or the head started here. */
  headAddress(explicit: string | undefined): string;
  printTable(rows: Record<string, unknown>[]): void;
}

/** The job API's URL: an http:// address as given, else asked of the cluster at a GCS address. */
async function jobApi(ctx: CliContext, address: string | undefined): Promise<string> {
  if (address && /^https?:\/\//.test(address)) return address.replace(/\/$/, '');
  if (!address && !process.env.RAY_TS_ADDRESS) {
    const head = localHead();
    if (head?.jobApiAddress) return head.jobApiAddress;
  }
  const gcsAddress = ctx.headAddress(address);
  const { kvGetOf } = await import('./cluster/state-impl.js');
  let url: string | undefined;
  try {
    url = await kvGetOf(gcsAddress, 'cluster', 'job_api_address');
  } catch (err) {
    ctx.fail((err as Error).message);
  }
  if (!url) ctx.fail(`the cluster at ${gcsAddress} has no job API.`);
  return url;
}

async function api<T>(ctx: CliContext, base: string, method: string, p: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${p}`, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
  } catch (err) {
    ctx.fail(`the job API at ${base} does not answer (${(err as Error).message}).`);
  }
  const data = (await res.json()) as T & { error?: string };
  if (!res.ok) ctx.fail(data.error ?? `HTTP ${res.status}`);
  return data;
}

interface JobRow {
  submission_id: string;
  status: string;
  message: string;
  entrypoint: string;
  start_time: number;
  end_time: number | null;
}

async function followLogs(ctx: CliContext, base: string, id: string): Promise<void> {
  const res = await fetch(`${base}/api/jobs/${encodeURIComponent(id)}/logs/tail`);
  if (!res.ok || !res.body) ctx.fail(`cannot follow the logs of job ${id} (HTTP ${res.status}).`);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(chunk);
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
    .option('--working-dir <dir>', "directory the job runs in (on the head; default: the head's own)")
    .option('--env-vars <json>', 'environment variables of the job, e.g. \'{"LR": "0.1"}\'')
    .option('--submission-id <id>', "the job's id (default: a new one)")
    .option('--no-wait', 'return once submitted instead of following its logs to the end')
    .argument('<entrypoint...>', 'the command after --, e.g. -- node script.js')
    .action(
      async (
        entry: string[],
        f: { address?: string; workingDir?: string; envVars?: string; submissionId?: string; wait: boolean },
      ) => {
        let env: Record<string, string> | undefined;
        if (f.envVars) {
          try {
            env = JSON.parse(f.envVars) as Record<string, string>;
          } catch {
            ctx.fail(`--env-vars must be a JSON object of strings, e.g. '{"LR": "0.1"}'; got ${f.envVars}`);
          }
        }
        const base = await jobApi(ctx, f.address);
        const workingDir = f.workingDir ? path.resolve(f.workingDir) : undefined;
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
