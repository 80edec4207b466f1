// The chaos soak's workload: loops that run side by side until stopped, each operation checked
// against an answer the driver knows (see fixtures.mjs), recorded in the ledger.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { actorIdOf, get, getActor, internalKv, kill, listActors, listTasks, put } from '@ray-ts/core';
import * as serve from '@ray-ts/serve';
import { Tuner, gridSearch, withResources } from '@ray-ts/tune';
import { NamedFailure } from './ledger.mjs';
import * as fx from './fixtures.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const same = (want) => (got) =>
  got === want ? undefined : `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;

/** Object sizes: inline, small, just above the inline bound (shared memory), and a few MiB. */
const SIZES = [64, 8 * 1024, 200 * 1024, 2 * 1024 * 1024];
const ACTORS = 3;
const NAMED_MAX = 30;

export class Workload {
  /**
   * @param {{ ledger: import('./ledger.mjs').Ledger, rng: import('@ray-ts/core').SeededRng, runId: string,
   *   headNodeId: string, deadlineMs: number, tuneDeadlineMs: number, typedNames: Set<string>, log: (s: string) => void }} opts
   */
  constructor(opts) {
    Object.assign(this, opts);
    this.stopped = false;
    /** KV keys whose put was acknowledged, with their values. */
    this.ackedKv = new Map();
    /** Names of detached actors whose first call answered. */
    this.ackedNamed = [];
    this.served = 0;
    this.tuneRuns = 0;
    this.storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-chaos-tune-'));
  }

  op(kind, what, fn, check, deadlineMs = this.deadlineMs, mustSucceed = false, onHang) {
    return this.ledger.op(kind, what, fn, { deadlineMs, check, mustSucceed, onHang });
  }

  /** The state API's rows of the tasks behind `refs` (for a hang's report). */
  async tasksOf(refs) {
    const ids = refs.map((r) => r.id.replace(/\.\d+$/, ''));
    const rows = (await listTasks({ limit: 100_000 })).filter((t) => ids.includes(t.taskId));
    return JSON.stringify(
      rows.map((t) => ({ taskId: t.taskId, name: t.name, state: t.state, nodeId: t.nodeId, owner: t.owner })),
    );
  }

  async setup() {
    this.actors = Array.from({ length: ACTORS }, (_, i) =>
      fx.HasherActor.options({ maxRestarts: -1, maxTaskRetries: -1, numCpus: 0, schedulingStrategy: 'SPREAD' }).remote(
        `hasher-${i}`,
      ),
    );
    await get(this.actors.map((a) => a.hash.remote('warm-up')));
    await serve.start({ http: { host: '127.0.0.1', port: 0, proxiesPerNode: 1, location: 'HeadOnly' } });
    await serve.run(fx.HashApp.bind(), { name: 'chaos', routePrefix: '/chaos' });
    const st = await serve.status();
    this.servePort = st.proxies[this.headNodeId]?.httpPort;
    if (!this.servePort) throw new Error(`no Serve proxy on the head: ${JSON.stringify(st.proxies)}`);
  }

  /** Every loop, each a promise that ends once `stop()` was called and its last operation ended. */
  loops() {
    const loop = async (name, body, pauseMs = 0) => {
      for (let i = 0; !this.stopped; i++) {
        const errorsBefore = this.ledger.totals();
        await body(i);
        const after = this.ledger.totals();
        // Always a macrotask between operations (one that fails at once would otherwise starve
        // the timers, the watchdogs among them), and a pause after a failure.
        const failedNow = after.failed + after.violations > errorsBefore.failed + errorsBefore.violations;
        await sleep(Math.max(pauseMs, failedNow ? 100 : 0));
      }
      this.log(`loop ${name} stopped`);
    };
    return [
      loop('tasks', (i) => this.tasks(i)),
      loop('nested', (i) => this.nested(i), 50),
      loop('actors', (i) => this.actorCalls(i)),
      loop('objects', (i) => this.objects(i)),
      loop('kv', (i) => this.kv(i), 20),
      loop('named', (i) => this.named(i), 1_000),
      loop('serve-a', (i) => this.serveRequest(`a${i}`)),
      loop('serve-b', (i) => this.serveRequest(`b${i}`)),
      loop('tune', (i) => this.tune(i), 500),
    ];
  }

  stop() {
    this.stopped = true;
  }

  async tasks(i) {
    await Promise.all(
      [0, 1, 2, 3].map((j) => {
        const key = `${this.runId}-t${i}-${j}`;
        const ref = fx.hashTask.remote(key);
        return this.op(
          'task',
          key,
          () => get(ref),
          same(fx.hashOf(key)),
          this.deadlineMs,
          false,
          () => this.tasksOf([ref]),
        );
      }),
    );
  }

  async nested(i) {
    const keys = [0, 1, 2].map((j) => `${this.runId}-n${i}-${j}`);
    await this.op('nested-task', keys[0], () => get(fx.fanOut.remote(keys)), same(keys.map(fx.hashOf).join(',')));
  }

  async actorCalls(i) {
    await Promise.all(
      this.actors.map((a, j) => {
        const key = `${this.runId}-a${i}-${j}`;
        return this.op('actor-call', `hasher-${j} ${key}`, () => get(a.hash.remote(key)), same(fx.hashOf(key)));
      }),
    );
  }

  async objects(i) {
    const n = SIZES[i % SIZES.length];
    const seed = this.rng.nextUint32();
    const want = fx.checksum(fx.bytesOf(seed, n));
    // Put here, read by a task elsewhere; made elsewhere, pulled here; made on one node, read on
    // another (rebuilt from its lineage when its node dies first).
    await Promise.all([
      (() => {
        const made = fx.makeBytes.remote(seed, n);
        const sum = fx.checksumTask.remote(made);
        return this.op(
          'object-chain',
          `${n} B`,
          () => get(sum),
          same(want),
          this.deadlineMs,
          false,
          () => this.tasksOf([made, sum]),
        );
      })(),
      this.op('object-put', `${n} B`, () => get(fx.checksumTask.remote(put(fx.bytesOf(seed, n)))), same(want)),
      this.op('object-pull', `${n} B`, async () => fx.checksum(await get(fx.makeBytes.remote(seed, n))), same(want)),
    ]);
  }

  async kv(i) {
    const key = `chaos/${this.runId}/${i}`;
    const value = fx.hashOf(key).repeat(1 + (i % 8));
    const put = await this.op(
      'kv-put',
      key,
      () => internalKv.put(key, value),
      () => undefined,
    );
    if (put.ok) this.ackedKv.set(key, value);
    if (this.ackedKv.size && i % 2 === 1) {
      const keys = [...this.ackedKv.keys()];
      const k = keys[this.rng.int(keys.length)];
      await this.op('kv-get', k, () => internalKv.getString(k), same(this.ackedKv.get(k)));
    }
  }

  async named(i) {
    if (this.ackedNamed.length >= NAMED_MAX) return;
    const name = `chaos-${this.runId}-named-${i}`;
    const r = await this.op(
      'named-actor',
      name,
      () => {
        const a = fx.HasherActor.options({
          name,
          lifetime: 'detached',
          numCpus: 0,
          maxRestarts: -1,
          maxTaskRetries: -1,
          schedulingStrategy: 'SPREAD',
        }).remote(name);
        return get(a.hash.remote(name));
      },
      same(fx.hashOf(name)),
    );
    if (r.ok) this.ackedNamed.push(name);
  }

  async serveRequest(tag) {
    const key = `${this.runId}-s${tag}`;
    const r = await this.op(
      'serve-request',
      key,
      async () => {
        const res = await fetch(`http://127.0.0.1:${this.servePort}/chaos?k=${encodeURIComponent(key)}`);
        const text = await res.text();
        if (res.status !== 200) {
          let name = 'no JSON body';
          try {
            name = JSON.parse(text).error ?? name;
          } catch {
            // not JSON: counted as an untyped answer, by its status
          }
          throw new NamedFailure(`HTTP ${res.status} ${name}`, this.typedNames.has(name), text.slice(0, 200));
        }
        return JSON.parse(text);
      },
      (v) => (v?.k === key && v?.h === fx.hashOf(key) ? undefined : `got ${JSON.stringify(v)}`),
    );
    if (r.ok) this.served++;
  }

  async tune(i) {
    const r = await this.op(
      'tune-run',
      `run ${i}`,
      async () => {
        const grid = await new Tuner(withResources(fx.parabola, { numCpus: 0.25 }), {
          paramSpace: { x: gridSearch([0, 1, 2, 3]), iters: 3 },
          tuneConfig: { metric: 'score', mode: 'max' },
          runConfig: {
            name: `chaos-${this.runId}-${i}`,
            storagePath: this.storagePath,
            verbose: 0,
            failureConfig: { maxFailures: 3 },
          },
        }).fit();
        for (const res of grid) {
          if (res.error)
            throw new NamedFailure(`trial ${res.error.name}`, this.typedNames.has(res.error.name), res.error.message);
        }
        const best = grid.getBestResult();
        return { x: best.config.x, score: best.metrics?.score, trials: grid.length };
      },
      (v) =>
        v.x === 2 && v.score === 0 && v.trials === 4
          ? undefined
          : `best ${JSON.stringify(v)}, not x=2 score=0 of 4 trials`,
      this.tuneDeadlineMs,
    );
    if (r.ok) this.tuneRuns++;
  }

  /** After the faults: every acknowledged KV write readable, every acknowledged named actor found and answering. */
  async finalChecks() {
    for (const [k, v] of this.ackedKv)
      await this.op('final-kv', k, () => internalKv.getString(k), same(v), this.deadlineMs, true);
    for (const name of this.ackedNamed) {
      let stage = 'getActor';
      const r = await this.op(
        'final-named-actor',
        name,
        async () => {
          const a = await getActor(name);
          stage = `call to actor ${actorIdOf(a)}`;
          return get(a.hash.remote(`${name}-end`));
        },
        same(fx.hashOf(`${name}-end`)),
        this.deadlineMs,
        true,
      );
      if (!r.ok) {
        const rows = await listActors({ filters: [['name', '=', name]] }).catch((err) => err.message);
        this.log(`  ${name}: stuck in ${stage}; the state API lists ${JSON.stringify(rows)}`);
      }
    }
  }

  async cleanup() {
    for (const name of this.ackedNamed) {
      const a = await getActor(name).catch(() => undefined);
      if (a) kill(a);
    }
    await serve.shutdown().catch((err) => this.log(`serve.shutdown: ${err.message}`));
    fs.rmSync(this.storagePath, { recursive: true, force: true });
  }
}
