/**
 * Resources of a trial as a placement group (Ray Tune's `PlacementGroupFactory`): the trial's
 * trainable runs in the first bundle, and what it starts (tasks, actors, a Train run) goes into
 * the others, reserved with the trial so that trials never take one another's workers.
 */
import type { Bundle, PlacementStrategy } from '@ray-ts/core';
import { TuneInvalidArgumentError } from './errors.js';

const STRATEGIES: readonly PlacementStrategy[] = ['PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD'];

/**
 * Bundles reserved for each trial, all or none, placed with `strategy`. Bundle 0 holds the
 * trainable; tasks and actors it submits without a scheduling strategy of their own go into the
 * group (any bundle with room), or into a bundle named with `ctx.placementGroup`. An empty first
 * bundle (`{}` or `{ CPU: 0 }`) means the trainable itself takes nothing (as Ray's): the group is
 * the other bundles, and the trainable runs in it without a bundle of its own.
 * @example
 * // The trainable on 1 CPU, and 4 workers of 2 CPUs each for its own tasks:
 * withResources(train, new PlacementGroupFactory([{ CPU: 1 }, ...Array(4).fill({ CPU: 2 })], 'PACK'))
 */
export class PlacementGroupFactory {
  readonly bundles: readonly Readonly<Bundle>[];

  constructor(
    bundles: readonly Bundle[],
    readonly strategy: PlacementStrategy = 'PACK',
  ) {
    if (!Array.isArray(bundles) || bundles.length === 0) {
      throw new TuneInvalidArgumentError(
        'PlacementGroupFactory needs at least one bundle, e.g. new PlacementGroupFactory([{ CPU: 1 }]).',
      );
    }
    bundles.forEach((b, i) => {
      if (!b || typeof b !== 'object' || Array.isArray(b)) {
        throw new TuneInvalidArgumentError(
          `PlacementGroupFactory bundle ${i} must be an object of resource amounts like { CPU: 1, GPU: 1 }, got ${JSON.stringify(b)}.`,
        );
      }
      for (const [k, v] of Object.entries(b)) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
          throw new TuneInvalidArgumentError(
            `PlacementGroupFactory bundle ${i}: ${k} must be a number >= 0, got ${JSON.stringify(v)}.`,
          );
        }
        if (k === 'cpu' || k === 'gpu' || k === 'numCpus' || k === 'numGpus') {
          throw new TuneInvalidArgumentError(
            `PlacementGroupFactory bundle ${i}: resource '${k}' is not a resource name: bundles use Ray's names, e.g. { CPU: 1, GPU: 1 }.`,
          );
        }
      }
    });
    bundles.forEach((b, i) => {
      if (i > 0 && Object.values(b).every((v) => v === 0)) {
        throw new TuneInvalidArgumentError(
          `PlacementGroupFactory bundle ${i} reserves nothing: give it a resource, e.g. { CPU: 1 } (only the first bundle, the trainable's, may be empty).`,
        );
      }
    });
    if (bundles.length === 1 && Object.values(bundles[0]).every((v) => v === 0)) {
      throw new TuneInvalidArgumentError(
        'PlacementGroupFactory needs a bundle that reserves something, e.g. [{ CPU: 1 }].',
      );
    }
    if (!STRATEGIES.includes(strategy)) {
      throw new TuneInvalidArgumentError(
        `PlacementGroupFactory strategy must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}.`,
      );
    }
    this.bundles = bundles.map((b) => Object.freeze({ ...b }));
  }

  /** The resources of every bundle together: what one trial takes from the cluster. */
  get requiredResources(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const b of this.bundles) for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  /** The first bundle: the trainable's own resources. */
  get headBundle(): Readonly<Bundle> {
    return this.bundles[0];
  }
}
