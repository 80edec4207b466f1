// A short run of the chaos soak (tools/chaos.mjs) with a fixed seed: a mixed workload on a
// 4-node cluster while worker nodes are SIGKILLed, links cut and Redis restarted, then its
// invariants: no wrong answer, no untyped error, no hang, acknowledged writes all there.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Summary {
  seed: number;
  faults: { injected: Record<string, number> };
  totals: { ok: number; failed: number; violations: number };
  operations: Record<string, { ok: number; failed: number; violations: number }>;
  serveRequestsServed: number;
  tuneRunsChecked: number;
  violations: { kind: string; what: string; why: string }[];
}

it('keeps every invariant through 30 s of seeded faults', { timeout: 180_000 }, async () => {
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (resolve) => {
      const p = execFile(
        process.execPath,
        [path.join(here, 'chaos.mjs'), '--seconds', '30', '--seed', '21', '--json'],
        { maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? (p.exitCode ?? 1) : 0 }),
      );
    },
  );
  const line = stdout.trim().split('\n').at(-1);
  if (!line?.startsWith('{')) throw new Error(`no summary from the soak (exit ${code}):\n${stderr.slice(-4000)}`);
  const s = JSON.parse(line) as Summary;
  expect(s.violations, stderr.slice(-4000)).toEqual([]);
  expect(code).toBe(0);
  expect(s.seed).toBe(21);
  // The run did something: faults were injected and every kind of work answered.
  expect(Object.values(s.faults.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  for (const kind of [
    'task',
    'actor-call',
    'object-put',
    'object-pull',
    'object-chain',
    'kv-put',
    'serve-request',
    'tune-run',
  ])
    expect(s.operations[kind]?.ok, kind).toBeGreaterThan(0);
  expect(s.serveRequestsServed).toBeGreaterThan(0);
});
