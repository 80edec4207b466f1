import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, get, init, shutdown, timeline } from '@ray-ts/core';
import * as f from './fixtures/util.js';

describe('timeline', () => {
  beforeAll(async () => {
    await init({ numCpus: 2, namespace: 'timeline-test' });
  });
  afterAll(async () => {
    await shutdown();
  });

  it('shows each task run on its worker, as Chrome trace events, and writes them to a file', async () => {
    const before = Date.now();
    await get(Array.from({ length: 6 }, () => f.nap.options({ name: 'nap-for-timeline' }).remote(60)));
    const file = path.join(os.tmpdir(), `ray-ts-timeline-test-${process.pid}.json`);
    const events = (await timeline({ filename: file })).filter((e) => e.name === 'nap-for-timeline');
    expect(events).toHaveLength(6);
    for (const e of events) {
      expect(e).toMatchObject({ ph: 'X', cat: 'task', args: { state: 'FINISHED' } });
      expect(e.ts).toBeGreaterThanOrEqual(before * 1000);
      expect(e.dur).toBeGreaterThanOrEqual(55_000);
      expect(e.tid).toMatch(/^worker worker_/);
    }
    // Two CPUs: two workers ran them, side by side, one node.
    expect(new Set(events.map((e) => e.tid)).size).toBe(2);
    expect(new Set(events.map((e) => e.pid)).size).toBe(1);
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string }[];
    expect(written.filter((e) => e.name === 'nap-for-timeline')).toHaveLength(6);
    fs.rmSync(file);
  });

  it("shows an actor's method calls on its worker, one after another", async () => {
    const a = f.DoublerActor.remote();
    await get([a.double.remote(1, 40), a.double.remote(2, 40)]);
    const calls = (await timeline()).filter((e) => e.name === 'Doubler.double');
    expect(calls).toHaveLength(2);
    expect(calls.every((e) => e.cat === 'actor_task' && e.args.actorId && e.dur >= 35_000)).toBe(true);
    expect(new Set(calls.map((e) => e.tid)).size).toBe(1);
    // Measured by the worker: the second starts once the first has ended (an async method awaits 40 ms).
    expect(calls[1].ts).toBeGreaterThanOrEqual(calls[0].ts);
  });

  it('refuses bad options', async () => {
    await expect(timeline({ filename: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(timeline({ filenme: 'x' } as never)).rejects.toThrow(/Did you mean 'filename'/);
  });
});
