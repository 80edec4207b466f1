/**
 * What the parts of a node share: its identity, settings, object store and resources, the
 * cluster's ports (undefined on an embedded cluster), and two signals every part sends (work
 * outstanding; something may be scheduled now). The node manager implements it.
 */
import type { RuntimeConfig } from '../config.js';
import type { ObjectStore } from './object-store.js';
import type { PlacementTimes } from './placement-times.js';
import type { ClusterPorts } from './ports.js';
import type { ResourcePool } from './resources.js';

export interface NodeContext {
  readonly nodeId: string;
  readonly jobId: string;
  readonly namespace: string;
  readonly config: RuntimeConfig;
  readonly store: ObjectStore;
  readonly pool: ResourcePool;
  /** False for a driver's node in a multi-node cluster: it owns objects but runs nothing. */
  readonly executes: boolean;
  /** The rest of the cluster, on a multi-node cluster. */
  readonly cluster: ClusterPorts | undefined;
  /** Where the scheduler records how long work waited to be placed (undefined: metrics are off). */
  readonly placementTimes: PlacementTimes | undefined;
  /** True once the node is stopping. */
  readonly stopped: boolean;
  /** Counts outstanding work: while any, the process must not exit (workers are unref'd). */
  busy(delta: number): void;
  /** Runs the scheduler once, soon (coalesced within a turn). */
  requestSchedule(): void;
}
