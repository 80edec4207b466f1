#!/usr/bin/env node
/**
 * The `ray-ts` command: start and stop cluster nodes, show the cluster's status, list its state.
 *
 *   ray-ts start --head [--port 6380] [--num-cpus N] [--num-gpus N] [--resources JSON] [--object-store-memory BYTES] [--auth-token-file FILE]
 *   ray-ts start --address HOST:PORT [same resource options]
 *   ray-ts get-auth-token [--generate]    (the cluster token this machine uses: give it to other hosts as RAY_TS_AUTH_TOKEN)
 *   ray-ts dashboard [--print-url]       (the dashboard's URL, with the token in its #fragment)
 *   ray-ts stop [--force]
 *   ray-ts status [--address HOST:PORT]
 *   ray-ts list nodes|actors|tasks|objects|placement-groups|jobs [--filter key=value ...] [--limit N] [--format table|json]
 *   ray-ts serve run|deploy|status|shutdown ...   (@ray-ts/serve's command line, when it is installed)
 *   ray-ts rllib train|evaluate ...                (@ray-ts/rllib's command line, when it is installed)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Argument, Command, InvalidArgumentError as CliArgError, Option } from 'commander';
import { registerJobCommands } from './cli-job.js';
import { registerMetricsCommands } from './cli-metrics.js';
import { registerDashboardCommand } from './cli-dashboard.js';
import { registerLogsCommands } from './cli-logs.js';
import { registerClusterCommands } from './cli-cluster.js';
import { VERSION } from './cluster/proto.js';
import { withHugePages } from './runtime/huge-pages.js';
import { resolveClusterAddress } from './runtime/cluster-address.js';
import { ensureSessionDir, sessionDir as sessionDirOf } from './runtime/session-dir.js';

const sessionDir = sessionDirOf();

function fail(message: string): never {
  console.error(`ray-ts: ${message}`);
  process.exit(1);
}

function nodeMainPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, 'cluster', 'node-main.js'), path.join(here, 'node-main.js')])
    if (fs.existsSync(p)) return p;
  fail(`cannot find node-main.js next to ${here}: build @ray-ts/core first (npm run build).`);
}

function number(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new CliArgError(`${name} must be a number >= 0`);
    return n;
  };
}

function headAddress(explicit: string | undefined): string {
  return (
    resolveClusterAddress(explicit || undefined, { localHead: true }) ??
    fail(
      `no cluster address: pass --address HOST:PORT, set RAY_TS_ADDRESS, or start a head here with 'ray-ts start --head'.`,
    )
  );
}

interface StartFlags {
  autoscaler?: unknown;
  head?: boolean;
  address?: string;
  port?: number;
  numCpus?: number;
  numGpus?: number;
  resources?: string;
  objectStoreMemory?: number;
  block?: boolean;
  host?: string;
  nodeIpAddress?: string;
  redisAddress?: string;
  nodeTimeoutMs?: number;
  dashboardPort?: number;
  authTokenFile?: string;
  metricsExportPort?: number;
  labels?: string;
  autoscalingConfig?: string;
}

/** A JSON object flag (or variable) of string or number values, checked. */
function jsonObject(name: string, text: string, values: 'number' | 'string'): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail(
      `${name} must be JSON, e.g. ${values === 'number' ? '\'{"accelerator": 2}\'' : '\'{"zone": "a"}\''}; got ${text}`,
    );
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(`${name} must be a JSON object; got ${text}`);
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (values === 'number' ? typeof x !== 'number' || x < 0 : typeof x !== 'string')
      fail(`${name}: ${k} must be ${values === 'number' ? 'a number >= 0' : 'a string'}.`);
  }
  return v as Record<string, unknown>;
}

async function start(f: StartFlags): Promise<void> {
  if (!f.head && !f.address) fail(`start needs --head (a new cluster) or --address HOST:PORT (join one).`);
  if (f.head && f.address) fail(`give either --head or --address, not both.`);
  if (!f.head && (f.redisAddress || f.nodeTimeoutMs !== undefined || f.dashboardPort !== undefined)) {
    fail(`--redis-address, --node-timeout-ms and --dashboard-port are settings of the head: use them with --head.`);
  }
  if (!f.head && f.authTokenFile)
    fail(
      `--auth-token-file is a setting of the head: a node takes the token from RAY_TS_AUTH_TOKEN (or this machine's session directory).`,
    );
  const authTokenFile = f.authTokenFile ? path.resolve(f.authTokenFile) : undefined;
  let tlsCa: string | undefined;
  if (f.head) {
    // The token (and the TLS files) are found here, so that a bad token file or certificate fails
    // before anything starts.
    const { headAuth } = await import('./cluster/auth-token.js');
    try {
      tlsCa = headAuth({ tokenFile: authTokenFile, sessionDir }).tls?.files.ca;
    } catch (err) {
      fail((err as Error).message);
    }
  }
  const resources: Record<string, number> = { CPU: f.numCpus ?? os.availableParallelism() };
  if (f.numGpus) resources.GPU = f.numGpus;
  if (f.resources) {
    for (const [k, v] of Object.entries(jsonObject('--resources', f.resources, 'number'))) {
      if (k === 'CPU' || k === 'GPU') fail(`--resources: use --num-${k === 'CPU' ? 'cpus' : 'gpus'} for ${k}.`);
      resources[k] = v as number;
    }
  }
  // A cluster launcher or autoscaler (Ray's RAY_OVERRIDE_RESOURCES) gives a node type's resources
  // this way, so that start commands of the user's own need not repeat them.
  const override = process.env.RAY_TS_OVERRIDE_RESOURCES;
  if (override && f.numCpus === undefined && f.numGpus === undefined && !f.resources) {
    const r = jsonObject('RAY_TS_OVERRIDE_RESOURCES', override, 'number') as Record<string, number>;
    delete resources.CPU;
    Object.assign(resources, { CPU: r.CPU ?? os.availableParallelism() }, r);
  }
  const labelsText = f.labels ?? process.env.RAY_TS_NODE_LABELS;
  const labels = labelsText
    ? (jsonObject(f.labels ? '--labels' : 'RAY_TS_NODE_LABELS', labelsText, 'string') as Record<string, string>)
    : undefined;
  let autoscaler = f.autoscaler;
  if (f.autoscalingConfig) {
    if (!f.head) fail('--autoscaling-config is a setting of the head: use it with --head.');
    const { parseClusterConfig } = await import('./cluster/cluster-config.js');
    try {
      autoscaler = parseClusterConfig(fs.readFileSync(f.autoscalingConfig, 'utf8'), f.autoscalingConfig);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  if (f.address) {
    const { pingGcs } = await import('./cluster/server.js');
    try {
      await pingGcs(f.address);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  const opts = {
    head: !!f.head,
    gcsAddress: f.address,
    host: f.host,
    nodeIpAddress: f.nodeIpAddress,
    port: f.head ? (f.port ?? 6380) : (f.port ?? 0),
    resources,
    objectStoreBytes: f.objectStoreMemory,
    sessionDir,
    redisAddress: f.redisAddress,
    nodeTimeoutMs: f.nodeTimeoutMs,
    jobApiPort: f.dashboardPort,
    metricsExportPort: f.metricsExportPort,
    autoscaler,
    authTokenFile,
    labels,
  };
  if (f.block) {
    runInForeground(withHugePages({ ...process.env, RAY_TS_NODE_OPTIONS: JSON.stringify({ ...opts, parentFd: 3 }) }));
    return;
  }
  const env = withHugePages({ ...process.env, RAY_TS_NODE_OPTIONS: JSON.stringify({ ...opts, quiet: true }) });
  try {
    ensureSessionDir(sessionDir); // this user's only (mode 0700): it holds the token and the node records
  } catch (err) {
    fail((err as Error).message);
  }
  fs.mkdirSync(path.join(sessionDir, 'logs'), { recursive: true });
  const logPath = path.join(sessionDir, 'logs', `node-${Date.now()}-${process.pid}.log`);
  const log = fs.openSync(logPath, 'a');
  const child = spawn(process.execPath, [nodeMainPath()], { env, detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const info = await new Promise<
    { nodeId: string; address: string; gcsAddress: string; jobApiAddress?: string } | undefined
  >((resolve) => {
    const deadline = Date.now() + 30_000;
    const poll = setInterval(() => {
      const file = path.join(sessionDir, 'nodes', `${child.pid}.json`);
      let record: string | undefined;
      try {
        record = fs.readFileSync(file, 'utf8');
        JSON.parse(record);
      } catch {
        record = undefined; // not there yet (or written by a node of an older version, not whole yet)
      }
      if (record !== undefined) {
        clearInterval(poll);
        resolve(JSON.parse(record) as { nodeId: string; address: string; gcsAddress: string; jobApiAddress?: string });
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        resolve(undefined);
      }
    }, 50);
  });
  if (!info) {
    const tail = fs.readFileSync(logPath, 'utf8').trim().split('\n').slice(-5).join('\n');
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    fail(`the node did not start:\n${tail || '(no output)'}\n(log: ${logPath})`);
  }
  if (f.head) {
    console.log(`Started the head node ${info.nodeId} at ${info.address} (log: ${logPath}).`);
    console.log(`  Add nodes:        ray-ts start --address ${info.address}`);
    console.log(`  Connect drivers:  init({ address: '${info.address}' })  or  RAY_TS_ADDRESS=${info.address}`);
    console.log(`  Status:           ray-ts status`);
    console.log(`  Jobs:             ray-ts job submit -- node script.js   (HTTP API at ${info.jobApiAddress})`);
    console.log(
      `  Dashboard:        ${info.jobApiAddress}/   ('ray-ts dashboard' prints its URL with the cluster token)`,
    );
    if (tlsCa)
      console.log(
        `  TLS:              on: every node, driver and CLI needs RAY_TS_USE_TLS=1 and a certificate signed by ${tlsCa}`,
      );
  } else {
    console.log(`Started node ${info.nodeId} at ${info.address}, joined ${info.gcsAddress} (log: ${logPath}).`);
  }
}

/**
 * `ray-ts start --block`: the node runs as a child (so that its environment can turn huge pages
 * on) and stops with this process, as a launcher (srun, a container's PID 1, systemd) expects:
 * SIGTERM, SIGINT and SIGHUP are passed on and waited for, and this process exits with the node's
 * code. Should this process die without a word (SIGKILL), the node sees the pipe on its fd 3 close
 * and stops too, rather than serve on as an orphan.
 */
function runInForeground(env: NodeJS.ProcessEnv): void {
  const child = spawn(process.execPath, [nodeMainPath()], { env, stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 0)));
}

async function stop(force: boolean): Promise<void> {
  const { checkNodeRecord, readNodeRecords } = await import('./cluster/node-records.js');
  let stopped = 0;
  // Worker nodes first, the head last.
  const records = readNodeRecords(sessionDir).sort((a, b) => Number(!!a.head) - Number(!!b.head));
  for (const n of records) {
    // A record outlives a node killed hard: its pid may be another process's by now.
    const check = checkNodeRecord(n);
    if (check.kind === 'stale') {
      console.log(`Skipped the record ${n.file} of node ${n.nodeId}: ${check.reason}. Removed the record.`);
      fs.rmSync(n.file, { force: true });
      continue;
    }
    if (check.kind === 'gone') {
      fs.rmSync(n.file, { force: true }); // its node died without removing it
      continue;
    }
    try {
      process.kill(n.pid, force ? 'SIGKILL' : 'SIGTERM');
      for (let i = 0; i < 100; i++) {
        process.kill(n.pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      }
      process.kill(n.pid, 'SIGKILL');
    } catch {
      // exited
    }
    fs.rmSync(n.file, { force: true });
    stopped++;
  }
  fs.rmSync(path.join(sessionDir, 'head.json'), { force: true });
  console.log(
    stopped ? `Stopped ${stopped} ray-ts node${stopped === 1 ? '' : 's'}.` : 'No ray-ts nodes were running here.',
  );
}

async function status(address: string): Promise<void> {
  const { clusterStatus, formatClusterStatus } = await import('./cluster/cluster-status.js');
  for (const line of formatClusterStatus(await clusterStatus(address))) console.log(line);
}

function printTable(rows: Record<string, unknown>[]): void {
  if (!rows.length) {
    console.log('(none)');
    return;
  }
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  console.log(cols.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(cols.map((c, i) => cell(r[c]).slice(0, 60).padEnd(widths[i])).join('  '));
  console.log(`${rows.length} row${rows.length === 1 ? '' : 's'}`);
}

const kinds = ['nodes', 'actors', 'tasks', 'objects', 'placement-groups', 'jobs'] as const;

// Positional options: `ray-ts serve ...` (and `rllib`) pass every flag after the command on to the library's own parser.
const program = new Command('ray-ts')
  .version(VERSION)
  .description('ray-ts cluster command line')
  .enablePositionalOptions();
program
  .command('start')
  .description('start a node of a cluster in the background (the head with --head)')
  .option('--head', 'start a new cluster: its head node (GCS and a node)')
  .option('--address <host:port>', 'join the cluster whose head is at this address')
  .option('--port <n>', 'port of this node (head default 6380; others: a free one)', number('--port'))
  .option(
    '--host <host>',
    'interface to listen on (0.0.0.0: all; default: the node IP address, 127.0.0.1 for a head given none)',
  )
  .option(
    '--node-ip-address <ip>',
    'the address other hosts reach this node by (default: the interface that routes to the head; a head: its --host, else 127.0.0.1)',
  )
  .option('--num-cpus <n>', 'CPUs of this node (default: all cores)', number('--num-cpus'))
  .option('--num-gpus <n>', 'GPUs of this node', number('--num-gpus'))
  .option('--resources <json>', 'custom resources, e.g. \'{"accelerator": 2}\'')
  .option('--object-store-memory <bytes>', 'object store capacity in bytes', number('--object-store-memory'))
  .option(
    '--redis-address <url>',
    'head: keep the GCS tables in Redis (redis://HOST:PORT), so a restarted head finds them',
  )
  .option(
    '--node-timeout-ms <ms>',
    'head: a node missing heartbeats this long is dead (default 5000)',
    number('--node-timeout-ms'),
  )
  .option(
    '--dashboard-port <n>',
    'head: port of the dashboard and the HTTP job API (default 8265; 0: a free one)',
    number('--dashboard-port'),
  )
  .option(
    '--auth-token-file <file>',
    "head: the cluster's token, when RAY_TS_AUTH_TOKEN is not set (default: the session directory's, made if missing)",
  )
  .option(
    '--metrics-export-port <n>',
    "port of this node's Prometheus endpoint, /metrics (default: a free one; RAY_TS_METRICS_ENABLED=0 turns it off)",
    number('--metrics-export-port'),
  )
  .option('--labels <json>', 'labels of this node, e.g. \'{"zone": "a"}\' (default: RAY_TS_NODE_LABELS)')
  .option(
    '--autoscaling-config <file>',
    'head: run an autoscaler with this cluster config (what `ray-ts up` leaves on the head)',
  )
  .option('--block', 'run in the foreground')
  .action((f: StartFlags) => start(f));
program
  .command('get-auth-token')
  .description(
    "print the cluster token this machine's processes use (RAY_TS_AUTH_TOKEN, else the session directory's): give it to other hosts as RAY_TS_AUTH_TOKEN",
  )
  .option('--generate', "make the session directory's token if there is none")
  .action(async (f: { generate?: boolean }) => {
    const { clientAuth, headAuth } = await import('./cluster/auth-token.js');
    let auth;
    try {
      auth = f.generate ? headAuth({ sessionDir }) : clientAuth({ sessionDir });
    } catch (err) {
      fail((err as Error).message);
    }
    if (auth.kind === 'disabled') fail('RAY_TS_AUTH_MODE=disabled: this machine uses no token.');
    if (auth.kind === 'none')
      fail(
        `no cluster token here (looked in ${auth.looked}): start a head ('ray-ts start --head'), or pass --generate.`,
      );
    console.log(auth.token);
  });
program
  .command('stop')
  .description('stop the nodes started on this machine')
  .option('--force', 'SIGKILL instead of SIGTERM')
  .action((f: { force?: boolean }) => stop(!!f.force));
program
  .command('status')
  .description('nodes, resources used/total, pending and infeasible demand')
  .option('--address <host:port>', 'the head (default: RAY_TS_ADDRESS or the head started here)')
  .action((f: { address?: string }) => status(headAddress(f.address)));
program
  .command('list')
  .description('list cluster state')
  .addArgument(new Argument('<kind>', 'what to list').choices(kinds))
  .option('--address <host:port>', 'the head (default: RAY_TS_ADDRESS or the head started here)')
  .option('--filter <key=value...>', 'keep rows where key=value (or key!=value)')
  .option('--limit <n>', 'at most this many rows', number('--limit'), 1000)
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
  .action(
    async (kind: (typeof kinds)[number], f: { address?: string; filter?: string[]; limit: number; format: string }) => {
      const address = headAddress(f.address);
      const filters = (f.filter ?? []).map((s) => {
        const m = /^([^!=]+)(!=|=)(.*)$/.exec(s);
        if (!m) fail(`--filter ${s}: expected key=value or key!=value`);
        return [m[1], m[2] as '=' | '!=', m[3]] as const;
      });
      const api = await import('./api/state.js');
      const fn = {
        nodes: api.listNodes,
        actors: api.listActors,
        tasks: api.listTasks,
        objects: api.listObjects,
        'placement-groups': api.listPlacementGroups,
        jobs: api.listJobs,
      }[kind];
      const rows = await fn({ address, filters, limit: f.limit });
      if (f.format === 'json') console.log(JSON.stringify(rows, null, 2));
      else printTable(rows);
    },
  );

program
  .command('timeline')
  .description(
    "write the cluster's recent task runs as a Chrome trace (load it in https://ui.perfetto.dev or chrome://tracing)",
  )
  .option('--address <host:port>', 'the head (default: RAY_TS_ADDRESS or the head started here)')
  .option('-o, --output <file>', 'where to write it (default: ray-ts-timeline-<time>.json here)')
  .action(async (f: { address?: string; output?: string }) => {
    const address = headAddress(f.address);
    const file = f.output ?? `ray-ts-timeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    const { timeline } = await import('./api/timeline.js');
    const events = await timeline({ address, filename: file });
    const workers = new Set(events.map((e) => `${e.pid}/${e.tid}`)).size;
    console.log(
      `wrote ${events.length} task runs on ${workers} workers to ${file}: open it in https://ui.perfetto.dev or chrome://tracing`,
    );
  });

registerJobCommands(program, { fail, headAddress, printTable });
registerMetricsCommands(program, { fail, headAddress, printTable });
registerDashboardCommand(program, { fail, headAddress, printTable });
registerLogsCommands(program, { fail, headAddress, printTable });
registerClusterCommands(program, {
  fail,
  sessionDir,
  startLocal: (config, flags) => start({ host: '127.0.0.1', ...flags, head: true, autoscaler: config }),
  stopLocal: () => stop(false),
});

// ---------------------------------------------------------------- library commands
/**
 * `ray-ts serve ...` and `ray-ts rllib ...` are the command lines of @ray-ts/serve and
 * @ray-ts/rllib, loaded at run time from the user's project (else from next to core), so that core
 * depends on neither.
 */
async function libraryCli(pkg: string, command: string): Promise<(argv: string[]) => Promise<number>> {
  let file: string | undefined;
  for (const from of [path.join(process.cwd(), 'noop.js'), fileURLToPath(import.meta.url)]) {
    try {
      file = createRequire(from).resolve(`${pkg}/cli`);
      break;
    } catch {
      // try the next place
    }
  }
  if (!file) fail(`ray-ts ${command} needs ${pkg}: npm install ${pkg}`);
  try {
    return ((await import(pathToFileURL(file).href)) as { main: (argv: string[]) => Promise<number> }).main;
  } catch (err) {
    fail(`cannot load the ${command} command from ${file}: ${(err as Error).message}`);
  }
}

for (const [command, pkg, description] of [
  [
    'serve',
    '@ray-ts/serve',
    'run and deploy Serve applications: ray-ts serve run|deploy|status|shutdown (ray-ts serve --help; needs @ray-ts/serve)',
  ],
  [
    'rllib',
    '@ray-ts/rllib',
    'train and evaluate RL algorithms: ray-ts rllib train|evaluate (ray-ts rllib --help; needs @ray-ts/rllib)',
  ],
] as const) {
  program
    .command(command)
    .description(description)
    .argument('[args...]', `the ${command} command and its arguments`)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .action(async (args: string[]) => {
      const main = await libraryCli(pkg, command);
      process.exit(await main(args));
    });
}

program.parseAsync(process.argv).catch((err: Error) => fail(err.message));
