/**
 * `ray-ts up|down|exec|submit CONFIG`: the cluster launcher (Ray's commands of the same names).
 * A config without a provider (or `type: local`) runs the head and its autoscaled nodes as
 * processes of this machine; an ssh provider runs them on the hosts it lists (cluster/launcher.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError as CliArgError } from 'commander';
import type { ClusterConfig } from './cluster/cluster-config.js';
import type { SshClusterConfig } from './cluster/provider-ssh.js';
import type { SlurmClusterConfig } from './cluster/provider-slurm.js';

/** What the start flags of the head of a local cluster say. */
export interface LocalHeadFlags {
  port?: number;
  dashboardPort?: number;
  numCpus?: number;
  numGpus?: number;
  resources?: string;
  /** The interface the head listens on and the address it advertises (default 127.0.0.1). */
  host?: string;
  nodeIpAddress?: string;
}

/** This machine's first non-loopback IPv4 address (where compute nodes reach a head on a login node). */
function routableAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

export interface ClusterCliContext {
  fail(message: string): never;
  sessionDir: string;
  /** Starts a head with an autoscaler on this machine (`ray-ts start --head`). */
  startLocal(config: ClusterConfig, flags: LocalHeadFlags): Promise<void>;
  /** Stops the nodes started on this machine (`ray-ts stop`). */
  stopLocal(): Promise<void>;
}

const port = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliArgError(`${name} must be a port number`);
  return n;
};

async function load(ctx: ClusterCliContext, file: string): Promise<ClusterConfig> {
  const { parseClusterConfig } = await import('./cluster/cluster-config.js');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    ctx.fail(
      `cannot read the cluster config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return parseClusterConfig(text, file);
  } catch (err) {
    ctx.fail((err as Error).message);
  }
}

function ssh(ctx: ClusterCliContext, c: ClusterConfig, command: string): SshClusterConfig {
  if (c.provider.type !== 'ssh')
    ctx.fail(
      `ray-ts ${command} needs a cluster on other hosts (provider: { type: ssh, head_ip, worker_ips }); ` +
        `this config's nodes run on this machine: use ray-ts status, or run the command here with RAY_TS_ADDRESS set.`,
    );
  return c as SshClusterConfig;
}

const launcherOpts = (ctx: ClusterCliContext) => ({
  sessionDir: ctx.sessionDir,
  print: (line: string) => {
    if (line) console.log(line);
  },
  output: (chunk: string) => process.stdout.write(chunk),
});

export function registerClusterCommands(program: Command, ctx: ClusterCliContext): void {
  program
    .command('up')
    .description('start a cluster from a config: a head with an autoscaler that adds and removes nodes by demand')
    .argument(
      '<config>',
      "cluster YAML in Ray's shape: provider, auth, available_node_types, head_node_type, max_workers, setup_commands, file_mounts, ...",
    )
    .option('--port <n>', 'local clusters: port of the head (default 6380)', port('--port'))
    .option(
      '--dashboard-port <n>',
      'local clusters: port of the HTTP job API (default 8265; 0: a free one)',
      port('--dashboard-port'),
    )
    .action(async (file: string, f: { port?: number; dashboardPort?: number }) => {
      const c = await load(ctx, file);
      if (c.provider.type === 'ssh') {
        const { up } = await import('./cluster/launcher.js');
        await up(c as SshClusterConfig, launcherOpts(ctx));
        return;
      }
      const { CPU, GPU, ...custom } = c.head.resources;
      // A Slurm cluster's head runs here (a login node), where its compute nodes can reach it.
      let host: string | undefined;
      if (c.provider.type === 'slurm') {
        host = c.provider.headIp ?? routableAddress();
        if (!host) ctx.fail('no network address here for the compute nodes to reach the head: set provider.head_ip.');
        c.provider.headIp = host;
      }
      await ctx.startLocal(c, {
        ...(host ? { host, nodeIpAddress: host } : {}),
        port: f.port,
        dashboardPort: f.dashboardPort,
        numCpus: CPU ?? 1,
        numGpus: GPU,
        resources: Object.keys(custom).length ? JSON.stringify(custom) : undefined,
      });
    });
  program
    .command('down')
    .description('stop the cluster of a config (with no config: the nodes started on this machine)')
    .argument('[config]', 'the cluster YAML given to up')
    .action(async (file: string | undefined) => {
      const c = file === undefined ? undefined : await load(ctx, file);
      if (c?.provider.type === 'slurm') {
        await ctx.stopLocal(); // the head's autoscaler cancels the jobs it submitted
        const { cancelClusterJobs } = await import('./cluster/provider-slurm.js');
        await cancelClusterJobs(c as SlurmClusterConfig); // and any it could not
        return;
      }
      if (c?.provider.type !== 'ssh') return ctx.stopLocal();
      const { down } = await import('./cluster/launcher.js');
      await down(c as SshClusterConfig, launcherOpts(ctx));
    });
  program
    .command('exec')
    .description("run a shell command on the cluster's head host, with RAY_TS_ADDRESS set to the cluster")
    .argument('<config>', 'the cluster YAML given to up')
    .argument('<command...>', 'the command (quote it, or put it after --)')
    .action(async (file: string, command: string[]) => {
      const c = ssh(ctx, await load(ctx, file), 'exec');
      const { exec } = await import('./cluster/launcher.js');
      process.exitCode = await exec(c, command.join(' '), launcherOpts(ctx));
    });
  program
    .command('submit')
    .description('copy a script to the head host and run it there with node (RAY_TS_ADDRESS set to the cluster)')
    .argument('<config>', 'the cluster YAML given to up')
    .argument('<script>', 'a JavaScript file')
    .argument('[args...]', "the script's arguments")
    .action(async (file: string, script: string, args: string[]) => {
      const c = ssh(ctx, await load(ctx, file), 'submit');
      if (!fs.existsSync(script)) ctx.fail(`${script} does not exist.`);
      const { submit } = await import('./cluster/launcher.js');
      process.exitCode = await submit(c, script, args, launcherOpts(ctx));
    });
}
