/**
 * Placement groups on a multi-node cluster: the GCS places and keeps them; a node keeps the
 * groups it heard of (from replies and the GCS's events) and tells its node manager when one
 * changes state, so that work waiting for it goes on.
 */
import type { GroupDirectory, GroupState } from '../node/ports.js';
import type { PlacementStrategy } from '../node/placement.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import type { PlacementGroupInfo__Output } from './generated/raytscore/PlacementGroupInfo.js';
import { unary } from './proto.js';

export function groupFromInfo(p: PlacementGroupInfo__Output): GroupState | undefined {
  const spec = p.spec;
  if (!spec) return undefined;
  return {
    id: spec.placementGroupId,
    name: spec.name,
    strategy: spec.strategy as PlacementStrategy,
    bundles: spec.bundles.map((b) => b.resources),
    state: p.state as GroupState['state'],
    bundleNodes: p.bundleNodes,
    reason: p.reason,
  };
}

export class ClusterGroups implements GroupDirectory {
  private readonly groups = new Map<string, GroupState>();
  /** Callbacks waiting for a group to leave PENDING. */
  private readonly waiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly gcs: GcsClient,
    private readonly job: { readonly jobId: string; readonly namespace: string },
    /** A group changed state (the node manager's work waiting for it goes on). */
    private readonly changed: (id: string) => void,
  ) {}

  group(id: string): GroupState | undefined {
    return this.groups.get(id);
  }

  /** A group's state from a reply or an event. */
  onInfo(p: PlacementGroupInfo__Output): void {
    const g = groupFromInfo(p);
    if (!g) return;
    const prev = this.groups.get(g.id);
    // Replies and events travel on different streams: never go back to PENDING from a later state.
    if (prev && prev.state !== 'PENDING' && g.state === 'PENDING') return;
    this.groups.set(g.id, g);
    if (g.state !== 'PENDING') {
      const ws = this.waiters.get(g.id);
      this.waiters.delete(g.id);
      for (const w of ws ?? []) w();
    }
    this.changed(g.id);
  }

  /**
   * Calls `fn` once the group is no longer PENDING, asking the GCS about a group not heard of:
   * `onUnknown` instead (and `fn` never) if the GCS does not know it either; `onAskFailed` if the
   * GCS cannot be asked (`fn` still runs on the group's event).
   */
  whenPlaced(id: string, fn: () => void, onAskFailed: (err: unknown) => void, onUnknown?: () => void): void {
    const ws = this.waiters.get(id) ?? [];
    ws.push(fn);
    this.waiters.set(id, ws);
    if (this.groups.has(id)) return;
    this.waitGroup(id, 0).then((g) => {
      if (g || !onUnknown) return;
      const left = (this.waiters.get(id) ?? []).filter((w) => w !== fn);
      if (left.length) this.waiters.set(id, left);
      else this.waiters.delete(id);
      onUnknown();
    }, onAskFailed);
  }

  async waitGroup(id: string, timeoutMs: number): Promise<GroupState | undefined> {
    const known = this.groups.get(id);
    if (known && known.state !== 'PENDING') return known;
    if (timeoutMs < 0) {
      if (known) return known;
      timeoutMs = 1; // not heard of here: ask the GCS for its state now
    }
    const info = await unary<unknown, PlacementGroupInfo__Output>(
      this.gcs,
      'WaitPlacementGroup',
      { placementGroupId: id, timeoutMs },
      timeoutMs > 0 ? timeoutMs + 5_000 : 24 * 3600_000,
    );
    this.onInfo(info);
    return this.groups.get(id);
  }

  /** Asks the GCS to place a group (pg.ready() waits for it). */
  async createGroup(g: GroupState): Promise<void> {
    this.groups.set(g.id, g);
    const info = await unary<unknown, PlacementGroupInfo__Output>(this.gcs, 'CreatePlacementGroup', {
      placementGroupId: g.id,
      name: g.name,
      strategy: g.strategy,
      bundles: g.bundles.map((b) => ({ resources: b })),
      jobId: this.job.jobId,
      namespace: this.job.namespace,
    });
    this.onInfo(info);
  }

  async removeGroup(id: string): Promise<void> {
    await unary(this.gcs, 'RemovePlacementGroup', { placementGroupId: id });
    const g = this.groups.get(id);
    if (g) {
      g.state = 'REMOVED';
      this.changed(id);
    }
  }

  async listGroups(): Promise<GroupState[]> {
    const r = await unary<unknown, { placementGroups: PlacementGroupInfo__Output[] }>(
      this.gcs,
      'ListPlacementGroups',
      {},
    );
    return r.placementGroups.map(groupFromInfo).filter((g): g is GroupState => g !== undefined);
  }
}
