#!/usr/bin/env node
// Prints each benchmark figure's change against the previous recorded run of the same suite
// (bench/results/, written by `npm run bench`), marking regressions and improvements beyond a
// threshold in the figure's direction (rates: higher is better; times and sizes: lower).
//
//   node tools/bench-compare.mjs [--dir DIR] [--suite NAME] [--threshold PCT] [--fail-on-regression] [BASE.json HEAD.json]
import fs from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR, compareRuns, formatComparison, latestPairs, loadRuns } from './bench-results.mjs';

const usage =
  'Usage: node tools/bench-compare.mjs [--dir DIR] [--suite NAME] [--threshold PCT] [--fail-on-regression] [BASE.json HEAD.json]';
const o = { dir: RESULTS_DIR, suite: undefined, threshold: 5, failOnRegression: false, files: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--dir') o.dir = path.resolve(argv[++i] ?? '');
  else if (a === '--suite') o.suite = argv[++i];
  else if (a === '--threshold') o.threshold = Number(argv[++i]);
  else if (a === '--fail-on-regression') o.failOnRegression = true;
  else if (a === '-h' || a === '--help') {
    console.log(usage);
    process.exit(0);
  } else if (a.startsWith('--')) {
    console.error(`bench-compare: unknown option ${a}\n${usage}`);
    process.exit(2);
  } else o.files.push(a);
}
if (!Number.isFinite(o.threshold) || o.threshold < 0) {
  console.error(`bench-compare: --threshold needs a number >= 0\n${usage}`);
  process.exit(2);
}
if (o.files.length !== 0 && o.files.length !== 2) {
  console.error(`bench-compare: give two result files (base and head), or none\n${usage}`);
  process.exit(2);
}

let pairs;
if (o.files.length === 2) {
  const [base, head] = o.files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  pairs = [{ suite: head.suite, base, head }];
} else {
  const { runs, skipped } = loadRuns(o.dir);
  for (const s of skipped) console.error(`bench-compare: skipped ${s}`);
  pairs = latestPairs(runs).filter((p) => !o.suite || p.suite === o.suite);
  if (pairs.length === 0) {
    console.log(`No recorded runs${o.suite ? ` of suite '${o.suite}'` : ''} in ${o.dir}: run 'npm run bench' first.`);
    process.exit(0);
  }
}

let regressions = 0;
for (const { base, head } of pairs) {
  const rows = compareRuns(base, head, o.threshold);
  regressions += rows.filter((r) => r.verdict === 'regression').length;
  console.log(formatComparison(base, head, rows).join('\n') + '\n');
}
console.log(
  `${regressions} figure(s) worse by more than ${o.threshold}% (one run each side: rerun a case before trusting a small change).`,
);
process.exit(o.failOnRegression && regressions ? 1 : 0);
