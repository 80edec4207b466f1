// Tune on a 2-node cluster of real processes: trials run on both nodes, results and checkpoints
// come back to the driver.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, metricRows, waitFor } from '@ray-ts/core/testing';
import { PlacementGroupFactory, Tuner, gridSearch, withResources } from '@ray-ts/tune';
import * as f from './fixtures/trainables.js';

let cluster: Cluster;
let storagePath = '';

beforeAll(async () => {
  cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }] });
  await init({ address: cluster.address });
  storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tune-cluster-'));
}, 60_000);

afterAll(async () => {
  await shutdown();
  await cluster.shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
});

it('runs trials on every node of a cluster, unchanged, one trial per CPU', async () => {
  const grid = await new Tuner(f.onNode, {
    paramSpace: { iters: 3, sleepMs: gridSearch([100, 120, 140, 160]) },
    tuneConfig: { metric: 'i', mode: 'max' },
    runConfig: { name: 'cluster', storagePath, verbose: 0 },
  }).fit();
  expect(grid.length).toBe(4);
  expect(grid.numErrors).toBe(0);
  const nodes = new Set([...grid].map((r) => r.metrics?.node));
  expect([...nodes].sort()).toEqual(cluster.nodes.map((n) => n.nodeId).sort());
  for (const r of grid) expect(r.checkpoint?.toDict<{ i: number }>().i).toBe(3);
  expect(fs.existsSync(path.join(grid.experimentPath, 'experiment_state.json'))).toBe(true);
});

/** The rows of `name` on the driver's Prometheus endpoint (found through the head's discovery), by label set. */
async function driverRows(name: string): Promise<Record<string, string>[]> {
  const api = cluster.nodes.find((n) => n.isHead)!.jobApiAddress!;
  const sd = (await (await fetch(`${api}/api/prometheus/sd`, { headers: clusterAuthHeaders() })).json()) as {
    targets: string[];
  }[];
  const nodes = new Set(cluster.nodes.map((n) => n.metricsAddress));
  const driver = sd.flatMap((g) => g.targets).find((t) => !nodes.has(t))!;
  const text = await (await fetch(`http://${driver}/metrics`, { headers: clusterAuthHeaders() })).text();
  return metricRows(text, name).map((r) => ({ ...r.labels, value: String(r.value) }));
}

it("exports each trial's last result and the trials by status on the driver's /metrics", async () => {
  // The experiment 'cluster' of the test above: 4 trials, each reported i = 1, 2, 3.
  const rows = (await waitFor(
    async () => {
      const r = (await driverRows('ray_tune_trial_result')).filter(
        (x) => x.experiment === 'cluster' && x.metric === 'i',
      );
      return r.length === 4 && r.every((x) => x.value === '3') ? r : undefined; // sent every half second
    },
    { timeoutMs: 10_000, what: "4 trials' result rows" },
  ))!;
  expect(rows.map((r) => r.value)).toEqual(['3', '3', '3', '3']);
  expect(new Set(rows.map((r) => r.trial_id)).size).toBe(4);
  const statuses = async () =>
    Object.fromEntries(
      (await driverRows('ray_tune_trials')).filter((x) => x.experiment === 'cluster').map((x) => [x.status, x.value]),
    );
  await waitFor(async () => (await statuses()).TERMINATED === '4', { timeoutMs: 10_000, what: '4 trials TERMINATED' });
  expect(await statuses()).toMatchObject({ TERMINATED: '4', RUNNING: '0', ERROR: '0' });
});

it('gives each trial a placement group spread over the nodes, its tasks captured in it', async () => {
  const grid = await new Tuner(
    withResources(f.inGroup, new PlacementGroupFactory([{ CPU: 0.5 }, { CPU: 0.5 }], 'STRICT_SPREAD')),
    {
      paramSpace: { i: gridSearch([1, 2, 3]) },
      runConfig: { name: 'cluster-pgf', storagePath, verbose: 0 },
    },
  ).fit();
  expect(grid.numErrors).toBe(0);
  expect(new Set([...grid].map((r) => r.metrics?.group)).size).toBe(3);
  for (const r of grid) expect(r.metrics?.kids).toEqual([r.metrics?.group, r.metrics?.group]);
});
