// The per-commit benchmark record (tools/bench-results.mjs) and its comparison, on made-up runs:
// no benchmark runs here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import {
  compareRuns,
  figureOf,
  formatComparison,
  latestPairs,
  loadRuns,
  makeRun,
  recordRun,
} from './bench-results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const run = (suite: string, at: string, commit: string, figures: Record<string, number | null>) =>
  makeRun({ suite, figures, at: new Date(at), git: { commit, dirty: false } });

describe('figures', () => {
  it('reads times and sizes as lower-is-better, rates as higher-is-better', () => {
    expect(figureOf('init to first task result (ms)', 90)).toEqual({ value: 90, unit: 'ms', better: 'lower' });
    expect(figureOf('single client tasks sync', 9000)).toEqual({ value: 9000, unit: 'per second', better: 'higher' });
  });
});

describe('compareRuns', () => {
  const base = run('micro', '2026-12-01T10:00:00Z', 'aaaa', {
    'tasks sync': 1000,
    puts: 500,
    'init to first task result (ms)': 120,
    'dropped case': 3,
    'broken case': 10,
  });
  const head = run('micro', '2026-12-02T10:00:00Z', 'bbbb', {
    'tasks sync': 800,
    puts: 510,
    'init to first task result (ms)': 90,
    'broken case': null,
    'new case': 7,
  });
  const byName = Object.fromEntries(
    compareRuns(base, head, 5).map((r: { name: string; verdict: string; changePct?: number }) => [r.name, r]),
  );

  it('marks a rate that fell beyond the threshold as a regression', () => {
    expect(byName['tasks sync'].verdict).toBe('regression');
    expect(byName['tasks sync'].changePct).toBeCloseTo(-20);
  });

  it('keeps a change within the threshold as the same', () => {
    expect(byName.puts.verdict).toBe('same');
  });

  it('counts a time that fell as an improvement', () => {
    expect(byName['init to first task result (ms)'].verdict).toBe('improvement');
    expect(byName['init to first task result (ms)'].changePct).toBeCloseTo(-25);
  });

  it('says which figures are new, gone or failed', () => {
    expect(byName['new case'].verdict).toBe('new');
    expect(byName['dropped case'].verdict).toBe('gone');
    expect(byName['broken case'].verdict).toBe('failed');
  });

  it('counts a time that grew as a regression', () => {
    const slower = run('micro', '2026-12-03T10:00:00Z', 'cccc', { 'init to first task result (ms)': 150 });
    const rows = compareRuns(head, slower, 5) as { name: string; verdict: string }[];
    expect(rows.find((r) => r.name === 'init to first task result (ms)')?.verdict).toBe('regression');
  });

  it('prints both commits and each change', () => {
    const text = formatComparison(base, head, compareRuns(base, head, 5)).join('\n');
    expect(text).toContain('aaaa');
    expect(text).toContain('bbbb');
    expect(text).toMatch(/tasks sync\s+1000\s+800\s+-20\.0%\s+REGRESSION/);
  });
});

describe('recorded runs', () => {
  it('pairs the latest run of each suite with the one before it, by date', () => {
    const dir = tempDir();
    recordRun(run('micro', '2026-12-02T10:00:00Z', 'bbbb', { a: 2 }), dir);
    recordRun(run('micro', '2026-12-01T10:00:00Z', 'aaaa', { a: 1 }), dir);
    recordRun(run('micro', '2026-12-03T10:00:00Z', 'cccc', { a: 3 }), dir);
    recordRun(run('startup', '2026-12-03T11:00:00Z', 'cccc', { 'x (ms)': 3 }), dir);
    fs.writeFileSync(path.join(dir, 'junk.json'), '{');
    const { runs, skipped } = loadRuns(dir);
    expect(runs).toHaveLength(4);
    expect(skipped).toHaveLength(1);
    const pairs = latestPairs(runs);
    const micro = pairs.find((p: { suite: string }) => p.suite === 'micro');
    expect([micro.base.commit, micro.head.commit]).toEqual(['bbbb', 'cccc']);
    const startup = pairs.find((p: { suite: string }) => p.suite === 'startup');
    expect(startup.base).toBeUndefined();
  });

  it('names each file by its time and commit', () => {
    const dir = tempDir();
    const file = recordRun(run('micro', '2026-12-02T10:00:00.123Z', 'bbbbbbbbbbbbbbbb', { a: 2 }), dir);
    expect(path.basename(file)).toBe('2026-12-02T10-00-00Z-bbbbbbbbbb-micro.json');
  });

  it('prints the comparison from the command line', () => {
    const dir = tempDir();
    recordRun(run('micro', '2026-12-01T10:00:00Z', 'aaaa', { 'tasks sync': 1000 }), dir);
    recordRun(run('micro', '2026-12-02T10:00:00Z', 'bbbb', { 'tasks sync': 700 }), dir);
    const out = execFileSync(process.execPath, [path.join(here, 'bench-compare.mjs'), '--dir', dir], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/tasks sync\s+1000\s+700\s+-30\.0%\s+REGRESSION/);
    expect(out).toContain('1 figure(s) worse');
  });
});
