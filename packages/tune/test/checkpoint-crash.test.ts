// A process writing a trial's checkpoints and experiment_state.json with Tune's own code is
// SIGKILLed at random moments (seeded): after each kill, the state parses, names a checkpoint that
// is whole, and the trial restores from it; no torn checkpoint is visible under its real name.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SeededRng } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import { Checkpoint } from '@ray-ts/tune';
import { ExperimentStorage } from '../dist/storage.js';
import { restoredTrial } from '../dist/trial.js';
import { checkFloats } from './fixtures/checkpoint-payload.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tune-crash-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Throws unless `dir` is iteration `iteration`'s checkpoint, whole (a value or a folder one). */
function checkCheckpoint(dir: string, iteration: number): void {
  expect(fs.existsSync(dir), `checkpoint ${dir} is on disk`).toBe(true);
  if (fs.existsSync(path.join(dir, 'meta.json'))) {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    expect(meta.iteration).toBe(iteration);
    const bytes = fs.readFileSync(path.join(dir, 'weights.bin'));
    checkFloats(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), iteration, meta.version, dir);
  } else {
    const v = new Checkpoint(dir, undefined).toDict<{ iteration: number; version: number; w: Float64Array }>();
    expect(v.iteration).toBe(iteration);
    checkFloats(v.w, iteration, v.version, dir);
  }
}

/** Runs the writer until it has written something past `after`, then kills it after a random delay. */
async function runAndKill(dir: string, rng: SeededRng): Promise<{ out: string; leftovers: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/checkpoint-writer.ts'), dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(() => out.includes('ready') && fs.existsSync(path.join(dir, 'experiment_state.json')), {
    timeoutMs: 30_000,
    what: `the checkpoint writer to start (its output: ${out})`,
  });
  await new Promise((r) => setTimeout(r, rng.uniform(20, 400)));
  child.kill('SIGKILL');
  await exited;
  const trialDir = path.join(dir, 'trial_00000');
  const leftovers = fs.readdirSync(trialDir).filter((n) => n.startsWith('.')).length;
  return { out, leftovers };
}

it('keeps the checkpoint a trial resumes from whole through SIGKILLs at random moments', async () => {
  const rng = new SeededRng(20);
  const dir = path.join(root, 'exp');
  const storage = new ExperimentStorage(dir);
  const named: number[] = [];
  let cutShort = 0;
  for (let round = 0; round < 6; round++) {
    const { out, leftovers } = await runAndKill(dir, rng);
    if (leftovers > 0) cutShort++;
    const state = ExperimentStorage.readState(dir)!; // parses: never half a file
    expect(state.trials).toHaveLength(1);
    const record = state.trials[0];
    // What Tuner.restore does with the record: the checkpoint it names is there, whole.
    const t = restoredTrial(record, storage);
    expect(t.checkpoint, `round ${round} (writer output: ${out})`).toBeDefined();
    checkCheckpoint(t.checkpoint!, record.checkpointIteration);
    for (const c of t.checkpoints!) checkCheckpoint(c.dir, c.iteration);
    expect(t.checkpoints!.at(-1)!.dir).toBe(t.checkpoint);
    expect(t.results.map((r) => r.trainingIteration)).toEqual(
      Array.from({ length: record.checkpointIteration }, (_, i) => i + 1),
    );
    // Every checkpoint under its real name is whole, and the leftovers of the kill are gone.
    const trialDir = storage.trialDir(t.trialName);
    for (const n of fs.readdirSync(trialDir).filter((x) => /^checkpoint_\d{6}$/.test(x)))
      checkCheckpoint(path.join(trialDir, n), Number(n.slice('checkpoint_'.length)));
    expect(fs.readdirSync(trialDir).filter((n) => n.startsWith('.'))).toEqual([]);
    named.push(record.checkpointIteration);
  }
  // Each run resumes where the last one's state left it, and the trial gets on.
  for (let i = 1; i < named.length; i++) expect(named[i]).toBeGreaterThanOrEqual(named[i - 1]);
  expect(named.at(-1)).toBeGreaterThan(named[0]);
  if (process.env.RAY_TS_CRASH_STATS) console.log(`kills mid-write: ${cutShort} of 6; iterations named: ${named}`);
});
