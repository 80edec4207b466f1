// A process saving an algorithm checkpoint into the same folder over and over (RLlib's own
// checkpoint code) is SIGKILLed at random moments (seeded): after each kill the folder holds one
// whole checkpoint, of one iteration, which restores.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SeededRng } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import { readLearnerState, readState, readWeights } from '../dist/algorithm-checkpoint.js';
import { learnerAt, weightsAt } from './fixtures/checkpoint-writer.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-crash-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The first index where `a` and `b` differ (-1: none; the length when their lengths differ). */
function mismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return k;
  return -1;
}

async function runAndKill(dir: string, rng: SeededRng): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/checkpoint-writer.ts'), dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(() => out.includes('ready') && fs.existsSync(dir), {
    timeoutMs: 30_000,
    what: `the checkpoint writer to save once (its output: ${out})`,
  });
  await new Promise((r) => setTimeout(r, rng.uniform(20, 400)));
  child.kill('SIGKILL');
  await exited;
  return out;
}

it('keeps the saved algorithm whole through SIGKILLs at random moments while it is saved again', async () => {
  const rng = new SeededRng(20);
  const dir = path.join(root, 'algo');
  const iterations: number[] = [];
  for (let round = 0; round < 5; round++) {
    const out = await runAndKill(dir, rng);
    const s = readState(dir); // puts back the previous checkpoint if the kill came mid-swap
    expect(s.iteration, `round ${round} (writer output: ${out})`).toBeGreaterThan(0);
    expect(mismatch(readWeights(dir), weightsAt(s.iteration))).toBe(-1);
    const learner = readLearnerState(s, dir) as ReturnType<typeof learnerAt>;
    const want = learnerAt(s.iteration);
    expect(mismatch(learner.target, want.target)).toBe(-1);
    expect(mismatch(learner.buffer.obs, want.buffer.obs)).toBe(-1);
    expect(learner.buffer.size).toBe(s.iteration);
    iterations.push(s.iteration);
  }
  for (let i = 1; i < iterations.length; i++) expect(iterations[i]).toBeGreaterThanOrEqual(iterations[i - 1]);
  expect(iterations.at(-1)).toBeGreaterThan(iterations[0]);
  if (process.env.RAY_TS_CRASH_STATS) console.log(`iterations saved: ${iterations}`);
});
