// One fresh process of tools/startup-bench.mjs: `import`, `init()`, `get(f.remote())`, as a plain
// `node app.js` does it, with each phase's end on the process's clock. The task is defined here,
// in the entry script, so it travels by value (as a user's first script would).
//
//   node tools/startup-child.mjs [MODULE]   (MODULE: a path or URL of @ray-ts/core's entry; default the package)
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

// performance.now() counts from the process's start: this is Node's own start-up.
const started = performance.now();
const target = process.argv[2];
const specifier = !target ? '@ray-ts/core' : target.includes('://') ? target : pathToFileURL(target).href;
const ray = await import(specifier);
const imported = performance.now();
await ray.init();
const initialized = performance.now();
const one = ray.remote(() => 1);
const v = await ray.get(one.remote());
const firstResult = performance.now();
if (v !== 1) throw new Error(`unexpected result ${v}`);
process.stdout.write(
  JSON.stringify({
    nodeStartMs: started,
    importMs: imported - started,
    initMs: initialized - imported,
    firstTaskMs: firstResult - initialized,
    importToResultMs: firstResult - started,
    totalMs: firstResult,
  }) + '\n',
);
await ray.shutdown();
process.exit(0);
