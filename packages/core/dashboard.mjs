// Builds the dashboard's web UI (dashboard/, Preact + uPlot) into one static bundle the head serves
// (dist/dashboard/: index.html, app.js, app.css; cluster/dashboard-*.ts serves it at / and /assets/*).
// Built here, at build time, so the head needs no network and ships no framework runtime of its own.
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { build } from 'esbuild';

const out = 'dist/dashboard';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: 'dashboard/app.tsx' },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // No source map: it would triple what the head ships for a UI small enough to read minified.
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync('dashboard/index.html', `${out}/index.html`);

const kb = (f) => Math.round(statSync(`${out}/${f}`).size / 1024);
const budgetKb = 120; // docs/observability.md's promise: the dashboard loads fast
if (kb('app.js') > budgetKb)
  throw new Error(`dist/dashboard/app.js is ${kb('app.js')} KB: over its ${budgetKb} KB budget`);
