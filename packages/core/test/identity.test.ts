// Members are who they say (issue 20, docs/security.md): against a real head and node, a raw
// gRPC client that holds the cluster's token, first as no member, then registered as a member of
// its own, tries to take a node's id, claim to be the head, send peer messages, heartbeats and
// unregistrations in another node's name, stop a node and rewrite the head's KV. Each is refused
// with PERMISSION_DENIED and a message that says who may do it; the cluster works on after.
import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { get, init, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders } from '@ray-ts/core/testing';
import { whereAmI } from './fixtures/cluster.js';

type Protos = { gcs: { Gcs: grpc.ServiceClientConstructor }; node: { Node: grpc.ServiceClientConstructor } };
const { protos, VERSION } = (await import('../dist/cluster/proto.js' as string)) as {
  protos: () => Protos;
  VERSION: string;
};

/** An identity of our own: an id and a credential, and the hash a member registers. */
interface Identity {
  nodeId: string;
  credential: string;
  credentialSha256: string;
}
function identity(nodeId: string): Identity {
  const credential = crypto.randomBytes(32).toString('hex');
  return { nodeId, credential, credentialSha256: crypto.createHash('sha256').update(credential).digest('hex') };
}

/** The token, and `as` (an id and credential) when given. */
function md(as?: { nodeId: string; credential: string }): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', clusterAuthHeaders().authorization);
  if (as) {
    m.set('x-ray-ts-node-id', as.nodeId);
    m.set('x-ray-ts-node-credential', as.credential);
  }
  return m;
}

let cluster: Cluster;
const clients: grpc.Client[] = [];
const WAIT = { RAY_TS_MEMBER_WAIT_MS: '2000' };

beforeAll(async () => {
  cluster = await Cluster.start({ head: { numCpus: 1, env: WAIT }, nodes: [{ numCpus: 1, env: WAIT }] });
});

afterAll(async () => {
  await shutdown();
  clients.forEach((c) => c.close());
  await cluster?.shutdown();
});

function client(service: 'Gcs' | 'Node', address: string): grpc.Client {
  const p = protos();
  const c = new (service === 'Gcs' ? p.gcs.Gcs : p.node.Node)(address, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

/** A unary call; resolves with its error (undefined: answered). */
function call(
  c: grpc.Client,
  method: string,
  req: object,
  meta: grpc.Metadata,
): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) =>
    (c as unknown as Record<string, (...a: unknown[]) => void>)[method](
      req,
      meta,
      { deadline: Date.now() + 20_000 },
      (err: grpc.ServiceError | null) => resolve(err ?? undefined),
    ),
  );
}

/** Opens a Peer stream to `address` and sends one batch in the name of `fromNode`; resolves with how the stream ended. */
function peerBatch(address: string, fromNode: string, meta: grpc.Metadata): Promise<grpc.ServiceError | undefined> {
  const s = (
    client('Node', address) as unknown as { Peer(md: grpc.Metadata): grpc.ClientDuplexStream<object, object> }
  ).Peer(meta);
  onTestFinished(() => s.cancel());
  return new Promise((resolve) => {
    s.on('data', () => {});
    s.on('error', (err: grpc.ServiceError) => resolve(err));
    s.on('end', () => resolve(undefined));
    s.write({ fromNode, messages: [{ cancelTask: { taskId: 'task_none', force: true, recursive: true } }] });
  });
}

/** A Pull of `objectId` for `requester`; resolves with how the stream ended. */
function pull(address: string, requester: string, meta: grpc.Metadata): Promise<grpc.ServiceError | undefined> {
  const c = client('Node', address) as unknown as {
    Pull(req: object, md: grpc.Metadata): grpc.ClientReadableStream<object>;
  };
  const s = c.Pull({ objectId: 'obj_0123456789abcde', requester }, meta);
  onTestFinished(() => s.cancel());
  return new Promise((resolve) => {
    s.on('data', () => {});
    s.on('error', (err: grpc.ServiceError) => resolve(err));
    s.on('end', () => resolve(undefined));
  });
}

const denied = (err: grpc.ServiceError | undefined) => (err ? `${grpc.status[err.code]}: ${err.details}` : 'answered');
const nodeInfo = (id: Identity, over: object = {}) => ({
  nodeId: id.nodeId,
  address: cluster.nodes[0].address, // reachable, so that only the identity can be why it is refused
  version: VERSION,
  state: 'ALIVE',
  credentialSha256: id.credentialSha256,
  ...over,
});

describe('member identities on a real cluster', () => {
  it('refuses a token holder that is no member whatever changes the cluster, saying who may', async () => {
    const [head, worker] = cluster.nodes;
    const gcs = client('Gcs', head.address);
    const node = client('Node', worker.address);
    const thief = identity(worker.nodeId); // the worker's id, with a credential of its own
    const member = /PERMISSION_DENIED: \S+ refused: only the cluster's nodes and drivers may call it/;
    const onlyHead = /PERMISSION_DENIED: Node\/Stop refused: only the cluster's head may call it/;

    expect(denied(await call(gcs, 'RegisterNode', nodeInfo(thief), md()))).toMatch(
      `PERMISSION_DENIED: RegisterNode refused: node ${worker.nodeId} is registered already; only that node, presenting its credential, may register again under its id.`,
    );
    expect(denied(await call(gcs, 'RegisterNode', nodeInfo(thief), md(thief)))).toMatch(/is registered already/);
    const pretender = identity(`node_pretender_${process.pid}`);
    expect(denied(await call(gcs, 'RegisterNode', nodeInfo(pretender, { isHead: true }), md(pretender)))).toBe(
      `PERMISSION_DENIED: RegisterNode refused: only the head's own process registers the head (node ${head.nodeId}); ` +
        `node ${pretender.nodeId} may not claim to be it.`,
    );
    const headThief = identity(head.nodeId);
    expect(denied(await call(gcs, 'RegisterNode', nodeInfo(headThief, { isHead: true }), md()))).toMatch(
      /only the head's own process registers the head/,
    );
    expect(denied(await call(gcs, 'Heartbeat', { node: nodeInfo(thief, { address: '127.0.0.1:1' }) }, md(thief)))).toBe(
      `PERMISSION_DENIED: Heartbeat refused: only node ${worker.nodeId} itself may report its heartbeat and resources.`,
    );
    expect(denied(await call(gcs, 'UnregisterNode', { nodeId: worker.nodeId }, md()))).toMatch(member);
    expect(denied(await call(gcs, 'UnregisterNode', { nodeId: worker.nodeId }, md(thief)))).toMatch(
      /credential presented for node \S+ is not the one that node registered/,
    );
    const evil = { namespace: 'cluster', key: 'job_api_address', value: Buffer.from('http://evil'), overwrite: true };
    expect(denied(await call(gcs, 'KvPut', evil, md()))).toMatch(member);
    expect(denied(await call(gcs, 'KvDel', evil, md()))).toMatch(member);
    expect(denied(await call(node, 'Stop', {}, md()))).toMatch(onlyHead);
    expect(denied(await call(node, 'Stop', {}, md(thief)))).toMatch(onlyHead);
    expect(denied(await peerBatch(worker.address, head.nodeId, md()))).toMatch(
      /Node\/Peer refused: only the cluster's nodes/,
    );
    expect(denied(await peerBatch(worker.address, worker.nodeId, md(thief)))).toMatch(
      /credential presented for node \S+ is not the one/,
    );
    expect(denied(await pull(worker.address, head.nodeId, md()))).toMatch(
      /Node\/Pull refused: only the cluster's nodes/,
    );
    const bundles = { placementGroupId: 'pg_0123456789abc', indexes: [0], bundles: [{ resources: { CPU: 1 } }] };
    expect(denied(await call(node, 'PrepareBundles', bundles, md()))).toMatch(
      /PrepareBundles refused: only the cluster's head/,
    );
    // Reading stays open to token holders (ray-ts status, the state API).
    expect(await call(gcs, 'GetClusterView', {}, md())).toBeUndefined();
    expect(await call(node, 'GetState', { kind: 'tasks' }, md())).toBeUndefined();
  });

  it("binds a member of its own to its id: it may not act in another node's name", async () => {
    const [head, worker] = cluster.nodes;
    const gcs = client('Gcs', head.address);
    const node = client('Node', worker.address);
    const me = identity(`node_intruder_${process.pid}`);
    // A member like any driver (the token lets it join), in its own name.
    expect(await call(gcs, 'RegisterNode', nodeInfo(me, { isDriver: true }), md(me))).toBeUndefined();
    // And it reports itself, as members do (else the GCS would declare it dead).
    const beat = setInterval(
      () => void call(gcs, 'Heartbeat', { node: nodeInfo(me, { isDriver: true }) }, md(me)),
      200,
    );
    onTestFinished(() => clearInterval(beat));
    expect(await call(gcs, 'Heartbeat', { node: nodeInfo(me, { isDriver: true }) }, md(me))).toBeUndefined();

    expect(denied(await peerBatch(worker.address, head.nodeId, md(me)))).toBe(
      `PERMISSION_DENIED: Peer refused: node ${me.nodeId} sent a batch in the name of node ${head.nodeId}; a node sends only in its own name.`,
    );
    expect(denied(await call(gcs, 'UnregisterNode', { nodeId: worker.nodeId }, md(me)))).toBe(
      `PERMISSION_DENIED: UnregisterNode refused: node ${me.nodeId} may not unregister node ${worker.nodeId}: a node or driver unregisters only itself.`,
    );
    expect(denied(await call(node, 'Stop', {}, md(me)))).toBe(
      `PERMISSION_DENIED: Node/Stop refused: only the cluster's head may call it (node ${me.nodeId} is not the cluster's head).`,
    );
    const evil = { namespace: 'cluster', key: 'job_api_address', value: Buffer.from('http://evil'), overwrite: true };
    expect(denied(await call(gcs, 'KvPut', evil, md(me)))).toBe(
      `PERMISSION_DENIED: KV write refused: the KV namespace 'cluster' is the head's (key 'job_api_address'): only the head writes it.`,
    );
    expect(denied(await call(gcs, 'KvDel', evil, md(me)))).toMatch(/the KV namespace 'cluster' is the head's/);
    const pkg = {
      namespace: 'packages',
      key: `_ray_pkg_identity_${process.pid}.zip`,
      value: Buffer.from('a'),
      overwrite: true,
    };
    expect(await call(gcs, 'KvPut', pkg, md(me))).toBeUndefined(); // a new package: added
    expect(denied(await call(gcs, 'KvPut', { ...pkg, value: Buffer.from('b') }, md(me)))).toMatch(
      /exists: members add packages but do not replace or delete them/,
    );
    expect(denied(await pull(worker.address, head.nodeId, md(me)))).toBe(
      `PERMISSION_DENIED: Pull refused: node ${me.nodeId} asked in the name of node ${head.nodeId}.`,
    );
    const bundles = { placementGroupId: 'pg_0123456789abc', indexes: [0], bundles: [{ resources: { CPU: 1 } }] };
    for (const m of ['PrepareBundles', 'ReturnBundles'])
      expect(denied(await call(node, m, bundles, md(me)))).toMatch(new RegExp(`${m} refused: only the cluster's head`));
    expect(denied(await call(gcs, 'Heartbeat', { node: nodeInfo(identity(worker.nodeId)) }, md(me)))).toMatch(
      /only node \S+ itself may report its heartbeat/,
    );
    expect(denied(await call(gcs, 'RegisterNode', nodeInfo(identity(worker.nodeId)), md(me)))).toMatch(
      /is registered already/,
    );
    expect(denied(await call(gcs, 'RegisterNode', nodeInfo(me, { isDriver: true, isHead: true }), md(me)))).toMatch(
      /may not claim to be it/,
    );
    // In its own name it may: register again (as after a restart of the GCS), write its own KV, leave.
    expect(await call(gcs, 'RegisterNode', nodeInfo(me, { isDriver: true }), md(me))).toBeUndefined();
    const own = { namespace: `identity-${process.pid}`, key: 'k', value: Buffer.from('v'), overwrite: true };
    expect(await call(gcs, 'KvPut', own, md(me))).toBeUndefined();
    expect(await call(gcs, 'UnregisterNode', { nodeId: me.nodeId }, md(me))).toBeUndefined();
  });

  it('works on afterwards: the records are the real ones, and tasks run on every node', async () => {
    const [head, worker] = cluster.nodes;
    const gcs = client('Gcs', head.address);
    const view = await new Promise<{ nodes: { nodeId: string; address: string; state: string; isHead: boolean }[] }>(
      (resolve, reject) =>
        (gcs as unknown as Record<string, (...a: unknown[]) => void>).GetClusterView(
          {},
          md(),
          (err: unknown, r: never) => (err ? reject(err) : resolve(r)),
        ),
    );
    const alive = view.nodes.filter((n) => n.state === 'ALIVE');
    expect(alive.map((n) => [n.nodeId, n.address, n.isHead]).sort()).toEqual(
      [
        [head.nodeId, head.address, true],
        [worker.nodeId, worker.address, false],
      ].sort(),
    );
    const kv = await new Promise<{ value: Buffer }>((resolve, reject) =>
      (gcs as unknown as Record<string, (...a: unknown[]) => void>).KvGet(
        { namespace: 'cluster', key: 'job_api_address' },
        md(),
        (err: unknown, r: never) => (err ? reject(err) : resolve(r)),
      ),
    );
    expect(kv.value.toString()).toBe(head.jobApiAddress);
    await init({ address: cluster.address });
    for (const n of cluster.nodes)
      expect(await get(whereAmI.options({ schedulingStrategy: { nodeId: n.nodeId } }).remote(0))).toBe(n.nodeId);
  });
});
