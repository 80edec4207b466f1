/**
 * The cluster launcher for hosts reached over SSH (Ray's `ray up|down|exec|submit` with its
 * on-premise provider), run on the user's machine:
 *
 * - `up`: logs in to the head host, leaves the config (as the head's autoscaler reads it) and the
 *   key in `~/.ray-ts/bootstrap/<cluster>/` there (mode 0700), copies the file mounts, runs the
 *   initialization, setup and head setup commands, then the head start commands (default:
 *   `ray-ts stop; ray-ts start --head --autoscaling-config=...`). The head's autoscaler then starts
 *   worker nodes on `worker_ips` by demand (provider-ssh.ts).
 * - `down`: `ray-ts stop` on the head (its autoscaler stops the nodes it started), then on every
 *   worker host, so nothing is left running even if the head was gone.
 * - `exec`: a command on the head, with `RAY_TS_ADDRESS` set to the cluster.
 * - `submit`: a script copied to the head and run there with `node`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ClusterLaunchError } from '../errors.js';
import { NODE_TYPE_LABEL } from './autoscaler.js';
import { headBootstrapConfig } from './cluster-config.js';
import { knownHostsFile, startEnv, targetOf, type SshClusterConfig } from './provider-ssh.js';
import { rsyncTo, shellQuote, sshCheck, sshRun, type SshTarget } from './ssh.js';

/** The head's GCS port on hosts the launcher starts. */
export const HEAD_PORT = 6380;

export interface LauncherOptions {
  /** This machine's session directory (the cluster's known hosts go there). */
  sessionDir: string;
  /** Progress lines. */
  print: (line: string) => void;
}

function headTarget(c: SshClusterConfig, opts: LauncherOptions): SshTarget {
  const key = c.auth.sshPrivateKey!;
  try {
    fs.accessSync(key, fs.constants.R_OK);
  } catch {
    throw new ClusterLaunchError(`auth.ssh_private_key: ${key} cannot be read on this machine.`);
  }
  return targetOf(c, c.provider.headIp, key, knownHostsFile(opts.sessionDir, c.clusterName));
}

/** The head's environment for commands (where the cluster is). */
function clusterEnv(c: SshClusterConfig): Record<string, string> {
  return { RAY_HEAD_IP: c.provider.headIp, RAY_TS_ADDRESS: `${c.provider.headIp}:${HEAD_PORT}` };
}

const bootstrapDir = (c: SshClusterConfig) => `.ray-ts/bootstrap/${c.clusterName}`;

/** Starts (or restarts) the cluster's head over SSH; returns its GCS address. */
export async function up(c: SshClusterConfig, opts: LauncherOptions): Promise<string> {
  const head = headTarget(c, opts);
  opts.print(`Logging in to the head host ${c.auth.sshUser}@${c.provider.headIp} ...`);
  const out = await sshCheck(
    head,
    `umask 077 && mkdir -p ${bootstrapDir(c)} && chmod 700 .ray-ts ${bootstrapDir(c)} && cd ${bootstrapDir(c)} && pwd`,
  );
  const dir = out.trim().split('\n').pop()!;
  const keyOnHead = `${dir}/ssh-key`;
  const configOnHead = `${dir}/config.json`;
  await sshCheck(head, `umask 077 && cat > ${shellQuote(keyOnHead)}`, {
    stdin: fs.readFileSync(c.auth.sshPrivateKey!),
  });
  await sshCheck(head, `umask 077 && cat > ${shellQuote(configOnHead)}`, {
    stdin: JSON.stringify(headBootstrapConfig(c, keyOnHead), null, 2),
  });
  for (const [remote, local] of Object.entries(c.fileMounts)) {
    opts.print(`Copying ${local} to ${c.provider.headIp}:${remote} ...`);
    await rsyncTo(head, local, remote, c.rsyncExclude);
  }
  const env = {
    ...clusterEnv(c),
    ...startEnv(c.provider.headIp, `${c.provider.headIp}:${HEAD_PORT}`, c.head.resources, {
      [NODE_TYPE_LABEL]: c.headNodeType ?? 'head',
    }),
    RAY_TS_BOOTSTRAP_CONFIG: configOnHead,
  };
  const start = c.headStartRayCommands ?? [
    'ray-ts stop',
    `ray-ts start --head --port=${HEAD_PORT} --node-ip-address=$RAY_HEAD_IP --autoscaling-config=$RAY_TS_BOOTSTRAP_CONFIG`,
  ];
  for (const cmd of [...c.initializationCommands, ...c.setupCommands, ...c.headSetupCommands, ...start]) {
    opts.print(`[${c.provider.headIp}] ${cmd}`);
    await sshCheck(head, cmd, { env, onOutput: (s) => opts.print(s.trimEnd()), timeoutMs: 600_000 });
  }
  const address = `${c.provider.headIp}:${HEAD_PORT}`;
  opts.print(`The cluster '${c.clusterName}' is up: its head is at ${address}.`);
  opts.print(`  Run a command on the head:  ray-ts exec <config> 'ray-ts status'`);
  opts.print(`  Run a script there:         ray-ts submit <config> script.js`);
  opts.print(`  Stop everything:            ray-ts down <config>`);
  return address;
}

/** Stops the cluster: the head first (its autoscaler stops its nodes), then every worker host. */
export async function down(c: SshClusterConfig, opts: LauncherOptions): Promise<void> {
  const head = headTarget(c, opts);
  const stopOn = async (t: SshTarget) => {
    const r = await sshRun(t, 'ray-ts stop', { timeoutMs: 120_000 });
    if (r.code === 0) opts.print(`[${t.host}] ${r.output.trim().split('\n').pop() ?? ''}`);
    else
      opts.print(
        `[${t.host}] could not run 'ray-ts stop' (exit ${r.code}): ${r.output.trim().split('\n').pop() ?? ''}`,
      );
    return r.code === 0;
  };
  const headOk = await stopOn(head);
  const workers = await Promise.all(c.provider.workerIps.map((ip) => stopOn({ ...head, host: ip })));
  const failed = [headOk, ...workers].filter((ok) => !ok).length;
  if (failed)
    throw new ClusterLaunchError(
      `'ray-ts stop' failed on ${failed} host${failed === 1 ? '' : 's'} (above): nodes may still run there; ` +
        `run 'ray-ts down' again once they are reachable.`,
    );
}

/** Runs `command` on the head with `RAY_TS_ADDRESS` set; returns its exit code. */
export async function exec(
  c: SshClusterConfig,
  command: string,
  opts: LauncherOptions & { output: (chunk: string) => void },
): Promise<number> {
  const r = await sshRun(headTarget(c, opts), command, { env: clusterEnv(c), onOutput: opts.output });
  if (r.code === 255)
    throw new ClusterLaunchError(`ssh could not reach the head ${c.provider.headIp}: ${r.output.trim()}`);
  return r.code;
}

/** Copies `script` to the head and runs it there with `node` and `args`; returns its exit code. */
export async function submit(
  c: SshClusterConfig,
  script: string,
  args: readonly string[],
  opts: LauncherOptions & { output: (chunk: string) => void },
): Promise<number> {
  const head = headTarget(c, opts);
  const remote = `${bootstrapDir(c)}/scripts/${path.basename(script)}`;
  await rsyncTo(head, script, remote);
  return exec(c, ['node', remote, ...args].map(shellQuote).join(' '), opts);
}
