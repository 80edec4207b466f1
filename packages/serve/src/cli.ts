#!/usr/bin/env node
/**
 * The `ray-ts serve` command (also the `ray-ts-serve` bin), as Ray's `serve` CLI:
 *
 *   ray-ts serve run <config.yaml | module.ts:app> [key=value ...] [--address HOST:PORT] [--host H] [--port P] [--name N] [--route-prefix /p]
 *   ray-ts serve deploy <config.yaml> [--address HOST:PORT]
 *   ray-ts serve status [--address HOST:PORT]
 *   ray-ts serve shutdown [--address HOST:PORT] [--yes]
 *
 * `run` deploys in the foreground (on a cluster of its own in this process, unless given an
 * address) until Ctrl-C; `deploy` sends a config to a running cluster, where it keeps running.
 */
import readline from 'node:readline/promises';
import { Command, InvalidArgumentError as CliArgError } from 'commander';
import { init, resolveClusterAddress, runCommand, runIfEntryScript, shutdown as disconnect } from '@ray-ts/core';
import YAML from 'yaml';
import { deployApps, delete as deleteApp, shutdown as serveShutdown, start, status } from './api.js';
import { buildFromImportPath, loadServeConfig, type LoadedServeConfig } from './config-file.js';
import type { ServeStatus } from './controller-api.js';
import type { StartOptions } from './options.js';

/** A failure to report as `ray-ts serve: <message>` and exit 1. */
class CliFailure extends Error {}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliArgError('expected a port number (0-65535)');
  return n;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliArgError('expected a number of seconds > 0');
  return n;
}

/** The cluster to talk to: --address, RAY_TS_ADDRESS, or the head `ray-ts start --head` started on this machine. */
function clusterAddress(explicit: string | undefined): string {
  const address = resolveClusterAddress(explicit || undefined, { localHead: true });
  if (address) return address;
  throw new CliFailure(
    `no cluster address: pass --address HOST:PORT, set RAY_TS_ADDRESS, or start a head here with 'ray-ts start --head' ` +
      `('ray-ts serve run' runs a cluster of its own instead).`,
  );
}

/** Connects to a running cluster as a driver, runs `fn`, and disconnects (Serve's actors are detached: they stay). */
async function withCluster<T>(address: string, fn: () => Promise<T>): Promise<T> {
  await init({ address, logToDriver: false });
  try {
    return await fn();
  } finally {
    await disconnect();
  }
}

function isConfigFile(target: string): boolean {
  return /\.ya?ml$/i.test(target);
}

function parseBuilderArgs(pairs: string[]): Record<string, string> | undefined {
  if (!pairs.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new CliFailure(`app builder arguments are key=value pairs; got '${p}'.`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** Where each app serves, as a user would curl it. */
function describeApps(apps: LoadedServeConfig['apps'], st: ServeStatus, host: string | undefined): string[] {
  const proxies = Object.values(st.proxies);
  const proxy =
    proxies.find((p) => p.status === 'HEALTHY' && p.httpPort !== undefined) ??
    proxies.find((p) => p.httpPort !== undefined);
  const shownHost =
    !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return apps.map(({ name, routePrefix }) => {
    if (routePrefix === null)
      return `Deployed app '${name}' (no HTTP route; call it through serve.getAppHandle('${name}')).`;
    if (!proxy) return `Deployed app '${name}' (no HTTP proxy is running: proxy_location is Disabled).`;
    return `Serving app '${name}' at http://${shownHost}:${proxy.httpPort}${routePrefix}`;
  });
}

/** Resolves at the first SIGINT or SIGTERM (also one that came before the call). */
function stopSignal(): { wait: () => Promise<NodeJS.Signals> } {
  let got: NodeJS.Signals | undefined;
  let wake: ((s: NodeJS.Signals) => void) | undefined;
  const on = (s: NodeJS.Signals) => {
    if (got) {
      console.error(`ray-ts serve: ${s} again: exiting without a clean shutdown.`);
      process.exit(130);
    }
    got = s;
    wake?.(s);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    wait: () =>
      new Promise((resolve) => {
        if (got) return resolve(got);
        // Signal handlers alone do not keep Node running (a driver of a remote cluster may have nothing else).
        const keepAlive = setInterval(() => undefined, 1 << 30);
        wake = (s) => {
          clearInterval(keepAlive);
          resolve(s);
        };
      }),
  };
}

interface RunFlags {
  address?: string;
  host?: string;
  port?: number;
  name?: string;
  routePrefix?: string;
  timeoutS?: number;
}

async function run(target: string, builderArgs: string[], f: RunFlags): Promise<number> {
  const signal = stopSignal(); // before anything slow, so an early Ctrl-C still shuts down cleanly
  let loaded: LoadedServeConfig;
  if (isConfigFile(target)) {
    if (f.name !== undefined || f.routePrefix !== undefined || builderArgs.length) {
      throw new CliFailure(
        `--name, --route-prefix and key=value arguments go with an import path; a config file sets name, route_prefix and args of each application.`,
      );
    }
    loaded = await loadServeConfig(target);
    if (!loaded.apps.length) throw new CliFailure(`${target} has no applications to run.`);
  } else {
    const app = await buildFromImportPath(target, process.cwd(), parseBuilderArgs(builderArgs));
    const routePrefix = f.routePrefix === undefined ? '/' : f.routePrefix === 'none' ? null : f.routePrefix;
    loaded = { start: {}, apps: [{ name: f.name ?? 'default', routePrefix, app }] };
  }
  const startOptions: StartOptions = { ...loaded.start };
  if (f.host !== undefined || f.port !== undefined) {
    startOptions.http = {
      ...startOptions.http,
      ...(f.host !== undefined ? { host: f.host } : {}),
      ...(f.port !== undefined ? { port: f.port } : {}),
    };
  }
  const address = f.address || process.env.RAY_TS_ADDRESS || undefined;
  const info = await init(address ? { address } : { address: 'local' });
  let code = 0;
  try {
    console.error(
      address
        ? `Connected to the ray-ts cluster at ${info.address}.`
        : `Started a local ray-ts cluster in this process.`,
    );
    await start(startOptions);
    await deployApps(loaded.apps, f.timeoutS);
    for (const line of describeApps(loaded.apps, await status(), startOptions.http?.host)) console.log(line);
    console.error('Press Ctrl-C to shut down.');
    const s = await signal.wait();
    console.error(`Got ${s}: shutting down Serve.`);
    await serveShutdown();
  } catch (err) {
    console.error(`ray-ts serve: ${(err as Error).message}`);
    code = 1;
    // On a cluster of its own, leave nothing behind; on a shared one, the other apps stay.
    if (!address) await serveShutdown().catch(() => undefined);
  } finally {
    await disconnect();
  }
  return code;
}

async function deploy(file: string, f: { address?: string; timeoutS?: number }): Promise<number> {
  if (!isConfigFile(file))
    throw new CliFailure(
      `deploy takes a config file (.yaml); got '${file}'. To try an import path, use 'ray-ts serve run'.`,
    );
  const address = clusterAddress(f.address);
  const loaded = await loadServeConfig(file); // before connecting: a bad file fails fast
  return withCluster(address, async () => {
    await start(loaded.start);
    // As Ray's `serve deploy`, the config is the whole desired state: apps it does not name go.
    const keep = new Set(loaded.apps.map((a) => a.name));
    for (const name of Object.keys((await status()).applications)) {
      if (keep.has(name)) continue;
      console.error(`Deleting app '${name}': it is not in ${file}.`);
      await deleteApp(name);
    }
    await deployApps(loaded.apps, f.timeoutS);
    const st = await status();
    console.error(
      `Deployed ${loaded.apps.length} app${loaded.apps.length === 1 ? '' : 's'} to the cluster at ${address}.`,
    );
    for (const line of describeApps(loaded.apps, st, loaded.start.http?.host)) console.error(line);
    console.log(YAML.stringify(st).trimEnd());
    return 0;
  });
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function program(setCode: (code: number) => void): Command {
  const cmd = new Command('ray-ts serve')
    .description('run and deploy Serve applications (Ray Serve config files, or module.ts:app import paths)')
    .exitOverride()
    .showHelpAfterError();
  const addressOption = [
    '--address <host:port>',
    "the cluster's head (default: RAY_TS_ADDRESS, else the head started on this machine)",
  ] as const;
  cmd
    .command('run')
    .description(
      'deploy applications and serve them until Ctrl-C (on a cluster in this process unless --address or RAY_TS_ADDRESS is given)',
    )
    .argument(
      '<config-or-import-path>',
      'a config file (.yaml), or path/to/module.ts:exportName (an application, a deployment or an app builder)',
    )
    .argument('[args...]', 'key=value arguments for an app builder named by an import path')
    .option('--address <host:port>', 'run on this cluster instead of one in this process (default: RAY_TS_ADDRESS)')
    .option('--host <host>', 'HTTP address to listen on (overrides http_options.host)')
    .option('--port <port>', 'HTTP port (overrides http_options.port)', port)
    .option('--name <name>', 'name of the application of an import path (default: default)')
    .option(
      '--route-prefix <prefix>',
      'route prefix of the application of an import path (default: /; none: no HTTP route)',
    )
    .option('--timeout-s <seconds>', 'seconds to wait for the applications to be RUNNING (default 120)', seconds)
    .action(async (target: string, args: string[], f: RunFlags) => setCode(await run(target, args, f)));
  cmd
    .command('deploy')
    .description(
      'deploy a config file to a running cluster (apps it does not name are deleted), wait until RUNNING, and disconnect',
    )
    .argument('<config>', 'the config file (.yaml)')
    .option(...addressOption)
    .option('--timeout-s <seconds>', 'seconds to wait for the applications to be RUNNING (default 120)', seconds)
    .action(async (file: string, f: { address?: string; timeoutS?: number }) => setCode(await deploy(file, f)));
  cmd
    .command('status')
    .description('print the status of Serve on a cluster (proxies, applications, deployments) as YAML')
    .option(...addressOption)
    .action(async (f: { address?: string }) => {
      const st = await withCluster(clusterAddress(f.address), () => status());
      console.log(YAML.stringify(st).trimEnd());
      setCode(0);
    });
  cmd
    .command('shutdown')
    .description('shut Serve down on a cluster: every application, the proxies and the controller')
    .option(...addressOption)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (f: { address?: string; yes?: boolean }) => {
      const address = clusterAddress(f.address);
      if (!f.yes) {
        if (!process.stdin.isTTY)
          throw new CliFailure('shutdown asks for confirmation: pass --yes (stdin is not a terminal).');
        if (!(await confirm(`Shut down Serve and all its applications on the cluster at ${address}?`))) {
          console.error('Aborted.');
          setCode(1);
          return;
        }
      }
      await withCluster(address, () => serveShutdown());
      console.log(`Shut down Serve on the cluster at ${address}.`);
      setCode(0);
    });
  return cmd;
}

/**
 * Runs the `serve` command line with `argv` (the arguments after `serve`) and resolves to the
 * exit code: 0 on success, 1 with the error printed on failure (a usage error prints the help).
 * `run` resolves only after SIGINT or SIGTERM.
 * @example
 * process.exit(await main(['deploy', 'serve.yaml', '--address', '127.0.0.1:6380']));
 */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  return runCommand(
    'serve',
    program((c) => (code = c)),
    argv,
    () => code,
  );
}

runIfEntryScript(import.meta.url, main);
