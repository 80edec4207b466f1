import { SeededRng } from '@ray-ts/core';
import { describe, expect, it } from 'vitest';
import { decide, desiredReplicas, newAutoscalingState, recordLoad, type AutoscalingState } from './autoscaling.js';
import { compileAutoscaling } from './options.js';
import type { AutoscalingConfig } from './options.js';

const S = 1000;

function config(c: AutoscalingConfig): Required<AutoscalingConfig> {
  return compileAutoscaling('test', c);
}

/** A policy driven the way the controller drives it: record a sample, then decide. */
class Sim {
  readonly s: AutoscalingState = newAutoscalingState();
  readonly changes: { t: number; from: number; to: number }[] = [];
  constructor(
    readonly cfg: Required<AutoscalingConfig>,
    public current: number,
  ) {}

  step(t: number, load: number): number {
    recordLoad(this.s, this.cfg, t, load);
    const next = decide(this.s, this.cfg, this.current, t);
    if (next !== this.current) this.changes.push({ t, from: this.current, to: next });
    this.current = next;
    return next;
  }

  /** Samples `load(t)` every `everyMs` from `from` to `to` (inclusive); the count at the end. */
  run(from: number, to: number, everyMs: number, load: (t: number) => number): number {
    for (let t = from; t <= to; t += everyMs) this.step(t, load(t));
    return this.current;
  }
}

describe('autoscaling policy', () => {
  // No look-back averaging (only the latest sample counts), so each test controls the demand exactly.
  const base = {
    minReplicas: 1,
    maxReplicas: 10,
    targetOngoingRequests: 2,
    upscaleDelayS: 10,
    downscaleDelayS: 60,
    lookBackPeriodS: 0,
  };

  it('scales up only once the demand lasted upscaleDelayS', () => {
    const sim = new Sim(config(base), 1);
    // 8 ongoing requests at 2 per replica: 4 replicas wanted.
    expect(sim.run(0, 9.5 * S, 500, () => 8)).toBe(1);
    expect(sim.step(10 * S, 8)).toBe(4);
    expect(sim.changes).toEqual([{ t: 10 * S, from: 1, to: 4 }]);
  });

  it('starts the upscale delay over when the demand drops in between', () => {
    const sim = new Sim(config(base), 1);
    sim.run(0, 8 * S, 500, () => 8);
    sim.step(8.5 * S, 2); // 1 replica wanted: the demand for more is broken
    expect(sim.run(9 * S, 18.5 * S, 500, () => 8)).toBe(1);
    expect(sim.step(19 * S, 8)).toBe(4);
  });

  it('scales down only once the lower demand lasted downscaleDelayS, and starts over when it rises', () => {
    const sim = new Sim(config(base), 4);
    sim.run(0, 30 * S, 500, () => 2);
    sim.step(30.5 * S, 8); // back to 4 wanted: the count is right again
    expect(sim.run(31 * S, 90.5 * S, 500, () => 2)).toBe(4);
    expect(sim.step(91 * S, 2)).toBe(1);
    expect(sim.changes).toEqual([{ t: 91 * S, from: 4, to: 1 }]);
  });

  it('goes straight to the wanted count, up or down, not one step at a time', () => {
    const sim = new Sim(config(base), 2);
    sim.run(0, 10 * S, 500, () => 20);
    expect(sim.current).toBe(10);
    sim.run(10.5 * S, 71 * S, 500, () => 6);
    expect(sim.changes.map((c) => c.to)).toEqual([10, 3]);
  });

  it('keeps the count within minReplicas and maxReplicas', () => {
    const cfg = config({ ...base, minReplicas: 2, maxReplicas: 5 });
    const sim = new Sim(cfg, 2);
    expect(sim.run(0, 20 * S, 500, () => 1000)).toBe(5);
    expect(sim.run(20.5 * S, 200 * S, 500, () => 0)).toBe(2);
    expect(sim.changes.map((c) => c.to)).toEqual([5, 2]);
    const s = newAutoscalingState();
    recordLoad(s, cfg, 0, 1000);
    expect(desiredReplicas(s, cfg)).toBe(5);
    recordLoad(s, cfg, 10 * S, 0);
    expect(desiredReplicas(s, cfg)).toBe(2);
  });

  it('scales to zero when idle with minReplicas 0, and back up from zero at once', () => {
    const sim = new Sim(config({ ...base, minReplicas: 0, upscaleDelayS: 30 }), 1);
    sim.run(0, 59.5 * S, 500, () => 0);
    expect(sim.current).toBe(1);
    expect(sim.step(60 * S, 0)).toBe(0);
    // One request arrives: no upscale delay from zero.
    expect(sim.step(60.5 * S, 1)).toBe(1);
    // A burst while at zero goes straight to what it needs.
    const cold = new Sim(config({ ...base, minReplicas: 0, upscaleDelayS: 30 }), 0);
    expect(cold.step(0, 9)).toBe(5);
  });

  it('keeps at least one replica while there is any load at all', () => {
    const cfg = config({ ...base, minReplicas: 0, targetOngoingRequests: 100, lookBackPeriodS: 10 });
    const s = newAutoscalingState();
    for (let t = 0; t < 10 * S; t += S) recordLoad(s, cfg, t, 0);
    expect(desiredReplicas(s, cfg)).toBe(0);
    recordLoad(s, cfg, 10 * S, 1);
    expect(desiredReplicas(s, cfg)).toBe(1);
  });

  it('decides nothing before the first sample', () => {
    const cfg = config(base);
    const s = newAutoscalingState();
    expect(desiredReplicas(s, cfg)).toBe(-1);
    expect(decide(s, cfg, 3, 0)).toBe(3);
  });

  it('averages the load over the look-back period', () => {
    const cfg = config({ ...base, lookBackPeriodS: 10 });
    const s = newAutoscalingState();
    // Ten samples, one a second: 2 for five seconds, then 10: average 6, so 3 replicas at 2 each.
    for (let i = 0; i < 10; i++) recordLoad(s, cfg, i * S, i < 5 ? 2 : 10);
    expect(s.samples).toHaveLength(10);
    expect(desiredReplicas(s, cfg)).toBe(3);
    // At 15 s, the samples before 5 s left the window: only the 10s count.
    recordLoad(s, cfg, 15 * S, 10);
    expect(s.samples.map((x) => x.t)).toEqual([5, 6, 7, 8, 9, 15].map((x) => x * S));
    expect(desiredReplicas(s, cfg)).toBe(5);
    // A window with nothing recent still keeps the latest sample.
    recordLoad(s, cfg, 100 * S, 4);
    expect(s.samples).toEqual([{ t: 100 * S, load: 4 }]);
    expect(desiredReplicas(s, cfg)).toBe(2);
  });

  it('rides out a short spike once it is averaged over the look-back period', () => {
    // No upscale delay: only the averaging keeps the spike from adding replicas.
    const cfg = config({ ...base, lookBackPeriodS: 30, upscaleDelayS: 0 });
    const sim = new Sim(cfg, 2);
    // 3 ongoing (1.5 replicas' worth) with one second of 20: a sample alone asks for 10, but
    // averaged over 30 s the load stays below 2 replicas' worth.
    sim.run(0, 120 * S, 500, (t) => (t >= 60 * S && t < 61 * S ? 20 : 3));
    expect(sim.changes).toEqual([]);
  });

  it('never changes the count under steady noisy load, over hours', () => {
    const cfg = config({
      minReplicas: 1,
      maxReplicas: 20,
      targetOngoingRequests: 2,
      upscaleDelayS: 30,
      downscaleDelayS: 600,
      lookBackPeriodS: 30,
    });
    const rng = new SeededRng(42); // seeded, so the noisy run is the same every time
    const sim = new Sim(cfg, 1);
    // Load around 9 (4.5 replicas' worth), each sample anywhere from 6 to 12: on its own a sample
    // asks for 3 to 6 replicas; averaged over 30 s it asks for 5.
    const wantedAlone = new Set<number>();
    sim.run(0, 3 * 3600 * S, 500, () => {
      const load = 9 + rng.uniform(-3, 3);
      wantedAlone.add(Math.ceil(load / 2));
      return load;
    });
    expect(wantedAlone.size).toBeGreaterThan(1);
    expect(sim.changes).toEqual([{ t: 30 * S, from: 1, to: 5 }]);
  });

  it('does not oscillate when the demand swings faster than the delays', () => {
    const sim = new Sim(config({ ...base, upscaleDelayS: 30, downscaleDelayS: 600 }), 5);
    // 20 s asking for 6 replicas, 20 s asking for 4, for an hour.
    sim.run(0, 3600 * S, 500, (t) => (Math.floor(t / (20 * S)) % 2 === 0 ? 12 : 8));
    expect(sim.changes).toEqual([]);
  });
});
