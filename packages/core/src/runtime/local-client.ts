/**
 * The client of a driver whose node runs in its own thread (the embedded cluster, or a driver's
 * node on a multi-node cluster): calls go to the node directly, without messages.
 */
import type { RuntimeConfig } from '../config.js';
import type { NodeManager } from '../node/node-manager.js';
import type {
  ActorCreationSpec,
  ActorTaskSpec,
  ClusterInfo,
  KvOp,
  TaskContextData,
  TaskSpec,
} from '../protocol/specs.js';
import type { CoreClient } from './client.js';
import type { StoredValue } from './serialization.js';

/** The driver's client: calls the in-process node directly. */
export class LocalClient implements CoreClient {
  readonly jobId: string;
  readonly nodeId: string;
  readonly namespace: string;
  readonly inlineObjectMaxBytes: number;
  constructor(
    readonly node: NodeManager,
    config: RuntimeConfig,
  ) {
    this.jobId = node.jobId;
    this.nodeId = node.nodeId;
    this.namespace = node.namespace;
    this.inlineObjectMaxBytes = config.inlineObjectMaxBytes;
  }
  currentTask(): TaskContextData | undefined {
    return undefined;
  }
  submitTask(spec: TaskSpec): void {
    this.node.submitTask(spec);
  }
  createActor(spec: ActorCreationSpec): string | undefined {
    return this.node.createActor(spec);
  }
  submitActorTask(spec: ActorTaskSpec): void {
    this.node.submitActorTask(spec);
  }
  put(id: string, value: StoredValue): void {
    this.node.put(id, value);
  }
  get(idList: string[], timeoutMs: number | undefined): Promise<StoredValue[]> {
    return this.node.getValues(idList, timeoutMs);
  }
  wait(idList: string[], numReturns: number, timeoutMs: number | undefined): Promise<string[]> {
    return this.node.waitValues(idList, numReturns, timeoutMs);
  }
  cancel(objectId: string, force: boolean, recursive: boolean): Promise<void> {
    return this.node.cancel(objectId, force, recursive);
  }
  killActor(actorId: string, noRestart: boolean): Promise<void> {
    return this.node.killActor(actorId, noRestart);
  }
  async getActor(name: string, namespace: string | undefined) {
    return this.node.getActorByName(name, namespace);
  }
  namedActors() {
    return this.node.namedActors();
  }
  async clusterInfo(): Promise<ClusterInfo> {
    return this.node.clusterInfo();
  }
  kv(op: KvOp): Promise<unknown> {
    return this.node.kv(op);
  }
}
