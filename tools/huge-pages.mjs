// Benchmarks' drivers host the embedded cluster's worker threads, or receive large objects from
// other nodes, so they need glibc's huge-page tunable from their own start, as ray-ts gives every
// process it starts (see packages/core/src/runtime/huge-pages.ts). restartWithHugePages() runs this
// script again with it, as `GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node script.js` would, unless
// it is set already or RAY_TS_HUGE_PAGES=0.
import { spawnSync } from 'node:child_process';
import { withHugePages } from '@ray-ts/core';

/** Restarts the running script with huge pages when it lacks them; returns only when it has them (or may not). */
export function restartWithHugePages() {
  const env = withHugePages(process.env);
  if (env.GLIBC_TUNABLES === process.env.GLIBC_TUNABLES) return;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}
