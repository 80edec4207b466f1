#!/usr/bin/env node
// The chaos soak (issue 20): a mixed workload (tasks, nested tasks, restartable actors, objects
// across nodes, KV writes, named detached actors, Serve requests over HTTP, Tune runs) on a
// multi-node cluster for a set time, while a seeded schedule SIGKILLs worker nodes (and starts
// replacements), cuts nodes' links (network namespaces; skipped with a note where there are
// none) and SIGKILLs Redis (restarted on its port, with its append-only file). Then it checks:
// every acknowledged answer right, failures only typed RayErrors, no operation without an answer
// past its deadline, acknowledged KV writes and named actors all there at the end, memory bounded.
// Exits 1 on any violation.
//
//   npm run chaos -- --seconds 300 --seed 42 [--nodes 3] [--json]
import { Command, InvalidArgumentError, Option } from 'commander';

const int = (name) => (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be an integer >= 0`);
  return n;
};
const program = new Command('chaos')
  .description('a mixed workload on a multi-node cluster under seeded faults, then invariant checks')
  .addOption(
    new Option('--seconds <n>', 'how long the workload and the faults run').default(120).argParser(int('--seconds')),
  )
  .addOption(
    new Option('--seed <n>', 'the fault schedule and workload seed (default: random, printed)').argParser(
      int('--seed'),
    ),
  )
  .addOption(
    new Option('--nodes <n>', 'worker nodes besides the head (at least 3)').default(3).argParser(int('--nodes')),
  )
  .addOption(
    new Option('--node-timeout-ms <n>', "the head's node timeout").default(3000).argParser(int('--node-timeout-ms')),
  )
  .addOption(
    new Option('--deadline-ms <n>', 'an operation without an answer this long is a hang')
      .default(60_000)
      .argParser(int('--deadline-ms')),
  )
  .option('--json', 'print a machine-readable summary (JSON) on stdout; progress goes to stderr');
program.parse();
const opts = program.opts();
if (opts.nodes < 3) program.error('--nodes must be at least 3');
const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);

const log = opts.json ? (s) => console.error(s) : (s) => console.log(s);
const { RayError, SeededRng, init, shutdown } = await import('@ray-ts/core');
const core = await import('@ray-ts/core');
const serveMod = await import('@ray-ts/serve');
const tuneMod = await import('@ray-ts/tune');
const { FaultInjector, faultSchedule, rssOf, startChaosCluster } = await import('./chaos/cluster.mjs');
const { Ledger } = await import('./chaos/ledger.mjs');
const { Workload } = await import('./chaos/workload.mjs');
const { printSummary } = await import('./chaos/summary.mjs');

const MiB = 1024 ** 2;
const OBJECT_STORE_BYTES = 256 * MiB;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Names of every RayError subclass the packages export: what a Serve error answer or a failed trial may name. */
const typedNames = new Set(
  [core, serveMod, tuneMod].flatMap((m) =>
    Object.values(m)
      .filter((v) => typeof v === 'function' && (v === RayError || v.prototype instanceof RayError))
      .map((v) => v.name),
  ),
);

log(`chaos: seed ${seed}, ${opts.seconds} s, ${opts.nodes} worker nodes, node timeout ${opts.nodeTimeoutMs} ms`);
const env = await startChaosCluster({
  nodes: opts.nodes,
  nodeTimeoutMs: opts.nodeTimeoutMs,
  objectStoreBytes: OBJECT_STORE_BYTES,
  log,
});
let exitCode = 1;
// Interrupted: stop the nodes, Redis and the namespaces rather than leave them behind.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`chaos: ${sig}: stopping the cluster`);
    void env.stop().finally(() => process.exit(130));
  });
}
const ledger = new Ledger({ isTyped: (err) => err instanceof RayError, log });
let workload;
try {
  await init({ address: env.cluster.address, logToDriver: false });
  workload = new Workload({
    ledger,
    rng: new SeededRng(seed ^ 0x5eed),
    runId: `${seed}-${process.pid}`,
    headNodeId: env.head.nodeId,
    deadlineMs: opts.deadlineMs,
    tuneDeadlineMs: opts.deadlineMs * 2,
    typedNames,
    log,
  });
  await workload.setup();

  // Memory: the driver, the head, and the worker nodes (summed over those alive), every second.
  const memory = { driver: [], head: [], workers: [] };
  const sample = () => {
    memory.driver.push(process.memoryUsage().rss);
    memory.head.push(rssOf(env.head.pid) ?? 0);
    memory.workers.push(env.slots.reduce((sum, s) => sum + (rssOf(s.node.pid) ?? 0), 0));
  };
  sample();
  const sampler = setInterval(sample, 1_000);

  const durationMs = opts.seconds * 1000;
  const quietMs = Math.min(10_000, durationMs / 4);
  const schedule = faultSchedule(new SeededRng(seed), {
    durationMs,
    slots: env.slots.length,
    nodeTimeoutMs: opts.nodeTimeoutMs,
    quietMs,
  });
  log(`schedule: ${schedule.map((f) => `${(f.at / 1000).toFixed(1)}s ${f.type}@${f.slot}`).join(', ') || '(none)'}`);
  const injector = new FaultInjector(env, { nodeTimeoutMs: opts.nodeTimeoutMs, log });
  const startedAt = Date.now();
  env.startedAt = startedAt;
  const loops = workload.loops();
  const faults = injector.run(schedule, startedAt, durationMs - quietMs).catch((err) => {
    ledger.violation('faults', 'injector', `the fault injector failed: ${err.message}`);
  });
  await sleep(durationMs);
  workload.stop();
  injector.stopped = true;
  await faults;
  await injector.settle();
  for (const f of injector.failures) ledger.violation('faults', 'recovery', f);
  // Each loop ends once its current operation answers; one that does not was already reported by its watchdog.
  const ended = await Promise.race([
    Promise.all(loops).then(() => true),
    sleep(opts.deadlineMs * 2 + 5_000).then(() => false),
  ]);
  if (!ended) log('some loops did not end');
  for (const p of ledger.stillPending()) log(`still pending: ${p.kind} ${p.what} (${p.waitedMs} ms)`);
  const elapsedMs = Date.now() - startedAt;
  log('checking acknowledged writes...');
  await workload.finalChecks();
  sample();
  clearInterval(sampler);

  // Bounded memory: a process may end above where it started by the object store's capacity (its
  // shared buffers are in its RSS) plus 256 MiB of V8 heap and code; a leak that grows with the
  // number of operations (tens of thousands in a long run) passes that.
  const mem = {};
  for (const [who, xs] of Object.entries(memory)) {
    const start = xs[0];
    const end = xs.at(-1);
    const bound = start + OBJECT_STORE_BYTES + 256 * MiB;
    mem[who] = {
      startMiB: start / MiB,
      peakMiB: Math.max(...xs) / MiB,
      endMiB: end / MiB,
      boundMiB: who === 'workers' ? undefined : bound / MiB,
    };
    // Worker nodes are replaced as they are killed, so only the long-lived processes are judged.
    if (who !== 'workers' && end > bound)
      ledger.violation(
        'memory',
        who,
        `RSS ${(end / MiB).toFixed(0)} MiB at the end > bound ${(bound / MiB).toFixed(0)} MiB`,
      );
  }
  const summary = {
    seed,
    seconds: opts.seconds,
    elapsedS: Math.round(elapsedMs / 100) / 10,
    nodes: opts.nodes,
    faults: {
      scheduled: injector.scheduled,
      injected: injector.injected,
      skipped: injector.skipped,
      replacements: injector.replacements,
      fencedOrExited: injector.fenced,
    },
    linkCuts: env.noCutReason ? `skipped: ${env.noCutReason}` : 'network namespaces',
    operations: Object.fromEntries([...ledger.kinds].sort()),
    totals: ledger.totals(),
    serveRequestsServed: workload.served,
    tuneRunsChecked: workload.tuneRuns,
    kvWritesAcknowledged: workload.ackedKv.size,
    namedActorsAcknowledged: workload.ackedNamed.length,
    errorsByType: Object.fromEntries([...ledger.errors].sort((a, b) => b[1] - a[1])),
    memory: mem,
    stillPending: ledger.stillPending().map((p) => `${p.kind} ${p.what} (${p.waitedMs} ms)`),
    violations: ledger.violations,
  };
  if (opts.json) console.log(JSON.stringify(summary));
  else printSummary(summary, log);
  exitCode = ledger.violations.length ? 1 : 0;
} catch (err) {
  log(`chaos: the soak could not run: ${err.stack ?? err}`);
  exitCode = 2;
} finally {
  const cleanup = (async () => {
    await workload?.cleanup().catch((err) => log(`cleanup: ${err.message}`));
    await shutdown().catch((err) => log(`shutdown: ${err.message}`));
    await env.stop();
  })();
  await Promise.race([cleanup, sleep(30_000).then(() => log('cleanup took over 30 s: exiting anyway'))]);
}
process.exit(exitCode);
