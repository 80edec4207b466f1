// The trainables of the Tune benchmark (ray-ts side), in a module of their own and wrapped with
// remote() at top level, so that the worker actors import them by reference. The same functions
// as in ray_tune_bench.py.
import { remote } from '@ray-ts/core';

/** Reports score = x * i for i = 1..10, nothing else. */
export const trivial = remote(async (config, ctx) => {
  for (let i = 1; i <= 10; i++) await ctx.report({ score: config.x * i });
});

/** A learning curve: score = a * (1 - exp(-t / (10 + 40 b))) for t = 1..maxT (default 100). */
export const curve = remote(async (config, ctx) => {
  const maxT = config.maxT ?? 100;
  const tau = 10 + 40 * config.b;
  for (let t = 1; t <= maxT; t++) await ctx.report({ score: config.a * (1 - Math.exp(-t / tau)) });
});
