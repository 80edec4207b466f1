// The trainable of the tracking example, in a module of its own so that Tune's workers import it:
// gradient descent on (w - 3)^2 from w = 0 with learning rate `lr`, one step per iteration. The
// loss falls as 9 (1 - 2 lr)^(2k): fast for lr near 0.5, slowly for a small lr.
import { remote } from '@ray-ts/core';
import type { TuneContext } from '@ray-ts/tune';

export const descend = remote(async (config: { lr: number; epochs: number }, ctx: TuneContext) => {
  let w = 0;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    w -= config.lr * 2 * (w - 3);
    await ctx.report({ loss: (w - 3) ** 2, w });
  }
});
