#!/usr/bin/env node
// What Prometheus metrics cost (issue 21): tasks/s and actor calls/s on a 2-CPU head driven by a
// connected driver, with metrics off (RAY_TS_METRICS_ENABLED=0) and on (every node and the driver
// serve /metrics, scraped every second: 15x more often than Prometheus's default), in alternating
// rounds in one run (two clusters, one per mode, up together). Prints each round, the medians, and
// on/off ratios.
//
//   node tools/metrics-bench.mjs [--rounds N] [--duration SECONDS] [--json OUT]
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rounds = Number(opt('--rounds', 5));
const durationMs = Number(opt('--duration', 2)) * 1000;
const jsonOut = opt('--json');

(await import('./huge-pages.mjs')).restartWithHugePages();
const ray = await import('@ray-ts/core');
const { Cluster, clusterAuthHeaders } = await import('@ray-ts/core/testing');
const fx = await import('./metrics-bench-fixtures.js');
const { init, shutdown, get } = ray;

/** Batches of `batch` calls of `submit` for `durationMs`, after one warm-up batch: calls per second. */
async function rate(submit, batch = 1000) {
  await get(Array.from({ length: batch }, submit));
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    await get(Array.from({ length: batch }, submit));
    n += batch;
  }
  return n / ((performance.now() - t0) / 1000);
}

// Both clusters run for the whole benchmark, and the driver alternates between them round by round,
// so that a slow minute of a shared machine hits both modes alike.
const clusters = {};
for (const on of [false, true]) {
  const env = { RAY_TS_METRICS_ENABLED: on ? '1' : '0' };
  clusters[on] = await Cluster.start({ head: { numCpus: 2, env } });
}

async function round(on) {
  process.env.RAY_TS_METRICS_ENABLED = on ? '1' : '0'; // the driver's own endpoint too
  const cluster = clusters[on];
  await init({ address: cluster.address });
  let scrapes = 0;
  let scraper;
  if (on) {
    const api = cluster.nodes[0].jobApiAddress;
    const headers = clusterAuthHeaders();
    const [{ targets }] = await (await fetch(`${api}/api/prometheus/sd`, { headers })).json();
    scraper = setInterval(() => {
      for (const t of targets)
        void fetch(`http://${t}/metrics`, { headers })
          .then((r) => r.text())
          .then(() => scrapes++);
    }, 1000);
  }
  try {
    const out = {};
    out['tasks/s'] = await rate(() => fx.f.remote());
    const a = fx.PingerRemote.remote();
    out['actor calls/s'] = await rate(() => a.ping.remote());
    out['tasks with Counter.inc/s'] = await rate(() => fx.counted.remote());
    return { ...out, scrapes };
  } finally {
    clearInterval(scraper);
    await shutdown();
  }
}

const results = { off: [], on: [] };
for (let i = 0; i < rounds; i++) {
  for (const on of [false, true]) {
    const r = await round(on);
    results[on ? 'on' : 'off'].push(r);
    const figures = Object.entries(r)
      .map(([k, v]) => `${k} ${k === 'scrapes' ? v : v.toFixed(0)}`)
      .join(', ');
    console.log(`round ${i + 1} metrics ${on ? 'on ' : 'off'}: ${figures}`);
  }
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = {};
for (const key of ['tasks/s', 'actor calls/s', 'tasks with Counter.inc/s']) {
  const off = median(results.off.map((r) => r[key]));
  const on = median(results.on.map((r) => r[key]));
  summary[key] = { off, on, ratio: on / off };
  console.log(
    `${key}: metrics off ${off.toFixed(0)}, on ${on.toFixed(0)} (scraped every 1 s): on/off ${(on / off).toFixed(3)} ` +
      `(${((1 - on / off) * 100).toFixed(1)}% cost)`,
  );
}
for (const c of Object.values(clusters)) await c.shutdown();
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ rounds: results, summary }, null, 2));
