// The Kubernetes pieces, checked as far as this machine allows: no Kubernetes API server can be
// installed here (Debian ships only kubectl; no registry these machines reach has kube-apiserver),
// so the manifests are validated against Kubernetes's OpenAPI schemas (kubernetes-models) and
// checked against each other and ray-ts's own flags, and the provider's client is checked against
// the API's pod routes served over HTTP by this test. Its logic has unit tests
// (src/cluster/provider-kubernetes.test.ts).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..', '..');
const dist = path.join(here, '..', 'dist');
type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };

const models: Record<string, new (o: never) => { validate(): void }> = {
  ConfigMap,
  PersistentVolumeClaim,
  Service,
  ServiceAccount,
  Deployment,
  Role,
  RoleBinding,
};

const objects = parseAllDocuments(fs.readFileSync(path.join(root, 'deploy', 'kubernetes', 'ray-ts.yaml'), 'utf8')).map(
  (d) => d.toJS() as Obj,
);
const find = (kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in deploy/kubernetes/ray-ts.yaml`);
  return o;
};

describe('deploy/kubernetes/ray-ts.yaml', () => {
  it("validates against Kubernetes's schemas", () => {
    expect(objects.length).toBeGreaterThanOrEqual(9);
    for (const o of objects) {
      const Model = models[o.kind];
      expect(Model, `a schema for ${o.kind}`).toBeDefined();
      expect(() => new Model(o as never).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
    // The schemas do refuse what Kubernetes would.
    const bad = structuredClone(find('Deployment', 'ray-ts-head'));
    bad.spec.template.spec.containers[0].ports[0].containerPort = 'gcs';
    expect(() => new Deployment(bad as never).validate()).toThrow(/containerPort must be integer/);
  });

  it('fits together: services select their pods, the autoscaler may do what it does, the config parses', async () => {
    for (const [svc, dep] of [
      ['ray-ts-head', 'ray-ts-head'],
      ['ray-ts-redis', 'ray-ts-redis'],
    ]) {
      const labels = find('Deployment', dep).spec.template.metadata.labels;
      for (const [k, v] of Object.entries(find('Service', svc).spec.selector)) expect(labels[k]).toBe(v);
    }
    const head = find('Deployment', 'ray-ts-head').spec.template.spec;
    expect(find('RoleBinding', 'ray-ts-autoscaler').subjects[0].name).toBe(head.serviceAccountName);
    const rules = find('Role', 'ray-ts-autoscaler').rules;
    expect(rules[0].resources).toEqual(['pods']);
    for (const verb of ['list', 'create', 'delete']) expect(rules[0].verbs).toContain(verb);

    const { parseClusterConfig } = await import(path.join(dist, 'cluster', 'cluster-config.js'));
    const cfg = parseClusterConfig(find('ConfigMap', 'ray-ts-cluster').data['cluster.yaml']);
    expect(cfg.provider).toMatchObject({
      type: 'kubernetes',
      headService: 'ray-ts-head',
      authTokenSecret: 'ray-ts-token',
    });
    const c = head.containers[0];
    expect(c.image).toBe(cfg.provider.image);
    expect(c.env.find((e: { name: string }) => e.name === 'RAY_TS_AUTH_TOKEN').valueFrom.secretKeyRef.name).toBe(
      cfg.provider.authTokenSecret,
    );
    // The config is mounted where the head's command reads it.
    const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'cluster-config').mountPath;
    expect(c.command).toContain(`--autoscaling-config=${mount}/cluster.yaml`);
    expect(head.volumes[0].configMap.name).toBe('ray-ts-cluster');
    // Probes on the GCS port, and a graceful stop.
    expect(c.readinessProbe.tcpSocket.port).toBe(6380);
    expect(c.livenessProbe.tcpSocket.port).toBe(6380);
    expect(c.lifecycle.preStop.exec.command).toEqual(['ray-ts', 'stop']);
    // Every flag of the head's command is one `ray-ts start` has.
    const { stdout } = await run(process.execPath, [path.join(dist, 'bundle', 'cli.js'), 'start', '--help']);
    expect(c.command.slice(0, 2)).toEqual(['ray-ts', 'start']);
    for (const flag of c.command.slice(2)) expect(stdout).toContain(flag.split('=')[0]);
  });
});

describe('the Dockerfile', () => {
  it('copies files that exist and links the CLI it builds', () => {
    const text = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const src of m[1].split(/\s+/)) expect(fs.existsSync(path.join(root, src)), src).toBe(true);
    const link = /ln -s \/app\/(\S+) /.exec(text)![1];
    expect(fs.existsSync(path.join(root, link))).toBe(true);
    expect(text).toMatch(/npm ci .*&& npx nx run-many -t build/);
  });
});

describe("the provider's Kubernetes client", () => {
  let server: http.Server;
  let kubeconfig: string;
  const requests: { method: string; url: string; auth: string | undefined; body: any }[] = [];
  const pods = new Map<string, any>();

  beforeAll(async () => {
    // The API's pod routes: create, list by label selector, delete (404 for a pod that is gone).
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        requests.push({
          method: req.method!,
          url: req.url!,
          auth: req.headers.authorization,
          body: body && JSON.parse(body),
        });
        const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(url.pathname);
        const send = (code: number, obj: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        if (!m) return send(404, { kind: 'Status', code: 404 });
        if (req.method === 'POST') {
          const pod = JSON.parse(body);
          pods.set(pod.metadata.name, { ...pod, status: { phase: 'Pending' } });
          return send(201, pods.get(pod.metadata.name));
        }
        if (req.method === 'GET') {
          const [k, v] = (url.searchParams.get('labelSelector') ?? '=').split('=');
          const items = [...pods.values()].filter((p) => p.metadata.labels?.[k] === v);
          return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
        }
        if (req.method === 'DELETE') {
          if (!pods.delete(m[2])) return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 });
          return send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
        }
        send(405, {});
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-kube-')), 'config');
    fs.writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'http://127.0.0.1:${port}', insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: test-token } }]
contexts: [{ name: x, context: { cluster: c, user: u, namespace: ml } }]
current-context: x
`,
    );
  });

  afterAll(() => {
    server?.close();
    if (kubeconfig) fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
  });

  it('creates, lists and deletes pods on the API routes, with the credentials of the kubeconfig', async () => {
    const before = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig;
    try {
      const { clientNodePodApi, workerPodManifest } = await import(
        path.join(dist, 'cluster', 'provider-kubernetes.js')
      );
      const { parseClusterConfig } = await import(path.join(dist, 'cluster', 'cluster-config.js'));
      const cfg = parseClusterConfig(
        'cluster_name: t\nprovider: { type: kubernetes, image: img }\navailable_node_types: { w: { resources: { CPU: 2 } } }',
      );
      const api = await clientNodePodApi();
      await api.create('ml', workerPodManifest(cfg, 'w', { CPU: 2 }, 'ray-ts-t-w-1', 'ml'));
      expect(requests[0]).toMatchObject({
        method: 'POST',
        url: '/api/v1/namespaces/ml/pods',
        auth: 'Bearer test-token',
      });
      expect(requests[0].body.spec.containers[0].resources.limits.cpu).toBe('2');
      expect(await api.list('ml', 'ray-ts/cluster=t')).toEqual([
        {
          name: 'ray-ts-t-w-1',
          phase: 'Pending',
          labels: expect.objectContaining({ 'ray-ts/cluster': 't' }),
          deleting: false,
        },
      ]);
      expect(requests[1].url).toBe('/api/v1/namespaces/ml/pods?labelSelector=ray-ts%2Fcluster%3Dt');
      await api.delete('ml', 'ray-ts-t-w-1');
      await api.delete('ml', 'ray-ts-t-w-1'); // gone already: fine
      expect(requests.slice(2).map((r) => `${r.method} ${r.url}`)).toEqual([
        'DELETE /api/v1/namespaces/ml/pods/ray-ts-t-w-1',
        'DELETE /api/v1/namespaces/ml/pods/ray-ts-t-w-1',
      ]);
    } finally {
      if (before === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = before;
    }
  });
});
