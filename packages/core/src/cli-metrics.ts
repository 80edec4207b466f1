/**
 * `ray-ts metrics launch-prometheus | shutdown-prometheus` (Ray's `ray metrics ...`): writes a
 * prometheus.yml that finds every node's `/metrics` through the head's HTTP service discovery
 * (cluster/metrics-sd.ts) and presents the cluster's token from a file of its own, then starts
 * the `prometheus` found on PATH with it (or says how to install one).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { clientAuth } from './cluster/auth-token.js';
import { jobApi, type CliContext } from './cli-job.js';
import { ignored } from './log.js';
import { sessionDir } from './runtime/session-dir.js';

export interface PrometheusConfigOptions {
  /** The head's job API (http://HOST:PORT). */
  readonly jobApi: string;
  /** A file holding the cluster's token (none: the cluster runs without one). */
  readonly tokenFile: string | undefined;
  readonly scrapeIntervalS: number;
}

/** prometheus.yml's text: one `ray` job whose targets come from the head's HTTP SD, scraped with the token. */
export function prometheusConfig(o: PrometheusConfigOptions): string {
  const auth = o.tokenFile
    ? [`    authorization:`, `      type: Bearer`, `      credentials_file: ${JSON.stringify(o.tokenFile)}`]
    : [];
  return [
    '# Written by ray-ts metrics launch-prometheus.',
    'global:',
    `  scrape_interval: ${o.scrapeIntervalS}s`,
    `  evaluation_interval: ${o.scrapeIntervalS}s`,
    'scrape_configs:',
    '  - job_name: ray',
    ...auth,
    '    http_sd_configs:',
    `      - url: ${JSON.stringify(`${o.jobApi}/api/prometheus/sd`)}`,
    `        refresh_interval: ${Math.max(1, o.scrapeIntervalS)}s`,
    ...auth.map((l) => `    ${l}`),
    '',
  ].join('\n');
}

/** The first executable `name` on PATH. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch (err) {
      ignored(`${file} is not an executable`)(err);
    }
  }
  return undefined;
}

const INSTALL_HINT =
  'install Prometheus (Debian/Ubuntu: apt-get install prometheus; elsewhere: https://prometheus.io/download/) ' +
  'and put it on PATH, or pass --prometheus /path/to/prometheus';

async function ready(url: string, deadlineMs: number): Promise<boolean> {
  while (Date.now() < deadlineMs) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return true;
    } catch (err) {
      ignored('Prometheus is not listening yet')(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

interface LaunchFlags {
  address?: string;
  port: number;
  host: string;
  scrapeInterval: number;
  dir?: string;
  prometheus?: string;
}

export function registerMetricsCommands(program: Command, ctx: CliContext): void {
  const metrics = program.command('metrics').description("Prometheus for the cluster's metrics");
  metrics
    .command('launch-prometheus')
    .description(
      "write a prometheus.yml that scrapes every node (through the head's service discovery, with the token) and start prometheus with it",
    )
    .option(
      '--address <address>',
      'the head: HOST:PORT, or http://HOST:PORT of its job API (default: RAY_TS_ADDRESS or the head started here)',
    )
    .option('--port <n>', "Prometheus's web port", Number, 9090)
    .option('--host <host>', 'the interface Prometheus listens on', '127.0.0.1')
    .option('--scrape-interval <seconds>', 'how often Prometheus scrapes each node', Number, 10)
    .option('--dir <dir>', 'where its config, token file and data go (default: <session dir>/prometheus)')
    .option('--prometheus <path>', 'the prometheus binary (default: the one on PATH)')
    .action(async (f: LaunchFlags) => {
      if (!(f.scrapeInterval > 0)) ctx.fail(`--scrape-interval must be a positive number of seconds.`);
      const api = await jobApi(ctx, f.address);
      const dir = path.resolve(f.dir ?? path.join(sessionDir(), 'prometheus'));
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const auth = clientAuth();
      let tokenFile: string | undefined;
      if (auth.kind === 'token') {
        tokenFile = path.join(dir, 'auth_token');
        fs.writeFileSync(tokenFile, auth.token, { mode: 0o600 });
        fs.chmodSync(tokenFile, 0o600);
      } else if (auth.kind === 'none') ctx.fail(`no cluster token found (${auth.looked}): set RAY_TS_AUTH_TOKEN.`);
      const configFile = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(configFile, prometheusConfig({ jobApi: api, tokenFile, scrapeIntervalS: f.scrapeInterval }));
      const binary = f.prometheus ?? findOnPath('prometheus');
      if (!binary) {
        console.log(`Wrote ${configFile}.`);
        ctx.fail(`no 'prometheus' on PATH: ${INSTALL_HINT}; then run: prometheus --config.file=${configFile}`);
      }
      const log = fs.openSync(path.join(dir, 'prometheus.log'), 'a');
      const child = spawn(
        binary,
        [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=${f.host}:${f.port}`,
        ],
        { detached: true, stdio: ['ignore', log, log] },
      );
      child.unref();
      const url = `http://${f.host}:${f.port}`;
      if (!(await ready(url, Date.now() + 30_000)) || child.exitCode !== null) {
        const tail = fs.readFileSync(path.join(dir, 'prometheus.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
        if (child.exitCode === null) child.kill();
        ctx.fail(`prometheus did not become ready at ${url}:\n${tail}`);
      }
      fs.writeFileSync(path.join(dir, 'prometheus.pid'), String(child.pid));
      console.log(
        `Prometheus runs at ${url} (pid ${child.pid}), scraping every node of the cluster found at ${api}/api/prometheus/sd.\n` +
          `Config: ${configFile}. Stop it with 'ray-ts metrics shutdown-prometheus'.`,
      );
    });
  metrics
    .command('shutdown-prometheus')
    .description("stop the Prometheus that 'ray-ts metrics launch-prometheus' started")
    .option('--dir <dir>', 'its folder (default: <session dir>/prometheus)')
    .action((f: { dir?: string }) => {
      const pidFile = path.join(path.resolve(f.dir ?? path.join(sessionDir(), 'prometheus')), 'prometheus.pid');
      let pid: number;
      try {
        pid = Number(fs.readFileSync(pidFile, 'utf8'));
      } catch {
        ctx.fail(`no Prometheus started by ray-ts here (no ${pidFile}).`);
      }
      try {
        process.kill(pid, 'SIGTERM');
        console.log(`Stopped Prometheus (pid ${pid}).`);
      } catch (err) {
        ignored(`Prometheus (pid ${pid}) had already exited`)(err);
      }
      fs.rmSync(pidFile, { force: true });
    });
}
