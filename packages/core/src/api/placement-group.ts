/**
 * Placement groups: reserve bundles of resources across the cluster at once (all or none), then
 * schedule tasks and actors into them with `schedulingStrategy: { placementGroup, ... }`.
 */
import { InvalidArgumentError, RayError, UnschedulableError } from '../errors.js';
import { ids } from '../ids.js';
import { ignored } from '../log.js';
import type { GroupState, NodeManager } from '../node/node-manager.js';
import { driverNode } from '../runtime/driver.js';
import type { ResourceSet } from '../options.js';
import { placementStrategies, type PlacementStrategy } from '../node/placement.js';

export type { PlacementStrategy } from '../node/placement.js';

/** Options of {@link placementGroup}. */
export interface PlacementGroupOptions {
  /** `'PACK'` (default), `'SPREAD'`, `'STRICT_PACK'` or `'STRICT_SPREAD'`. */
  strategy?: PlacementStrategy;
  /** A name to find it with {@link getPlacementGroup}. */
  name?: string;
}

/** A bundle: resources reserved together on one node, e.g. `{ CPU: 2, GPU: 1 }`. */
export type Bundle = Record<string, number>;

function requireNode(what: string): NodeManager {
  const n = driverNode();
  if (!n)
    throw new RayError(`${what} needs a running cluster: call init() first (placement groups are made by the driver).`);
  return n;
}

/** A reservation of bundles. Pass it in `schedulingStrategy: { placementGroup: pg }`. */
export class PlacementGroup {
  constructor(
    readonly id: string,
    readonly bundleSpecs: readonly Bundle[],
    readonly strategy: PlacementStrategy,
    readonly name: string | undefined,
  ) {}

  /**
   * Resolves once every bundle is reserved. Rejects with UnschedulableError if the group can never
   * be placed (saying why), or if it was removed.
   */
  async ready(): Promise<void> {
    const g = await waitGroup(this.id, 0);
    if (g?.state !== 'CREATED') throw notCreated(this.id, g);
  }

  /** True if the group is ready within `timeoutMs` (false if not yet); rejects like {@link ready}. */
  async wait(timeoutMs: number): Promise<boolean> {
    const g = await waitGroup(this.id, timeoutMs);
    if (g?.state === 'CREATED') return true;
    if (g?.state === 'PENDING') return false;
    throw notCreated(this.id, g);
  }

  /** Its state now: PENDING, CREATED, REMOVED or INFEASIBLE, and the node of each bundle. */
  async state(): Promise<{ state: string; bundleNodes: string[]; reason: string }> {
    const g = await waitGroup(this.id, -1);
    return { state: g?.state ?? 'REMOVED', bundleNodes: g?.bundleNodes ?? [], reason: g?.reason ?? '' };
  }
}

function notCreated(id: string, g: GroupState | undefined): Error {
  const req: ResourceSet = {};
  if (!g || g.state === 'REMOVED')
    return new UnschedulableError(`Placement group ${id} was removed before it was ready.`, req);
  return new UnschedulableError(
    `Placement group ${id}${g.name ? ` ('${g.name}')` : ''} (${g.strategy}) can never be placed: ${g.reason}.`,
    req,
  );
}

async function waitGroup(id: string, timeoutMs: number): Promise<GroupState | undefined> {
  return requireNode('PlacementGroup.ready()').groups().waitGroup(id, timeoutMs);
}

function checkBundles(bundles: unknown): Bundle[] {
  if (!Array.isArray(bundles) || bundles.length === 0) {
    throw new InvalidArgumentError(
      'placementGroup() needs a non-empty list of bundles, e.g. [{ CPU: 1 }, { CPU: 1 }].',
    );
  }
  return bundles.map((b: unknown, i) => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) {
      throw new InvalidArgumentError(`Bundle ${i} of placementGroup() must be an object like { CPU: 1 }.`);
    }
    const out: Bundle = {};
    for (const [k, v] of Object.entries(b)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new InvalidArgumentError(
          `Bundle ${i} of placementGroup(): ${k} must be a number >= 0, got ${String(v)}.`,
        );
      }
      if (v > 0) out[k] = v;
    }
    if (Object.keys(out).length === 0) {
      throw new InvalidArgumentError(
        `Bundle ${i} of placementGroup() reserves nothing: give it a resource, e.g. { CPU: 1 }.`,
      );
    }
    return out;
  });
}

/**
 * Reserves `bundles` on the cluster's nodes by `strategy`, atomically (all bundles or none).
 * Returns at once; `await pg.ready()` waits for the reservation.
 * @example
 * const pg = placementGroup([{ CPU: 1 }, { CPU: 1 }], { strategy: 'STRICT_SPREAD' });
 * await pg.ready();
 * const ref = f.options({ schedulingStrategy: { placementGroup: pg, placementGroupBundleIndex: 0 } }).remote();
 */
export function placementGroup(bundles: Bundle[], options: PlacementGroupOptions = {}): PlacementGroup {
  const list = checkBundles(bundles);
  const strategy = options.strategy ?? 'PACK';
  if (!placementStrategies.includes(strategy)) {
    throw new InvalidArgumentError(
      `Invalid placement strategy '${String(strategy)}': use ${placementStrategies.join(', ')}.`,
    );
  }
  const node = requireNode('placementGroup()');
  const id = ids().next('pg');
  const g: GroupState = {
    id,
    name: options.name ?? '',
    strategy,
    bundles: list,
    state: 'PENDING',
    bundleNodes: [],
    reason: '',
  };
  // A group the GCS could not take stays unknown: ready() and wait() then say why.
  node
    .groups()
    .createGroup(g)
    .catch(ignored(`creation of placement group ${id}`));
  return new PlacementGroup(id, list, strategy, options.name);
}

/** Releases a placement group's reservation; work running in it keeps running (as in Ray). */
export async function removePlacementGroup(pg: PlacementGroup): Promise<void> {
  await requireNode('removePlacementGroup()').groups().removeGroup(pg.id);
}

/** The placement group with this name, or undefined. */
export async function getPlacementGroup(name: string): Promise<PlacementGroup | undefined> {
  const groups = await requireNode('getPlacementGroup()').groups().listGroups();
  const g = groups.find((x) => x.name === name && x.state !== 'REMOVED');
  return g ? new PlacementGroup(g.id, g.bundles, g.strategy, g.name || undefined) : undefined;
}
