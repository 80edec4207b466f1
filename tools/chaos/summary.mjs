// The chaos soak's summary as tables (tools/chaos.mjs prints it; --json prints the object instead).

const row = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');

function table(title, header, rows, log) {
  const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  log(`\n${title}`);
  log(row(header, widths));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) log(row(r, widths));
}

export function printSummary(s, log) {
  log(`\nChaos soak: seed ${s.seed}, ${s.elapsedS} s, ${s.nodes} worker nodes (link cuts: ${s.linkCuts})`);
  table(
    'Faults',
    ['type', 'scheduled', 'injected', 'skipped (no netns)'],
    Object.keys(s.faults.injected).map((t) => [t, s.faults.scheduled[t], s.faults.injected[t], s.faults.skipped[t]]),
    log,
  );
  log(
    `replacement nodes started: ${s.faults.replacements}; nodes that exited after a cut (fenced): ${s.faults.fencedOrExited}`,
  );
  table(
    'Operations',
    ['kind', 'ok', 'typed failure', 'violation'],
    [
      ...Object.entries(s.operations).map(([k, v]) => [k, v.ok, v.failed, v.violations]),
      ['total', s.totals.ok, s.totals.failed, s.totals.violations],
    ],
    log,
  );
  log(
    `Serve requests served: ${s.serveRequestsServed}; Tune runs checked: ${s.tuneRunsChecked}; KV writes acknowledged: ${s.kvWritesAcknowledged}; named actors acknowledged: ${s.namedActorsAcknowledged}`,
  );
  table('Errors by type', ['error', 'count'], Object.entries(s.errorsByType), log);
  const f = (x) => (x === undefined ? '-' : x.toFixed(0));
  table(
    'Memory (RSS, MiB)',
    ['process', 'start', 'peak', 'end', 'bound'],
    Object.entries(s.memory).map(([k, m]) => [k, f(m.startMiB), f(m.peakMiB), f(m.endMiB), f(m.boundMiB)]),
    log,
  );
  if (s.violations.length) {
    log(`\n${s.violations.length} VIOLATIONS:`);
    for (const v of s.violations.slice(0, 50)) log(`  ${v.at} ${v.kind} ${v.what}: ${v.why}`);
  } else log('\nNo violations.');
}
