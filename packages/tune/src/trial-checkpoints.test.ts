import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallbackTrial } from './callbacks.js';
import { Checkpoint } from './checkpoint.js';
import { CSVLoggerCallback, JsonLoggerCallback } from './loggers/index.js';
import { keepCheckpoint, type KeptCheckpoint } from './kept-checkpoints.js';
import { ExperimentStorage } from './storage.js';
import { newTrial, restoredTrial } from './trial.js';
import { saveCheckpoint } from './trial-checkpoints.js';
import type { TrialResult } from './types.js';

const loggers = [new JsonLoggerCallback(), new CSVLoggerCallback()];
/** Appends a result to the trial's files as the default loggers do. */
function appendResult(storage: ExperimentStorage, trialName: string, r: TrialResult): void {
  const view = { path: storage.trialDir(trialName), config: {} } as CallbackTrial;
  for (const l of loggers) void l.logTrialResult(0, view, r);
}

let root = '';
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-trial-checkpoints-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

const result = (i: number, extra: Record<string, unknown> = {}) =>
  ({ trainingIteration: i, timeTotalS: i, trialId: 't', timestamp: i, ...extra }) as TrialResult;
const valueAt = (dir: string) => new Checkpoint(dir, undefined).toDict<{ i: number }>().i;

describe('keepCheckpoint', () => {
  it('keeps numToKeep checkpoints, dropping the worst by score but never the latest', () => {
    const kept: KeptCheckpoint[] = [];
    const policy = { numToKeep: 2, checkpointScoreAttribute: 'acc', checkpointScoreOrder: 'max' as const };
    const dropped: number[] = [];
    for (const [i, acc] of [
      [1, 0.9],
      [2, 0.5],
      [3, 0.7],
      [4, 0.1],
    ]) {
      const r = keepCheckpoint(kept, { data: { i } }, path.join(root, `c${i}`), i, { acc }, policy);
      expect(valueAt(r.saved.path!)).toBe(i);
      dropped.push(...r.dropped.map((c) => c.iteration));
    }
    // 4 is the worst but the latest: it stays, with the best (1).
    expect(kept.map((c) => c.iteration)).toEqual([1, 4]);
    expect(dropped).toEqual([2, 3]);
  });

  it('replaces the entry of a checkpoint taken again at the same iteration', () => {
    const kept: KeptCheckpoint[] = [];
    const dir = path.join(root, 'checkpoint_000001');
    keepCheckpoint(kept, { data: { i: 1 } }, dir, 1, {}, undefined);
    keepCheckpoint(kept, { data: { i: 11 } }, dir, 1, {}, undefined);
    expect(kept).toEqual([{ dir, iteration: 1, score: 1 }]);
    expect(valueAt(dir)).toBe(11);
  });

  it('leaves the previous checkpoint at the same iteration whole when the new one cannot be written', () => {
    const kept: KeptCheckpoint[] = [];
    const dir = path.join(root, 'checkpoint_000001');
    keepCheckpoint(kept, { data: { i: 1 } }, dir, 1, {}, undefined);
    const src = path.join(root, 'missing-source');
    expect(() => keepCheckpoint(kept, { path: src }, dir, 1, {}, undefined)).toThrow();
    expect(valueAt(dir)).toBe(1);
    expect(fs.readdirSync(root).sort()).toEqual(['checkpoint_000001']);
  });
});

describe("a trial's checkpoints and experiment_state.json", () => {
  const header = () => ({
    version: 1 as const,
    name: 'x',
    metric: undefined,
    mode: undefined,
    searcher: undefined,
    scheduler: undefined,
    suggested: 1,
    finishedSearch: true,
    startedAt: 0,
  });

  it('deletes a pruned checkpoint only once the state on disk no longer names it', async () => {
    const storage = new ExperimentStorage(root);
    const t = newTrial('00000', {});
    storage.writeParams(t.trialName, {});
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 1 } }, 1, result(1));
    await storage.writeState(header(), [JSON.stringify(t)]);
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 2 } }, 2, result(2));
    // The state on disk still resumes from checkpoint 1: it stays until the next state write.
    const named = ExperimentStorage.readState(root)!.trials[0].checkpoint!;
    expect(valueAt(named)).toBe(1);
    expect(t.checkpoints!.map((c) => c.iteration)).toEqual([2]);
    await storage.writeState(header(), [JSON.stringify(t)]);
    expect(fs.existsSync(named)).toBe(false);
    expect(valueAt(ExperimentStorage.readState(root)!.trials[0].checkpoint!)).toBe(2);
  });

  it('keeps a pruned folder that is written again before the next state write', async () => {
    const storage = new ExperimentStorage(root);
    const t = newTrial('00000', {});
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 1 } }, 1, result(1));
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 2 } }, 2, result(2));
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 10 } }, 1, result(1)); // a rerun at 1
    await storage.writeState(header(), [JSON.stringify(t)]);
    expect(valueAt(t.checkpoint!)).toBe(10);
  });

  it('deletes after a state write only what was dropped before it began', async () => {
    const storage = new ExperimentStorage(root);
    const t = newTrial('00000', {});
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 1 } }, 1, result(1));
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 2 } }, 2, result(2)); // drops 1
    const second = t.checkpoints![0].dir;
    const writing = storage.writeState(header(), [JSON.stringify(t)]); // names 2
    saveCheckpoint(storage, { numToKeep: 1 }, t, { data: { i: 3 } }, 3, result(3)); // drops 2, meanwhile
    await writing;
    expect(fs.existsSync(storage.checkpointDir(t.trialName, 1))).toBe(false);
    expect(valueAt(second)).toBe(2); // named by the state on disk: stays until the next write
    await storage.writeState(header(), [JSON.stringify(t)]);
    expect(fs.existsSync(second)).toBe(false);
    expect(valueAt(t.checkpoint!)).toBe(3);
  });

  it('restores a trial from its named checkpoint, ignoring and removing what a crashed write left', async () => {
    const storage = new ExperimentStorage(root);
    const t = newTrial('00000', {});
    storage.writeParams(t.trialName, {});
    saveCheckpoint(storage, undefined, t, { data: { i: 1 } }, 1, result(1));
    appendResult(storage, t.trialName, result(1));
    const { results: _r, worker: _w, ...record } = t;
    await storage.writeState(header(), [JSON.stringify({ ...record, status: 'RUNNING' })]);
    const trialDir = storage.trialDir(t.trialName);
    // A rerun at iteration 1 killed between its two renames; a write of iteration 2 killed midway.
    fs.renameSync(t.checkpoint!, path.join(trialDir, '.checkpoint_000001.old-7-aa'));
    fs.mkdirSync(path.join(trialDir, '.checkpoint_000002.tmp-7-bb'));
    fs.writeFileSync(path.join(root, '.experiment_state.json.tmp-7-cc'), '{"version":1,"trials":[{');
    const restored = restoredTrial(ExperimentStorage.readState(root)!.trials[0], storage);
    expect(restored.status).toBe('PENDING');
    expect(valueAt(restored.checkpoint!)).toBe(1);
    expect(restored.checkpoints!.map((c) => c.iteration)).toEqual([1]);
    expect(fs.readdirSync(trialDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('rewrites result.json and progress.csv as the loggers appending the same results would', () => {
    const a = new ExperimentStorage(path.join(root, 'a'));
    const b = new ExperimentStorage(path.join(root, 'b'));
    for (const s of [a, b]) s.writeParams('trial', {});
    const rs = [result(1, { loss: 0.5, note: 'x,y' }), result(2, { loss: 0.25, extra: 1 }), result(3)];
    for (const r of rs) appendResult(a, 'trial', r);
    a.rewriteResults('trial', rs.slice(0, 2));
    for (const r of rs.slice(0, 2)) appendResult(b, 'trial', r);
    for (const f of ['result.json', 'progress.csv'])
      expect(fs.readFileSync(path.join(a.trialDir('trial'), f), 'utf8')).toBe(
        fs.readFileSync(path.join(b.trialDir('trial'), f), 'utf8'),
      );
    expect(ExperimentStorage.readResults(a.trialDir('trial')).map((r) => r.trainingIteration)).toEqual([1, 2]);
  });
});
