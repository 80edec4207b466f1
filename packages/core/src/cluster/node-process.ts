/**
 * Starts a node process (cluster/node-main.js) with its options, and waits for the line it prints
 * once it serves. Used by the test `Cluster` and the autoscaler's local node provider.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withHugePages } from '../runtime/huge-pages.js';

/** What a node process reports once it serves. */
export interface NodeReady {
  pid: number;
  nodeId: string;
  address: string;
  gcsAddress: string;
  head: boolean;
  jobApiAddress?: string;
  /** HOST:PORT of its Prometheus endpoint (/metrics), when metrics are on. */
  metricsAddress?: string;
}

function nodeMain(): string {
  for (const rel of ['./cluster/node-main.js', './node-main.js']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (fs.existsSync(p)) return p;
  }
  throw new Error(
    `ray-ts: cannot find cluster/node-main.js next to ${fileURLToPath(import.meta.url)}: build @ray-ts/core first.`,
  );
}

export function spawnNodeProcess(
  opts: object,
  {
    env = {},
    stderr = 'pipe',
    timeoutMs = 30_000,
    keepOutput = true,
    command,
  }: {
    env?: NodeJS.ProcessEnv;
    stderr?: 'pipe' | 'inherit';
    timeoutMs?: number;
    /** Keep collecting output after the node is up (tests); else forward it to this process's stdout. */
    keepOutput?: boolean;
    /**
     * Run the node this way instead of `node NODE_MAIN` (tests: `commandOn(host, argv)` of
     * testing-hosts.ts runs it on a host of its own, a network namespace).
     */
    command?: (argv: string[]) => [string, string[]];
  } = {},
): { proc: ChildProcess; ready: Promise<NodeReady>; output(): string } {
  const argv = [process.execPath, nodeMain()];
  const [cmd, args] = command ? command(argv) : [argv[0], argv.slice(1)];
  const proc = spawn(cmd, args, {
    env: withHugePages({ ...process.env, ...env, RAY_TS_NODE_OPTIONS: JSON.stringify(opts) }),
    stdio: ['ignore', 'pipe', stderr],
  });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
  };
  proc.stdout!.on('data', collect);
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const ready = new Promise<NodeReady>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not ready in time: the caller gives up on it, so it must not start later, unseen and unstopped.
      proc.off('exit', onExit);
      proc.kill('SIGKILL');
      reject(new Error(`a cluster node did not start within ${timeoutMs / 1000} s (killed it):\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = /RAY_TS_NODE_READY (\{.*\})/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
      if (!keepOutput) {
        proc.stdout!.off('data', collect);
        proc.stdout!.pipe(process.stdout);
      }
      resolve(JSON.parse(m[1]) as NodeReady);
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`a cluster node exited with code ${code} while starting:\n${out}`));
    };
    proc.stdout!.on('data', onData);
    proc.on('exit', onExit);
  });
  return { proc, ready, output: () => out };
}
