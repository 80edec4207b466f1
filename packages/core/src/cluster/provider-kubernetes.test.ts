import { Pod } from 'kubernetes-models/v1/Pod';
import { describe, expect, it } from 'vitest';
import { parseClusterConfig } from './cluster-config.js';
import {
  KubernetesNodeProvider,
  workerPodManifest,
  type KubernetesClusterConfig,
  type PodApi,
  type PodInfo,
  type PodManifest,
} from './provider-kubernetes.js';

const config = parseClusterConfig(`cluster_name: Demo_1
provider: { type: kubernetes, namespace: ml, image: 'reg.example/ray-ts:1', service_account_name: worker }
available_node_types:
  head: { resources: { CPU: 1 } }
  gpu_big:
    resources: { CPU: 4, GPU: 1, accel: 2 }
    max_workers: 2
    node_config: { memory: 16Gi, nodeSelector: { pool: gpu }, tolerations: [{ key: nvidia.com/gpu, operator: Exists }] }
head_node_type: head
setup_commands: [echo hi]
`) as KubernetesClusterConfig;

/** The API server's pods, in memory: what the provider's requests did. */
class PodTable implements PodApi {
  readonly pods = new Map<string, PodInfo & { manifest: PodManifest }>();
  readonly calls: string[] = [];
  async create(ns: string, pod: PodManifest) {
    this.calls.push(`create ${ns}/${pod.metadata.name}`);
    this.pods.set(pod.metadata.name, {
      name: pod.metadata.name,
      phase: 'Pending',
      labels: pod.metadata.labels,
      deleting: false,
      manifest: pod,
    });
  }
  async delete(ns: string, name: string) {
    this.calls.push(`delete ${ns}/${name}`);
    this.pods.delete(name);
  }
  async list(ns: string, selector: string) {
    this.calls.push(`list ${ns} ${selector}`);
    const [k, v] = selector.split('=');
    return [...this.pods.values()].filter((p) => p.labels[k] === v);
  }
}

describe('the kubernetes provider', () => {
  it("makes worker pods that Kubernetes's schema accepts, with the type's resources, token and hooks", () => {
    const pod = workerPodManifest(
      config,
      'gpu_big',
      config.nodeTypes.gpu_big.resources,
      'ray-ts-demo-1-gpu-big-abcde',
      'ml',
    );
    new Pod(pod as never).validate(); // throws on anything the OpenAPI schema refuses
    expect(pod.metadata.labels).toEqual({
      'ray-ts/cluster': 'demo-1',
      'ray-ts/node-type': 'gpu-big',
      'ray-ts/provider-id': 'ray-ts-demo-1-gpu-big-abcde',
    });
    const spec = pod.spec as Record<string, any>;
    expect(spec).toMatchObject({ restartPolicy: 'Never', serviceAccountName: 'worker', nodeSelector: { pool: 'gpu' } });
    const c = spec.containers[0];
    expect(c.image).toBe('reg.example/ray-ts:1');
    expect(c.resources.limits).toEqual({ cpu: '4', 'nvidia.com/gpu': '1', memory: '16Gi' });
    expect(c.resources.requests).toEqual(c.resources.limits);
    expect(c.command[2]).toBe(
      'set -e\necho hi\nexec ray-ts start --address="$RAY_TS_ADDRESS" --node-ip-address="$POD_IP" --host=0.0.0.0 --block',
    );
    const env = Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
    expect(env.RAY_TS_ADDRESS.value).toBe('ray-ts-head.ml.svc:6380');
    expect(JSON.parse(env.RAY_TS_OVERRIDE_RESOURCES.value)).toEqual({ CPU: 4, GPU: 1, accel: 2 });
    expect(env.RAY_TS_AUTH_TOKEN.valueFrom).toEqual({ secretKeyRef: { name: 'ray-ts-token', key: 'token' } });
    expect(env.POD_IP.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    expect(JSON.parse(env.RAY_TS_NODE_LABELS.value)).toEqual({
      'ray-ts/node-type': 'gpu_big',
      'ray-ts/provider-id': 'ray-ts-demo-1-gpu-big-abcde',
    });
    expect(c.lifecycle.preStop.exec.command).toEqual(['ray-ts', 'stop']);
  });

  it('creates pods, follows them by listing, deletes them, and adopts its pods after a restart', async () => {
    const api = new PodTable();
    const p = new KubernetesNodeProvider(config, {
      api,
      env: { RAY_TS_HEAD_POD_NAME: 'head-0', RAY_TS_HEAD_POD_UID: 'u-1' },
    });
    const a = await p.createNode('gpu_big', { CPU: 4, GPU: 1 });
    const owned = api.pods.get(a.providerId)!.manifest;
    expect(owned.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: 'head-0', uid: 'u-1', blockOwnerDeletion: false },
    ]);
    new Pod(owned as never).validate();
    const b = await p.createNode('gpu_big', { CPU: 4, GPU: 1 });
    expect(a.providerId).toMatch(/^ray-ts-demo-1-gpu-big-[a-z0-9]{1,5}$/);
    expect(p.nodes().map((n) => n.providerId)).toEqual([a.providerId, b.providerId]);
    // A pod that ended (its node stopped or crashed) is gone from nodes().
    api.pods.get(b.providerId)!.phase = 'Failed';
    await p.refresh();
    expect(p.nodes().map((n) => n.providerId)).toEqual([a.providerId]);
    expect(api.calls).toContain('list ml ray-ts/cluster=demo-1');
    // A new head's provider finds the running pod.
    const again = new KubernetesNodeProvider(config, { api, env: {} });
    await again.refresh();
    expect(again.nodes()).toEqual([{ providerId: a.providerId, type: 'gpu_big', nodeId: undefined }]);
    await again.terminateNode(a.providerId);
    expect(api.calls.at(-1)).toBe(`delete ml/${a.providerId}`);
    expect(again.nodes()).toEqual([]);
  });

  it('refuses node_config keys it does not know', () => {
    const c = parseClusterConfig(
      'provider: { type: kubernetes, image: i }\navailable_node_types: { w: { resources: { CPU: 1 }, node_config: { cpus: 2 } } }',
    ) as KubernetesClusterConfig;
    expect(() => workerPodManifest(c, 'w', { CPU: 1 }, 'x', 'default')).toThrow(
      /available_node_types.w.node_config.cpus: not a setting of the kubernetes provider/,
    );
  });
});
