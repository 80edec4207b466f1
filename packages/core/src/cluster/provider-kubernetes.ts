/**
 * The kubernetes node provider (what KubeRay's autoscaler does for Ray): each worker node is a pod
 * the head creates through the Kubernetes API with its pod's service account
 * (deploy/kubernetes/ray-ts.yaml grants it pods get/list/watch/create/delete in its namespace).
 *
 * A worker pod runs `ray-ts start --address=$(RAY_TS_ADDRESS) --block` in the image of
 * `provider.image` (or the type's `node_config.image`), with the node type's resources as the
 * container's requests and limits (`nvidia.com/gpu` for GPUs), the cluster token from the Secret
 * `provider.auth_token_secret`, its pod IP as the node's address, and `ray-ts stop` as its preStop
 * hook. Pods are labelled `ray-ts/cluster`, `ray-ts/node-type` and `ray-ts/provider-id` (the pod's
 * name), so the autoscaler finds its nodes by listing pods, also after the head restarts; they are
 * dependents of the head's pod (ownerReferences), so deleting the cluster deletes them too.
 * `@kubernetes/client-node` is loaded only here (an optional peer dependency of @ray-ts/core).
 */
import fs from 'node:fs';
import { ClusterLaunchError } from '../errors.js';
import { getLogger } from '../log.js';
import { NODE_TYPE_LABEL, PROVIDER_ID_LABEL, type NodeProvider, type ProviderNode } from './autoscaler.js';
import type { ClusterConfigOf } from './cluster-config.js';

const log = getLogger('ray-ts.autoscaler');

export type KubernetesClusterConfig = ClusterConfigOf<'kubernetes'>;

/** The label naming the cluster a pod belongs to. */
export const CLUSTER_LABEL = 'ray-ts/cluster';

/** A pod as the API takes it (the fields ray-ts writes). */
export type PodManifest = Record<string, unknown> & {
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Record<string, unknown>[];
  };
};

/** A pod as the provider needs to know it. */
export interface PodInfo {
  name: string;
  /** Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  labels: Record<string, string>;
  /** Being deleted (deletionTimestamp set). */
  deleting: boolean;
}

/** The pod calls the provider makes (the API server through @kubernetes/client-node, or a test's). */
export interface PodApi {
  create(namespace: string, pod: PodManifest): Promise<void>;
  /** Deletes a pod; one already gone is fine. */
  delete(namespace: string, name: string): Promise<void>;
  list(namespace: string, labelSelector: string): Promise<PodInfo[]>;
}

/** The namespace of this pod's service account (in a pod), else `default`. */
export function currentNamespace(): string {
  try {
    return fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

/** A DNS-1123 label from `s` (lowercase, digits and '-', at most `max` characters). */
const dnsLabel = (s: string, max: number) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '') || 'x';

/** The settings a node type may give in `node_config`. */
interface PodNodeConfig {
  image?: string;
  /** The container's memory request and limit (`4Gi`). */
  memory?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  annotations?: Record<string, string>;
}

function nodeConfigOf(c: KubernetesClusterConfig, type: string): PodNodeConfig {
  const n = (c.nodeTypes[type]?.nodeConfig ?? {}) as Record<string, unknown>;
  const known = ['image', 'memory', 'nodeSelector', 'tolerations', 'annotations'];
  for (const k of Object.keys(n))
    if (!known.includes(k))
      throw new ClusterLaunchError(
        `available_node_types.${type}.node_config.${k}: not a setting of the kubernetes provider (it takes ${known.join(', ')}).`,
      );
  return n as PodNodeConfig;
}

/** The pod of a worker node of `type` (pure: what the provider sends to the API server). */
export function workerPodManifest(
  c: KubernetesClusterConfig,
  type: string,
  resources: Record<string, number>,
  name: string,
  namespace: string,
  /** The head's pod: worker pods are its dependents, so Kubernetes deletes them with it. */
  owner?: { name: string; uid: string },
): PodManifest {
  const p = c.provider;
  const nc = nodeConfigOf(c, type);
  const { CPU, GPU, ...custom } = resources;
  const limits: Record<string, string> = {};
  if (CPU) limits.cpu = String(CPU);
  if (GPU) limits['nvidia.com/gpu'] = String(Math.ceil(GPU));
  if (nc.memory) limits.memory = nc.memory;
  const labels = {
    [CLUSTER_LABEL]: dnsLabel(c.clusterName, 63),
    [NODE_TYPE_LABEL]: dnsLabel(type, 63),
    [PROVIDER_ID_LABEL]: name,
  };
  const setup = [...c.initializationCommands, ...c.setupCommands, ...c.workerSetupCommands];
  const start = c.workerStartRayCommands ?? [
    'exec ray-ts start --address="$RAY_TS_ADDRESS" --node-ip-address="$POD_IP" --host=0.0.0.0 --block',
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels,
      ...(nc.annotations ? { annotations: nc.annotations } : {}),
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: 'v1', kind: 'Pod', name: owner.name, uid: owner.uid, blockOwnerDeletion: false },
            ],
          }
        : {}),
    },
    spec: {
      restartPolicy: 'Never',
      ...(p.serviceAccountName ? { serviceAccountName: p.serviceAccountName } : {}),
      ...(nc.nodeSelector ? { nodeSelector: nc.nodeSelector } : {}),
      ...(nc.tolerations ? { tolerations: nc.tolerations } : {}),
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'ray-ts-node',
          image: nc.image ?? p.image,
          command: ['/bin/sh', '-c', ['set -e', ...setup, ...start].join('\n')],
          env: [
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'RAY_TS_ADDRESS', value: `${p.headService}.${namespace}.svc:6380` },
            {
              name: 'RAY_TS_OVERRIDE_RESOURCES',
              value: JSON.stringify({ CPU: CPU ?? 1, ...(GPU ? { GPU } : {}), ...custom }),
            },
            {
              name: 'RAY_TS_NODE_LABELS',
              value: JSON.stringify({ [NODE_TYPE_LABEL]: type, [PROVIDER_ID_LABEL]: name }),
            },
            {
              name: 'RAY_TS_AUTH_TOKEN',
              valueFrom: { secretKeyRef: { name: p.authTokenSecret, key: 'token' } },
            },
          ],
          resources: Object.keys(limits).length ? { requests: limits, limits } : {},
          lifecycle: { preStop: { exec: { command: ['ray-ts', 'stop'] } } },
        },
      ],
    },
  };
}

/** The API server through @kubernetes/client-node: in a pod its service account, else the kubeconfig. */
export async function clientNodePodApi(): Promise<PodApi> {
  let k8s: typeof import('@kubernetes/client-node');
  try {
    k8s = await import('@kubernetes/client-node');
  } catch {
    throw new ClusterLaunchError(
      'the kubernetes provider needs @kubernetes/client-node next to @ray-ts/core: npm install @kubernetes/client-node',
    );
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const status = (err: unknown) => (err as { code?: number }).code;
  return {
    create: async (namespace, pod) => {
      await api.createNamespacedPod({ namespace, body: pod as never });
    },
    delete: async (namespace, name) => {
      try {
        await api.deleteNamespacedPod({ namespace, name });
      } catch (err) {
        if (status(err) !== 404) throw err;
      }
    },
    list: async (namespace, labelSelector) =>
      (await api.listNamespacedPod({ namespace, labelSelector })).items.map((p) => ({
        name: p.metadata?.name ?? '',
        phase: p.status?.phase ?? 'Pending',
        labels: p.metadata?.labels ?? {},
        deleting: !!p.metadata?.deletionTimestamp,
      })),
  };
}

/** How often pods are listed at most. */
const LIST_MS = 2_000;

export class KubernetesNodeProvider implements NodeProvider {
  private readonly pods = new Map<string, ProviderNode>();
  private lastList = 0;
  private api: PodApi | undefined;
  readonly namespace: string;
  private readonly owner: { name: string; uid: string } | undefined;

  constructor(
    private readonly config: KubernetesClusterConfig,
    opts: { api?: PodApi; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.api = opts.api;
    this.namespace = config.provider.namespace ?? currentNamespace();
    // The head's pod (deploy/kubernetes/ray-ts.yaml gives both through the downward API).
    const { RAY_TS_HEAD_POD_NAME: name, RAY_TS_HEAD_POD_UID: uid } = opts.env ?? process.env;
    this.owner = name && uid ? { name, uid } : undefined;
  }

  private async podApi(): Promise<PodApi> {
    this.api ??= await clientNodePodApi();
    return this.api;
  }

  private selector(): string {
    return `${CLUSTER_LABEL}=${dnsLabel(this.config.clusterName, 63)}`;
  }

  async createNode(type: string, resources: Record<string, number>): Promise<ProviderNode> {
    const suffix = Math.random().toString(36).slice(2, 7);
    const name = `${dnsLabel(`ray-ts-${this.config.clusterName}-${type}`, 57)}-${suffix}`;
    const pod = workerPodManifest(this.config, type, resources, name, this.namespace, this.owner);
    await (await this.podApi()).create(this.namespace, pod);
    const node: ProviderNode = { providerId: name, type, nodeId: undefined };
    this.pods.set(name, node);
    log.info(`created pod ${this.namespace}/${name} for a '${type}' node`);
    return node;
  }

  /** Lists the cluster's pods (at most every 2 s): ended ones are gone, others adopted. */
  async refresh(): Promise<void> {
    if (Date.now() - this.lastList < LIST_MS) return;
    this.lastList = Date.now();
    let pods: PodInfo[];
    try {
      pods = await (await this.podApi()).list(this.namespace, this.selector());
    } catch (err) {
      log.error(`listing pods failed (the nodes are assumed unchanged): ${(err as Error).message}`);
      return;
    }
    const live = new Map(
      pods.filter((p) => !p.deleting && (p.phase === 'Pending' || p.phase === 'Running')).map((p) => [p.name, p]),
    );
    for (const name of this.pods.keys()) if (!live.has(name)) this.pods.delete(name);
    for (const [name, p] of live) {
      if (this.pods.has(name)) continue;
      const type = Object.keys(this.config.nodeTypes).find((t) => dnsLabel(t, 63) === p.labels[NODE_TYPE_LABEL]);
      if (type) this.pods.set(name, { providerId: name, type, nodeId: undefined });
    }
  }

  async terminateNode(providerId: string): Promise<void> {
    if (!this.pods.delete(providerId)) return;
    try {
      await (await this.podApi()).delete(this.namespace, providerId);
    } catch (err) {
      log.error(`deleting pod ${this.namespace}/${providerId} failed: ${(err as Error).message}`);
    }
  }

  nodes(): ProviderNode[] {
    return [...this.pods.values()];
  }
}
