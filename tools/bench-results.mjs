// Benchmark results kept per commit: `npm run bench` writes one file per run under bench/results/
// (`<date>T<time>Z-<commit>.json`: the figures, the commit they were measured at, the machine),
// and tools/bench-compare.mjs prints each figure's change against the previous run of the same
// suite, so a regression shows in review. The logic (pure but for the file reads and writes) is here;
// tools/bench-results.test.ts tests it without running a benchmark.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where runs are recorded: bench/results/ in the repository. */
export const RESULTS_DIR = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'bench', 'results');

/** A figure's direction from its name: `... (ms)`, `(s)`, `(MB)`, `(bytes)` are times or sizes (lower is better); others are rates. */
export function figureOf(name, value) {
  const m = /\((ms|s|MB|GB|bytes|%)\)\s*$/.exec(name);
  return m ? { value, unit: m[1], better: 'lower' } : { value, unit: 'per second', better: 'higher' };
}

/** The commit of the working tree at `cwd` and whether it has uncommitted changes (undefined outside git). */
export function gitState(cwd) {
  try {
    const git = (...args) =>
      execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', 'HEAD');
    // Changes to recorded results themselves do not make the measured code dirty.
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results') !== '';
    return { commit, dirty };
  } catch {
    return { commit: undefined, dirty: false };
  }
}

/**
 * A run's record: `figures` maps each figure's name to its value (null: the case failed; kept so
 * the comparison says so). `at` is the run's time, `git` its commit.
 */
export function makeRun({ suite, figures, at = new Date(), git = { commit: undefined, dirty: false }, notes }) {
  const out = {};
  for (const [name, value] of Object.entries(figures)) out[name] = figureOf(name, value);
  return {
    suite,
    date: at.toISOString(),
    commit: git.commit ?? null,
    dirty: git.dirty,
    node: process.version,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryBytes: os.totalmem(),
    },
    ...(notes ? { notes } : {}),
    figures: out,
  };
}

/** The file name of a run: its time (sortable) and its commit's short form. */
export function runFileName(run) {
  const stamp = run.date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return `${stamp}-${run.commit ? run.commit.slice(0, 10) : 'nogit'}${run.dirty ? '-dirty' : ''}-${run.suite}.json`;
}

/** Writes `run` under `dir`; returns the file's path. */
export function recordRun(run, dir = RESULTS_DIR) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, runFileName(run));
  fs.writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
  return file;
}

/** Every run recorded under `dir`, oldest first (files that do not parse are reported in `skipped`). */
export function loadRuns(dir = RESULTS_DIR) {
  const runs = [];
  const skipped = [];
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  for (const name of names) {
    try {
      const run = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      if (typeof run.suite !== 'string' || typeof run.date !== 'string' || typeof run.figures !== 'object')
        throw new Error('not a run record');
      runs.push({ ...run, file: name });
    } catch (err) {
      skipped.push(`${name}: ${err.message}`);
    }
  }
  runs.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { runs, skipped };
}

/** The latest run of each suite and the one before it (undefined when there is only one). */
export function latestPairs(runs) {
  const bySuite = new Map();
  for (const r of runs) (bySuite.get(r.suite) ?? bySuite.set(r.suite, []).get(r.suite)).push(r);
  return [...bySuite].map(([suite, rs]) => ({ suite, base: rs.at(-2), head: rs.at(-1) }));
}

/**
 * Each figure's change from `base` to `head`: `changePct` (signed, head against base), and a
 * verdict: 'regression' or 'improvement' beyond `thresholdPct` in the figure's direction, 'same'
 * within it, 'new' or 'gone' when one side lacks it, 'failed' when head's value is null.
 */
export function compareRuns(base, head, thresholdPct = 5) {
  const names = [...new Set([...Object.keys(base?.figures ?? {}), ...Object.keys(head.figures)])];
  return names.map((name) => {
    const b = base?.figures?.[name];
    const h = head.figures[name];
    const better = (h ?? b).better;
    if (!h) return { name, base: b.value, head: undefined, changePct: undefined, verdict: 'gone', better };
    if (h.value === null) return { name, base: b?.value, head: null, changePct: undefined, verdict: 'failed', better };
    if (!b || b.value === null || b.value === 0)
      return { name, base: b?.value, head: h.value, changePct: undefined, verdict: 'new', better };
    const changePct = ((h.value - b.value) / Math.abs(b.value)) * 100;
    const gain = better === 'higher' ? changePct : -changePct;
    const verdict = gain < -thresholdPct ? 'regression' : gain > thresholdPct ? 'improvement' : 'same';
    return { name, base: b.value, head: h.value, changePct, verdict, better };
  });
}

const num = (x) =>
  x === undefined
    ? '-'
    : x === null
      ? 'failed'
      : Math.abs(x) >= 100
        ? String(Math.round(x))
        : String(Math.round(x * 100) / 100);

/** The comparison as text lines: a header naming both runs, then one line per figure. */
export function formatComparison(base, head, rows) {
  const label = (r) => `${r.commit ? r.commit.slice(0, 10) : 'no commit'}${r.dirty ? ' (dirty)' : ''} at ${r.date}`;
  const lines = [`${head.suite}: ${base ? label(base) : '(no previous run)'} -> ${label(head)}`];
  if (base && (base.machine?.cpuModel !== head.machine?.cpuModel || base.machine?.cpus !== head.machine?.cpus))
    lines.push(
      `  note: the machines differ (${base.machine?.cpus} x ${base.machine?.cpuModel} -> ${head.machine?.cpus} x ${head.machine?.cpuModel})`,
    );
  const width = Math.max(20, ...rows.map((r) => r.name.length));
  lines.push(`  ${'figure'.padEnd(width)} ${'before'.padStart(12)} ${'after'.padStart(12)} ${'change'.padStart(9)}`);
  for (const r of rows) {
    const change = r.changePct === undefined ? '' : `${r.changePct >= 0 ? '+' : ''}${r.changePct.toFixed(1)}%`;
    const mark = r.verdict === 'same' ? '' : `  ${r.verdict.toUpperCase()}`;
    lines.push(
      `  ${r.name.padEnd(width)} ${num(r.base).padStart(12)} ${num(r.head).padStart(12)} ${change.padStart(9)}${mark}`,
    );
  }
  return lines;
}
