/**
 * The slurm node provider: each worker node is a Slurm batch job of one task on one node
 * (`sbatch`), named `ray-ts-<cluster>-<type>`, that runs the initialization, setup and worker
 * setup commands and then `ray-ts start --address=$RAY_TS_ADDRESS --block`, so the job lasts as
 * long as the node and the node stops gracefully when the job is cancelled (`scancel` sends
 * SIGTERM, which `--block` passes on). Jobs are tracked with `squeue` (pending ones count as
 * nodes on their way; ended ones are gone); a head that restarts adopts the running jobs of its
 * cluster by their names. The node's resources go in `--cpus-per-task` and
 * `RAY_TS_OVERRIDE_RESOURCES`; its provider id is `slurm-<job id>` (a label the job sets).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ClusterLaunchError } from '../errors.js';
import { getLogger } from '../log.js';
import { NODE_TYPE_LABEL, PROVIDER_ID_LABEL, type NodeProvider, type ProviderNode } from './autoscaler.js';
import type { ClusterConfig, ClusterConfigOf } from './cluster-config.js';
import { startEnv } from './provider-ssh.js';

const log = getLogger('ray-ts.autoscaler');

export type SlurmClusterConfig = ClusterConfigOf<'slurm'>;

/** Runs a Slurm command; resolves with its standard output (rejects with what it printed). */
export type SlurmCommand = (
  cmd: string,
  args: string[],
  opts?: { input?: string; env?: NodeJS.ProcessEnv },
) => Promise<string>;

export const runSlurm: SlurmCommand = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) => {
    // A slurmctld that does not answer must not hold the autoscaler's step for long.
    const timeout = cmd === 'sbatch' ? 30_000 : 15_000;
    const child = execFile(cmd, args, { env: opts.env ?? process.env, timeout }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException;
      reject(
        new ClusterLaunchError(
          e.code === 'ENOENT'
            ? `'${cmd}' is not on the PATH: the slurm provider runs on a machine with Slurm's commands (a login node).`
            : `${cmd} ${args.join(' ')} failed: ${(stderr || e.message).trim()}`,
        ),
      );
    });
    child.stdin?.end(opts.input ?? '');
  });

/** The job name of a node type's nodes (squeue finds the cluster's jobs by these). */
export const slurmJobName = (cluster: string, type: string) => `ray-ts-${cluster}-${type}`;

/** The batch script of a worker node. */
export function workerBatchScript(c: ClusterConfig, type: string): string {
  const labels = `{"${NODE_TYPE_LABEL}":${JSON.stringify(type)},"${PROVIDER_ID_LABEL}":"slurm-'"$SLURM_JOB_ID"'"}`;
  const start = c.workerStartRayCommands ?? ['exec ray-ts start --address="$RAY_TS_ADDRESS" --block'];
  return [
    '#!/bin/sh',
    `# a ray-ts worker node of the cluster '${c.clusterName}' (type '${type}'), started by its head's autoscaler`,
    'set -e',
    `export RAY_TS_NODE_LABELS='${labels}'`,
    ...c.initializationCommands,
    ...c.setupCommands,
    ...c.workerSetupCommands,
    ...start,
    '',
  ].join('\n');
}

interface Job {
  node: ProviderNode;
  jobId: string;
}

/** Job states of a node that is there or on its way. */
const ACTIVE = ['PENDING', 'CONFIGURING', 'RUNNING', 'SUSPENDED'];

/** How often squeue is asked at most. */
const POLL_MS = 2_000;

export class SlurmNodeProvider implements NodeProvider {
  private readonly jobs = new Map<string, Job>();
  private lastPoll = 0;

  constructor(
    private readonly config: SlurmClusterConfig,
    private readonly opts: {
      /** The head's GCS address, as compute nodes reach it. */
      gcsAddress: string;
      /** The head's auth variables: the jobs get the token in their environment. */
      authEnv: Record<string, string>;
      /** Where jobs write their output (on the file system the compute nodes share). */
      logDir: string;
      run?: SlurmCommand;
    },
  ) {}

  private get run(): SlurmCommand {
    return this.opts.run ?? runSlurm;
  }

  private names(): string[] {
    return Object.keys(this.config.nodeTypes).map((t) => slurmJobName(this.config.clusterName, t));
  }

  async createNode(type: string, resources: Record<string, number>): Promise<ProviderNode> {
    const c = this.config;
    const t = c.nodeTypes[type];
    const extra = t.nodeConfig?.sbatchOptions ?? t.nodeConfig?.sbatch_options ?? [];
    if (!Array.isArray(extra) || extra.some((o) => typeof o !== 'string'))
      throw new ClusterLaunchError(
        `available_node_types.${type}.node_config.sbatch_options must be a list of strings.`,
      );
    fs.mkdirSync(this.opts.logDir, { recursive: true });
    const args = [
      '--parsable',
      `--job-name=${slurmJobName(c.clusterName, type)}`,
      '--nodes=1',
      '--ntasks=1',
      `--cpus-per-task=${Math.max(1, Math.ceil(resources.CPU ?? 1))}`,
      `--output=${path.join(this.opts.logDir, `slurm-${c.clusterName}-%j.out`)}`,
      ...(c.provider.partition ? [`--partition=${c.provider.partition}`] : []),
      ...(c.provider.account ? [`--account=${c.provider.account}`] : []),
      ...c.provider.sbatchOptions,
      ...(extra as string[]),
    ];
    // The head's own node options are not the job's.
    const { RAY_TS_NODE_OPTIONS: _own, ...env } = process.env;
    const out = await this.run('sbatch', args, {
      input: workerBatchScript(c, type),
      env: {
        ...env,
        ...this.opts.authEnv,
        ...startEnv(this.headIp(), this.opts.gcsAddress, resources, {}),
      },
    });
    const jobId = out.trim().split(';')[0];
    if (!/^\d+$/.test(jobId)) throw new ClusterLaunchError(`sbatch printed no job id: ${out.trim()}`);
    const node: ProviderNode = { providerId: `slurm-${jobId}`, type, nodeId: undefined };
    this.jobs.set(node.providerId, { node, jobId });
    log.info(`submitted Slurm job ${jobId} for a '${type}' node`);
    return node;
  }

  private headIp(): string {
    return this.opts.gcsAddress.slice(0, this.opts.gcsAddress.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  }

  /** Asks squeue which of the cluster's jobs are still queued or running (at most every 2 s). */
  async refresh(): Promise<void> {
    if (Date.now() - this.lastPoll < POLL_MS) return;
    this.lastPoll = Date.now();
    let out: string;
    try {
      out = await this.run('squeue', ['--noheader', '--format=%i|%j|%T', `--name=${this.names().join(',')}`]);
    } catch (err) {
      log.error(`squeue failed (the cluster's jobs are assumed unchanged): ${(err as Error).message}`);
      return;
    }
    const live = new Map<string, { name: string; state: string }>();
    for (const line of out.split('\n')) {
      const [id, name, state] = line.trim().split('|');
      if (id && name && state) live.set(id, { name, state });
    }
    for (const [pid, j] of this.jobs) {
      const s = live.get(j.jobId);
      if (!s || !ACTIVE.includes(s.state)) this.jobs.delete(pid); // ended, failed, cancelled, ending
    }
    // Jobs of this cluster nobody tracks: a head that restarted adopts them.
    for (const [id, s] of live) {
      const providerId = `slurm-${id}`;
      if (this.jobs.has(providerId) || !ACTIVE.includes(s.state)) continue;
      const type = Object.keys(this.config.nodeTypes).find((t) => slurmJobName(this.config.clusterName, t) === s.name);
      if (type) this.jobs.set(providerId, { node: { providerId, type, nodeId: undefined }, jobId: id });
    }
  }

  async terminateNode(providerId: string): Promise<void> {
    const j = this.jobs.get(providerId);
    if (!j) return;
    this.jobs.delete(providerId);
    try {
      await this.run('scancel', [j.jobId]);
    } catch (err) {
      log.error(`scancel ${j.jobId} failed: ${(err as Error).message}`);
    }
  }

  nodes(): ProviderNode[] {
    return [...this.jobs.values()].map((j) => j.node);
  }
}

/** Cancels every job of the cluster (`ray-ts down` after the head, in case it could not). */
export async function cancelClusterJobs(c: SlurmClusterConfig, run: SlurmCommand = runSlurm): Promise<void> {
  const names = Object.keys(c.nodeTypes).map((t) => slurmJobName(c.clusterName, t));
  await run('scancel', [`--name=${names.join(',')}`]).catch((err: Error) => {
    throw new ClusterLaunchError(`could not cancel the cluster's Slurm jobs (${names.join(', ')}): ${err.message}`);
  });
}
