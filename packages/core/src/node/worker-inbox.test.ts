import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActorDiedError, InvalidArgumentError, errorToWire } from '../errors.js';
import type { ActorCreationSpec, ActorTaskSpec, KvOp, TaskSpec } from '../protocol/specs.js';
import type { FromWorker, TaskOutcome, ToWorker, WorkerRequest } from '../protocol/worker-messages.js';
import { settle } from '../testing-clock.js';
import type { ActorManager } from './actors.js';
import { ObjectStore } from './object-store.js';
import type { ClusterPorts } from './ports.js';
import { FakeWorker, taskSpec } from './testing-node.js';
import { WorkerInbox, type InboxNode } from './worker-inbox.js';
import { UserMetricsTable } from '../metrics/user-table.js';

/** A node that records what its workers' messages made it do (`calls`, as [method, ...args]). */
function setup(opts: { cluster?: boolean; taskRuns?: boolean } = {}) {
  const calls: unknown[][] = [];
  const store = new ObjectStore(1 << 20, 1 << 10, path.join(os.tmpdir(), 'ray-ts-unit-never-spills'));
  const record =
    (name: string, result?: unknown) =>
    (...args: unknown[]) => {
      calls.push([name, ...args]);
      return result;
    };
  const actors = {
    onCallDone: record('actors.onCallDone'),
    createActorFromWorker: record('actors.createActorFromWorker'),
    onActorReady: record('actors.onActorReady'),
    onActorFailed: record('actors.onActorFailed'),
    killActor: record('actors.killActor', Promise.resolve()),
  };
  const cluster = opts.cluster ? { actors: { createActor: record('cluster.actors.createActor') } } : undefined;
  const node: InboxNode & { answers: Record<string, () => unknown> } = {
    store,
    cluster: cluster as unknown as ClusterPorts | undefined,
    tasks: {
      taskDone: (...args) => {
        calls.push(['tasks.taskDone', ...args]);
        return opts.taskRuns ?? true;
      },
    },
    actors: actors as unknown as ActorManager,
    userMetrics: new UserMetricsTable(),
    /** What each request answers (a function that may throw or return a rejected promise). */
    answers: {},
    submitTask(spec) {
      calls.push(['submitTask', spec.taskId]);
      for (const id of spec.returnIds) store.createPending(id);
    },
    submitActorTask(spec) {
      calls.push(['submitActorTask', spec.taskId]);
      for (const id of spec.returnIds) store.createPending(id);
    },
    deliverCollective: record('deliverCollective'),
    workerLog: record('workerLog'),
    getValues: (...args) => answer('getValues', args),
    waitValues: (...args) => answer('waitValues', args),
    cancel: (...args) => answer('cancel', args),
    killActor: (...args) => answer('killActor', args),
    getActorByName: (...args) => answer('getActorByName', args),
    namedActors: (...args) => answer('namedActors', args),
    clusterInfo: (...args) => answer('clusterInfo', args),
    kv: (...args) => answer('kv', args),
  };
  function answer<T>(name: string, args: unknown[]): T {
    calls.push([name, ...args]);
    return (node.answers[name]?.() ?? Promise.resolve(`${name} answer`)) as T;
  }
  const inbox = new WorkerInbox(node);
  const worker = (id = 'worker-1') => new FakeWorker(id, 'thread', undefined, undefined);
  return { calls, store, node, inbox, worker };
}

const outcome: TaskOutcome = { ok: true, results: [{ t: 'js', v: 1 }] };

function holders(store: ObjectStore, id: string): number | undefined {
  return store.describe(id)?.holders;
}

describe('worker inbox: messages', () => {
  it("hands a finished task to the tasks, else to the actors (an actor call's end)", () => {
    const task = setup();
    const w = task.worker();
    task.inbox.message(w.handle, { k: 'done', taskId: 't1', outcome, ms: 3 });
    expect(task.calls).toEqual([['tasks.taskDone', w, 't1', outcome, 3]]);

    const call = setup({ taskRuns: false });
    const v = call.worker();
    call.inbox.message(v.handle, { k: 'done', taskId: 'c1', outcome });
    expect(call.calls).toEqual([
      ['tasks.taskDone', v, 'c1', outcome, undefined],
      ['actors.onCallDone', v, 'c1', outcome, undefined],
    ]);
  });

  it('stores what a worker puts, as made by that worker', () => {
    const { store, inbox, worker } = setup();
    const w = worker();
    inbox.message(w.handle, { k: 'put', id: 'o1', value: { t: 'js', v: 'x' } });
    expect(store.get('o1')).toEqual({ t: 'js', v: 'x' });
  });

  it('submits tasks and actor calls, the submitter holding their returns from then on', () => {
    const { calls, store, inbox, worker } = setup();
    const w = worker();
    const spec: TaskSpec = taskSpec('t1', { returnIds: ['t1.0', 't1.1'] });
    inbox.message(w.handle, { k: 'submitTask', spec });
    const call: ActorTaskSpec = {
      taskId: 'c1',
      actorId: 'a1',
      method: 'm',
      name: 'A.m',
      args: [],
      returnIds: ['c1.0'],
    };
    inbox.message(w.handle, { k: 'submitActorTask', spec: call });
    expect(calls).toEqual([
      ['submitTask', 't1'],
      ['submitActorTask', 'c1'],
    ]);
    expect([...w.heldRefs]).toEqual(['t1.0', 't1.1', 'c1.0']);
    expect([holders(store, 't1.0'), holders(store, 't1.1'), holders(store, 'c1.0')]).toEqual([1, 1, 1]);

    // The worker's own "first ref" message for them comes later: it adds nothing.
    inbox.message(w.handle, { k: 'refs', add: ['t1.0'], remove: [] });
    expect(holders(store, 't1.0')).toBe(1);
  });

  it('creates actors through the cluster on a multi-node cluster, else on this node', () => {
    const spec = { actorId: 'a1' } as ActorCreationSpec;
    const embedded = setup();
    embedded.inbox.message(embedded.worker().handle, { k: 'createActor', spec });
    expect(embedded.calls).toEqual([['actors.createActorFromWorker', spec]]);
    const cluster = setup({ cluster: true });
    cluster.inbox.message(cluster.worker().handle, { k: 'createActor', spec });
    expect(cluster.calls).toEqual([['cluster.actors.createActor', spec]]);
  });

  it("tells the actors of an actor's start and failure", () => {
    const { calls, inbox, worker } = setup();
    const w = worker();
    const error = errorToWire(new Error('constructor threw'));
    inbox.message(w.handle, { k: 'actorReady', actorId: 'a1' });
    inbox.message(w.handle, { k: 'actorFailed', actorId: 'a2', error });
    expect(calls).toEqual([
      ['actors.onActorReady', 'a1'],
      ['actors.onActorFailed', 'a2', error],
    ]);
  });

  it('delivers collective messages as coming from this node, not a peer', () => {
    const { calls, inbox, worker } = setup();
    const data = new Float32Array([1, 2]);
    inbox.message(worker().handle, { k: 'coll', to: 'a1', key: 'k', dtype: 'float32', data });
    expect(calls).toEqual([['deliverCollective', 'a1', 'k', 'float32', data, false]]);
  });

  it("adds a worker's user metrics to the node's table", () => {
    const { node, inbox, worker } = setup();
    const def = { name: 'c', kind: 'counter' as const, description: '', tagKeys: [] };
    inbox.message(worker().handle, { k: 'metrics', batch: [{ def, points: [{ tags: [], v: 2 }] }] });
    inbox.message(worker('worker-2').handle, { k: 'metrics', batch: [{ def, points: [{ tags: [], v: 3 }] }] });
    expect([...[...node.userMetrics.values()][0].series.values()][0].value).toBe(5);
  });

  it("hands a worker's console output to the node's logs, with the worker", () => {
    const { calls, inbox, worker } = setup();
    const w = worker();
    const m: FromWorker = { k: 'log', jobId: 'job-1', name: 'f', err: true, text: 'oops' };
    inbox.message(w.handle, m);
    expect(calls).toEqual([['workerLog', w, m]]);
  });
});

describe('worker inbox: refs', () => {
  it('counts each worker holding an object once, and frees it when the last lets go', () => {
    const { store, inbox, worker } = setup();
    store.put('o1', { t: 'js', v: 1 });
    store.addHolder('o1'); // the driver's ref
    const w1 = worker('w1');
    const w2 = worker('w2');
    inbox.message(w1.handle, { k: 'refs', add: ['o1', 'o1'], remove: [] });
    inbox.message(w1.handle, { k: 'refs', add: ['o1'], remove: [] });
    inbox.message(w2.handle, { k: 'refs', add: ['o1'], remove: [] });
    expect(holders(store, 'o1')).toBe(3);

    store.removeHolder('o1');
    inbox.message(w1.handle, { k: 'refs', add: [], remove: ['o1', 'o1'] });
    expect(holders(store, 'o1')).toBe(1);
    inbox.message(w1.handle, { k: 'refs', add: [], remove: ['o1'] }); // not held by w1 any more
    expect(holders(store, 'o1')).toBe(1);
    inbox.message(w2.handle, { k: 'refs', add: [], remove: ['o1'] });
    expect(store.has('o1')).toBe(false);
    expect(w1.heldRefs.size + w2.heldRefs.size).toBe(0);
  });

  it('does not hold objects the store does not know (freed already)', () => {
    const { store, inbox, worker } = setup();
    const w = worker();
    inbox.message(w.handle, { k: 'refs', add: ['gone'], remove: [] });
    expect(w.heldRefs.size).toBe(0);
    expect(store.has('gone')).toBe(false);
  });
});

/** Sends request `op` from a fresh worker; returns the replies it got and what the node was asked. */
async function request(op: WorkerRequest, answers: Record<string, () => unknown> = {}) {
  const s = setup();
  Object.assign(s.node.answers, answers);
  const w = s.worker();
  s.inbox.message(w.handle, { k: 'req', reqId: 7, op } satisfies FromWorker);
  await settle();
  return { replies: w.sent as ToWorker[], calls: s.calls };
}

describe('worker inbox: requests', () => {
  const kv: KvOp = { k: 'get', namespace: 'ns', key: 'k' };
  const cases: [WorkerRequest, unknown[]][] = [
    [{ op: 'get', ids: ['a'], timeoutMs: 5, taskId: 't1' }, ['getValues', ['a'], 5, 't1']],
    [
      { op: 'wait', ids: ['a', 'b'], numReturns: 1, timeoutMs: 0, taskId: 't1' },
      ['waitValues', ['a', 'b'], 1, 0, 't1'],
    ],
    [{ op: 'cancel', objectId: 'a', force: true, recursive: false }, ['cancel', 'a', true, false]],
    [{ op: 'kill', actorId: 'a1', noRestart: false }, ['killActor', 'a1', false]],
    [{ op: 'getActor', name: 'n', namespace: 'ns' }, ['getActorByName', 'n', 'ns']],
    [{ op: 'namedActors' }, ['namedActors']],
    [{ op: 'clusterInfo' }, ['clusterInfo']],
    [{ op: 'kv', kv }, ['kv', kv]],
  ];
  for (const [op, call] of cases) {
    it(`answers '${op.op}' with the node's ${String(call[0])}()`, async () => {
      const { replies, calls } = await request(op);
      expect(calls).toEqual([call]);
      expect(replies).toEqual([{ k: 'reply', reqId: 7, ok: true, value: `${String(call[0])} answer` }]);
    });
  }

  it('answers a synchronous value as well as a promise', async () => {
    const handle = { actorId: 'a1', className: 'Counter', methods: ['incr'] };
    const { replies } = await request({ op: 'getActor', name: 'n' }, { getActorByName: () => handle });
    expect(replies).toEqual([{ k: 'reply', reqId: 7, ok: true, value: handle }]);
    const info = { total: { CPU: 1 }, available: { CPU: 1 }, nodes: [] };
    const r = await request({ op: 'clusterInfo' }, { clusterInfo: () => info });
    expect(r.replies).toEqual([{ k: 'reply', reqId: 7, ok: true, value: info }]);
  });

  it('kills an actor that called exitActor() for good, through the actors', async () => {
    const { replies, calls } = await request({ op: 'kill', actorId: 'a1', noRestart: false, exited: true });
    expect(calls).toEqual([['actors.killActor', 'a1', true, 'it called exitActor()']]);
    expect(replies).toEqual([{ k: 'reply', reqId: 7, ok: true, value: undefined }]);
  });

  it('replies with the error of a request that failed (rejected or thrown), its class kept', async () => {
    const rejected = await request(
      { op: 'kill', actorId: 'a1', noRestart: true },
      { killActor: () => Promise.reject(new ActorDiedError('Actor a1 is dead.', { actorId: 'a1' })) },
    );
    expect(rejected.replies).toEqual([
      {
        k: 'reply',
        reqId: 7,
        ok: false,
        error: expect.objectContaining({
          name: 'ActorDiedError',
          message: 'Actor a1 is dead.',
          props: { actorId: 'a1' },
        }),
      },
    ]);
    const thrown = await request(
      { op: 'clusterInfo' },
      {
        clusterInfo: () => {
          throw new InvalidArgumentError('no cluster');
        },
      },
    );
    expect(thrown.replies).toEqual([
      { k: 'reply', reqId: 7, ok: false, error: expect.objectContaining({ name: 'InvalidArgumentError' }) },
    ]);
  });
});
