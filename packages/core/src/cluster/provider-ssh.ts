/**
 * The ssh node provider (Ray's on-premise `local` provider): worker nodes on hosts listed in
 * `provider.worker_ips`, one node per host. To start one, the head's autoscaler copies the file
 * mounts to a free host, runs the initialization, setup and worker setup commands there, then the
 * worker start commands (`ray-ts stop; ray-ts start --address=$RAY_TS_ADDRESS` unless the config
 * gives its own), with the node's resources and labels in the environment and the cluster token on
 * standard input. To stop one it runs `ray-ts stop` there. A host whose start failed is left alone
 * for a minute (the autoscaler picks another meanwhile) and the failure is logged on the head.
 */
import path from 'node:path';
import { ClusterLaunchError } from '../errors.js';
import { getLogger } from '../log.js';
import { NODE_TYPE_LABEL, PROVIDER_ID_LABEL, type NodeProvider, type ProviderNode } from './autoscaler.js';
import type { ClusterConfigOf } from './cluster-config.js';
import { rsyncTo, sshCheck, type SshTarget } from './ssh.js';

const log = getLogger('ray-ts.autoscaler');

export type SshClusterConfig = ClusterConfigOf<'ssh'>;

/** How long a host whose node failed to start is skipped. */
const FAILED_HOST_PAUSE_MS = 60_000;
/** A start command that takes longer than this failed. */
const START_TIMEOUT_MS = 180_000;

/** Where the cluster's host keys are kept on the machine that talks to its hosts. */
export function knownHostsFile(sessionDir: string, clusterName: string): string {
  return path.join(sessionDir, 'clusters', clusterName, 'known_hosts');
}

/** The ssh target of a host of the cluster. */
export function targetOf(c: SshClusterConfig, host: string, keyFile: string, knownHosts: string): SshTarget {
  return { host, user: c.auth.sshUser, port: c.provider.sshPort, keyFile, knownHostsFile: knownHosts };
}

/**
 * The environment of a node's start commands: where the head is (Ray's `RAY_HEAD_IP`, and
 * `RAY_TS_ADDRESS`), the node's resources (`RAY_TS_OVERRIDE_RESOURCES`, which `ray-ts start`
 * takes when no resource flags are given) and labels (`RAY_TS_NODE_LABELS`).
 */
export function startEnv(
  headIp: string,
  gcsAddress: string,
  resources: Record<string, number>,
  labels: Record<string, string>,
): Record<string, string> {
  return {
    RAY_HEAD_IP: headIp,
    RAY_TS_ADDRESS: gcsAddress,
    RAY_TS_OVERRIDE_RESOURCES: JSON.stringify(resources),
    RAY_TS_NODE_LABELS: JSON.stringify(labels),
  };
}

/** Splits the head's auth variables: the token goes on stdin, the rest on the command line. */
export function splitAuthEnv(env: Record<string, string>): {
  env: Record<string, string>;
  secretEnv: Record<string, string>;
} {
  const { RAY_TS_AUTH_TOKEN, ...rest } = env;
  return { env: rest, secretEnv: RAY_TS_AUTH_TOKEN ? { RAY_TS_AUTH_TOKEN } : {} };
}

export const DEFAULT_WORKER_START = ['ray-ts stop', 'ray-ts start --address=$RAY_TS_ADDRESS'];

interface Running {
  node: ProviderNode;
  host: string;
  /** terminateNode was called: a start still under way is undone when it ends. */
  stopped: boolean;
}

export class SshNodeProvider implements NodeProvider {
  private readonly running = new Map<string, Running>();
  private readonly pausedUntil = new Map<string, number>();

  constructor(
    private readonly config: SshClusterConfig,
    private readonly opts: {
      /** The head's GCS address, as the hosts reach it. */
      gcsAddress: string;
      /** The head's auth variables (auth-token.ts's authEnv): the token goes to nodes on stdin. */
      authEnv: Record<string, string>;
      knownHostsFile: string;
    },
  ) {}

  private target(host: string): SshTarget {
    const key = this.config.auth.sshPrivateKey;
    if (!key) throw new ClusterLaunchError('the ssh provider needs auth.ssh_private_key on the head.');
    return targetOf(this.config, host, key, this.opts.knownHostsFile);
  }

  async createNode(type: string, resources: Record<string, number>): Promise<ProviderNode> {
    const now = Date.now();
    const busy = new Set([...this.running.values()].map((r) => r.host));
    const host = this.config.provider.workerIps.find((ip) => !busy.has(ip) && (this.pausedUntil.get(ip) ?? 0) <= now);
    if (!host)
      throw new ClusterLaunchError(
        `no free host in provider.worker_ips for a '${type}' node: ${busy.size} run nodes, ` +
          `${this.config.provider.workerIps.length - busy.size} failed to start in the last minute.`,
      );
    const node: ProviderNode = { providerId: `ssh-${host}`, type, nodeId: undefined };
    const r: Running = { node, host, stopped: false };
    this.running.set(node.providerId, r);
    void this.launch(r, resources).then(
      async () => {
        if (r.stopped) await this.stopOn(host);
      },
      (err: Error) => {
        log.error(`could not start a '${type}' node on ${host} (skipped for a minute): ${err.message}`);
        if (this.running.get(node.providerId) === r) this.running.delete(node.providerId);
        this.pausedUntil.set(host, Date.now() + FAILED_HOST_PAUSE_MS);
      },
    );
    return node;
  }

  private async launch(r: Running, resources: Record<string, number>): Promise<void> {
    const c = this.config;
    const t = this.target(r.host);
    log.info(`starting a '${r.node.type}' node on ${r.host}`);
    // The head holds each mount at its remote path (`up` put it there).
    for (const remote of Object.keys(c.fileMounts)) await rsyncTo(t, c.fileMounts[remote], remote, c.rsyncExclude);
    const labels = { [NODE_TYPE_LABEL]: r.node.type, [PROVIDER_ID_LABEL]: r.node.providerId };
    const { env, secretEnv } = splitAuthEnv(this.opts.authEnv);
    const all = { ...env, ...startEnv(c.provider.headIp, this.opts.gcsAddress, resources, labels) };
    for (const cmd of [...c.initializationCommands, ...c.setupCommands, ...c.workerSetupCommands]) {
      if (r.stopped) return;
      await sshCheck(t, cmd, { env: all });
    }
    for (const cmd of c.workerStartRayCommands ?? DEFAULT_WORKER_START) {
      if (r.stopped) return;
      await sshCheck(t, cmd, { env: all, secretEnv, timeoutMs: START_TIMEOUT_MS });
    }
  }

  private async stopOn(host: string): Promise<void> {
    try {
      await sshCheck(this.target(host), 'ray-ts stop', { timeoutMs: 60_000 });
    } catch (err) {
      log.error(`could not stop the node on ${host}: ${(err as Error).message}`);
    }
  }

  async terminateNode(providerId: string): Promise<void> {
    const r = this.running.get(providerId);
    if (!r) return;
    this.running.delete(providerId);
    r.stopped = true;
    await this.stopOn(r.host);
  }

  nodes(): ProviderNode[] {
    return [...this.running.values()].map((r) => r.node);
  }
}
