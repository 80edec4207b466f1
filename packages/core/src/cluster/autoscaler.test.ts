import { expect, it } from 'vitest';
import { Autoscaler, type NodeProvider, type ProviderNode } from './autoscaler.js';
import { parseClusterConfig } from './cluster-config.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';

/** A provider whose nodes are records: what the autoscaler asked of it. */
class Recorder implements NodeProvider {
  readonly list: ProviderNode[] = [];
  readonly terminated: string[] = [];
  async createNode(type: string): Promise<ProviderNode> {
    const n = { providerId: `p${this.list.length}`, type, nodeId: undefined };
    this.list.push(n);
    return n;
  }
  async terminateNode(id: string): Promise<void> {
    this.terminated.push(id);
    this.list.splice(
      this.list.findIndex((n) => n.providerId === id),
      1,
    );
  }
  nodes(): ProviderNode[] {
    return [...this.list];
  }
}

const node = (nodeId: string, providerId: string, busy: boolean): NodeInfo__Output =>
  ({
    nodeId,
    state: 'ALIVE',
    isDriver: false,
    labels: { 'ray-ts/provider-id': providerId },
    load: [],
    resourcesTotal: { CPU: 1 },
    resourcesAvailable: { CPU: busy ? 0 : 1 },
  }) as unknown as NodeInfo__Output;

it('finds its nodes by their provider-id label, and releases a node that left the cluster', async () => {
  const config = parseClusterConfig('available_node_types: { w: { resources: { CPU: 1 }, max_workers: 2 } }');
  const provider = new Recorder();
  provider.list.push(
    { providerId: 'a', type: 'w', nodeId: undefined },
    { providerId: 'b', type: 'w', nodeId: undefined },
  );
  let nodes = [node('n1', 'a', true), node('n2', 'b', true)];
  const scaler = new Autoscaler(
    config,
    provider,
    () => ({ nodes, pendingBundles: [] }),
    () => {},
  );
  await scaler.step();
  expect(provider.list.map((p) => p.nodeId)).toEqual(['n1', 'n2']);
  expect(provider.terminated).toEqual([]);
  // n2 crashed (gone from the view): its provider node is given back, not counted as room.
  nodes = [node('n1', 'a', true)];
  await scaler.step();
  expect(provider.terminated).toEqual(['b']);
  expect(provider.nodes().map((p) => p.providerId)).toEqual(['a']);
});

it('keeps stopping idle nodes while a launch fails, and says why it failed', async () => {
  const config = parseClusterConfig(
    'idle_timeout_minutes: 0\navailable_node_types: { w: { resources: { CPU: 1 }, max_workers: 2 }, g: { resources: { GPU: 1 }, max_workers: 1 } }',
  );
  const provider = new Recorder();
  provider.createNode = async () => {
    throw new Error('no free host');
  };
  provider.list.push({ providerId: 'a', type: 'w', nodeId: undefined });
  const idle = node('n1', 'a', false);
  const waiting = {
    ...node('d', 'none', true),
    isDriver: true,
    load: [{ shape: { GPU: 1 }, count: 1 }],
  } as unknown as NodeInfo__Output;
  let published: { lastAction: string } | undefined;
  const scaler = new Autoscaler(
    config,
    provider,
    () => ({ nodes: [idle, waiting], pendingBundles: [] }),
    (s) => {
      published = s;
    },
  );
  await scaler.step(); // idle since now
  await scaler.step(); // idle for >= 0 s: stopped, although the GPU launch fails each round
  expect(provider.terminated).toEqual(['a']);
  expect(published?.lastAction).toMatch(/stopped a \(w\): idle|could not start a 'g' node: no free host/);
});
