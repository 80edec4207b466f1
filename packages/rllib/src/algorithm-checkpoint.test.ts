import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  readLearnerState,
  readState,
  readWeights,
  writeCheckpoint,
  type AlgorithmState,
} from './algorithm-checkpoint.js';
import { RLlibInvalidArgumentError } from './env/errors.js';

let root = '';
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-algo-checkpoint-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const state = (iteration: number, learner: unknown): AlgorithmState => ({
  config: { algoName: 'DQN' },
  iteration,
  stepsSampled: 0,
  stepsTrained: 0,
  timeTotalS: 0,
  recentReturns: [],
  recentLengths: [],
  learner,
});

it('saving again into a checkpoint folder replaces it whole, leaving nothing of the previous one', () => {
  const dir = path.join(root, 'algo');
  writeCheckpoint(dir, new Float32Array([1, 2]), state(1, { buffer: new Float32Array([7, 8, 9]) }));
  expect(fs.existsSync(path.join(dir, 'arrays'))).toBe(true);
  writeCheckpoint(dir, new Float32Array([3, 4]), state(2, { beta: 0.5 }));
  const s = readState(dir);
  expect(s.iteration).toBe(2);
  expect(Array.from(readWeights(dir))).toEqual([3, 4]);
  expect(readLearnerState(s, dir)).toEqual({ beta: 0.5 });
  expect(fs.existsSync(path.join(dir, 'arrays'))).toBe(false);
  expect(fs.readdirSync(root)).toEqual(['algo']);
});

it('refuses to save into a folder holding other files, which saving would replace', () => {
  const dir = path.join(root, 'mine');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'keep me');
  expect(() => writeCheckpoint(dir, new Float32Array(1), state(1, {}))).toThrow(RLlibInvalidArgumentError);
  expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
  fs.mkdirSync(path.join(root, 'empty'));
  expect(writeCheckpoint(path.join(root, 'empty'), new Float32Array(1), state(1, {}))).toBe(path.join(root, 'empty'));
});

it('reads the previous checkpoint when a save was killed between its two renames', () => {
  const dir = path.join(root, 'algo');
  writeCheckpoint(dir, new Float32Array([1]), state(1, {}));
  fs.renameSync(dir, path.join(root, '.algo.old-99-abc123'));
  expect(readState(dir).iteration).toBe(1);
  expect(Array.from(readWeights(dir))).toEqual([1]);
});
