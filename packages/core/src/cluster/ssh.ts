/**
 * Commands on other hosts over the system's OpenSSH client, and files copied there with rsync, as
 * Ray's cluster launcher does: key authentication only (`BatchMode`, no password prompts), the
 * host key trusted on first use and checked after (a known-hosts file of the cluster's own), short
 * connect and keep-alive timeouts so a host that vanishes fails a command instead of hanging it.
 * Secrets (the cluster token) go on the command's standard input, never on a command line that
 * `ps` on the host would show.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ClusterLaunchError } from '../errors.js';

/** A host to reach, and how. */
export interface SshTarget {
  host: string;
  user: string;
  port: number;
  /** The private key that logs in. */
  keyFile: string;
  /** Host keys seen so far (trusted on first use, checked after). */
  knownHostsFile: string;
}

/** What a command printed and how it ended. */
export interface CommandResult {
  code: number;
  output: string;
}

export interface RunOptions {
  /** Variables exported before the command (their values are not secret: they are on the command line). */
  env?: Record<string, string>;
  /** Variables exported from the command's standard input (the cluster token). */
  secretEnv?: Record<string, string>;
  /** Text given on standard input after the secrets (for `cat > file`). */
  stdin?: string | Buffer;
  /** Each chunk of output as it comes (default: kept only). */
  onOutput?: (chunk: string) => void;
  timeoutMs?: number;
}

/** Output kept per command: its end (the part that says why it failed). */
const KEEP_OUTPUT = 64 * 1024;

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function sshOptions(t: SshTarget): string[] {
  return [
    '-i',
    t.keyFile,
    '-p',
    String(t.port),
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=accept-new',
    '-o',
    `UserKnownHostsFile=${t.knownHostsFile}`,
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'LogLevel=ERROR',
  ];
}

/** `user@host` as ssh and rsync take it (IPv6 literals in brackets for rsync). */
const login = (t: SshTarget, brackets = false) =>
  `${t.user}@${brackets && t.host.includes(':') ? `[${t.host}]` : t.host}`;

/** The command as the remote shell gets it: the secrets read from stdin, then the variables, then it. */
function remoteScript(command: string, opts: RunOptions): string {
  let s = '';
  if (opts.secretEnv && Object.keys(opts.secretEnv).length) {
    // One line per secret on stdin, read before anything else.
    for (const k of Object.keys(opts.secretEnv)) s += `IFS= read -r ${k} && export ${k}; `;
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) s += `export ${k}=${shellQuote(v)}; `;
  return s + command;
}

function run(cmd: string, args: string[], input: Buffer | undefined, opts: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const take = (d: Buffer) => {
      const text = d.toString();
      opts.onOutput?.(text);
      output = (output + text).slice(-KEEP_OUTPUT);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          output += `\n(ray-ts: stopped after ${opts.timeoutMs! / 1000} s)`;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new ClusterLaunchError(
          err.code === 'ENOENT'
            ? `'${cmd}' is not installed on this machine: install it (Debian/Ubuntu: apt-get install ${cmd === 'ssh' ? 'openssh-client' : cmd}).`
            : `could not run ${cmd}: ${err.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
    child.stdin.on('error', () => {}); // the command may exit without reading its input
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** Runs `command` on `t` (in its login user's shell); resolves with its exit code and output. */
export function sshRun(t: SshTarget, command: string, opts: RunOptions = {}): Promise<CommandResult> {
  fs.mkdirSync(path.dirname(t.knownHostsFile), { recursive: true, mode: 0o700 });
  const secrets = Object.values(opts.secretEnv ?? {})
    .map((v) => `${v.replace(/\n/g, '')}\n`)
    .join('');
  const input = Buffer.concat([Buffer.from(secrets), Buffer.from(opts.stdin ?? '')]);
  return run('ssh', [...sshOptions(t), login(t), '--', remoteScript(command, opts)], input, opts);
}

/** What a failure of ssh itself (exit 255) most likely means. */
function sshAdvice(t: SshTarget): string {
  return (
    `ssh could not run it on ${login(t)} (port ${t.port}): check that the host is up and reachable, that ` +
    `'ssh -i ${t.keyFile} -p ${t.port} ${login(t)} true' logs in without a password (auth.ssh_user, ` +
    `auth.ssh_private_key), and that its host key did not change (known hosts: ${t.knownHostsFile}).`
  );
}

/** Runs `command` on `t`; a nonzero exit is a ClusterLaunchError naming the host, command, code and output. */
export async function sshCheck(t: SshTarget, command: string, opts: RunOptions = {}): Promise<string> {
  const r = await sshRun(t, command, opts);
  if (r.code === 0) return r.output;
  const tail = r.output.trim().split('\n').slice(-15).join('\n');
  throw new ClusterLaunchError(
    r.code === 255
      ? `${sshAdvice(t)}\n${tail}`
      : `on ${t.host}: '${command}' exited with ${r.code}${tail ? `:\n${tail}` : ' (no output)'}`,
  );
}

/**
 * Copies a local file or folder to `remotePath` on `t` with rsync (a folder's contents into the
 * remote folder, made if missing; files only there are kept); `exclude` are rsync patterns left out.
 */
export async function rsyncTo(
  t: SshTarget,
  localPath: string,
  remotePath: string,
  exclude: readonly string[] = [],
): Promise<void> {
  let isDir: boolean;
  try {
    isDir = fs.statSync(localPath).isDirectory();
  } catch {
    throw new ClusterLaunchError(`file_mounts: ${localPath} does not exist on this machine (for ${remotePath}).`);
  }
  // `~/x` is `x` from the login's home folder, where ssh and rsync start.
  if (remotePath.startsWith('~/')) remotePath = remotePath.slice(2);
  const parent = isDir ? remotePath : path.posix.dirname(remotePath);
  await sshCheck(t, `mkdir -p ${shellQuote(parent)}`);
  const rsh = ['ssh', ...sshOptions(t)].map((a) => (/[\s'"]/.test(a) ? shellQuote(a) : a)).join(' ');
  const src = isDir ? `${localPath.replace(/\/+$/, '')}/` : localPath;
  const dst = `${login(t, true)}:${isDir ? `${remotePath.replace(/\/+$/, '')}/` : remotePath}`;
  const args = ['-az', ...exclude.flatMap((e) => ['--exclude', e]), '-e', rsh, src, dst];
  const r = await run('rsync', args, undefined, {});
  if (r.code !== 0) {
    const tail = r.output.trim().split('\n').slice(-10).join('\n');
    throw new ClusterLaunchError(
      `rsync of ${localPath} to ${t.host}:${remotePath} exited with ${r.code}:\n${tail}\n` +
        (r.code === 12 || r.code === 255 ? sshAdvice(t) : 'rsync must be installed on both machines.'),
    );
  }
}
