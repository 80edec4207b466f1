// The ray-ts side of the Data benchmark: the same five workloads as ray_data_bench.py, one JSON
// line per workload ({ name, seconds, rows_per_s, rows, runs }), seconds the median of --repeat
// runs, each timed from building the Dataset to its result (init and a warm-up job not timed).
//
//   node --import tsx packages/data/bench/ray-ts-bench.mjs --data DATA --model MODEL [--only a,b] [--repeat 1]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init, shutdown } from '@ray-ts/core';
import { DataContext, range, readParquet } from '@ray-ts/data';
import { Predictor } from '../../../examples/batch-inference/predictor.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string' },
    only: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    'range-rows': { type: 'string', default: '10000000' },
  },
});
const data = values.data;
const tabular = path.join(data, 'tabular');
const mlp = path.join(data, 'mlp');
const modelPath = path.join(values.model, 'mlp.onnx');
const rangeRows = Number(values['range-rows']);

const workloads = {
  range_map_batches: async () =>
    range(rangeRows)
      .mapBatches((b) => ({ id: b.id.map((x) => x * 2) }))
      .count(),
  sort: async () => (await readParquet(tabular).sort('x').materialize()).count(),
  random_shuffle: async () => (await readParquet(tabular).randomShuffle().materialize()).count(),
  batch_inference: async () =>
    readParquet(mlp)
      .mapBatches(Predictor, {
        compute: { size: 2 },
        batchSize: 1024,
        batchFormat: 'arrow',
        fnConstructorArgs: [modelPath],
      })
      .count(),
};

// groupby_mean returns no row count: rows/s uses the input's rows, counted after the timing.
const timed = {
  ...workloads,
  groupby_mean: async () => {
    const groups = await readParquet(tabular).groupby('category').mean('x').takeAll();
    if (groups.length !== 100) throw new Error(`expected 100 groups, got ${groups.length}`);
    return null;
  },
};

DataContext.getCurrent().progressBars = false;
await init({ numCpus: 2 });
try {
  await range(1000)
    .map((r) => r)
    .count(); // warm-up: worker threads and modules loaded
  const names = values.only ? values.only.split(',') : Object.keys(timed);
  for (const name of names) {
    const runs = [];
    let rows = null;
    for (let i = 0; i < Math.max(1, Number(values.repeat)); i++) {
      const t0 = performance.now();
      const r = await timed[name]();
      runs.push((performance.now() - t0) / 1000);
      if (typeof r === 'number') rows = r;
    }
    if (rows === null) rows = name === 'groupby_mean' ? await readParquet(tabular).count() : null;
    runs.sort((a, b) => a - b);
    const seconds = runs[Math.floor(runs.length / 2)];
    console.log(JSON.stringify({ name, seconds, rows, rows_per_s: rows ? rows / seconds : null, runs }));
  }
} finally {
  await shutdown();
}
