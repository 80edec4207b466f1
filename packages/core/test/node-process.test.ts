// A node process that is not ready in time is killed, not left to join the cluster later, unseen
// by the caller that gave up on it (Cluster.addNode under load, the autoscaler's local provider).
import type { ChildProcess } from 'node:child_process';
import { expect, it, onTestFinished } from 'vitest';

type Spawn = (
  opts: object,
  o: { timeoutMs: number },
) => { proc: ChildProcess; ready: Promise<unknown>; output(): string };

it('kills a node process that did not start within its timeout', async () => {
  const { spawnNodeProcess } = (await import('../dist/cluster/node-process.js' as string)) as {
    spawnNodeProcess: Spawn;
  };
  const { proc, ready } = spawnNodeProcess(
    { head: true, host: '127.0.0.1', port: 0, resources: { CPU: 1 }, jobApiPort: 0 },
    { timeoutMs: 1 },
  );
  onTestFinished(() => {
    proc.kill('SIGKILL');
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  await expect(ready).rejects.toThrow(/did not start within 0.001 s \(killed it\)/);
  expect(await exited).toBe('SIGKILL');
});
