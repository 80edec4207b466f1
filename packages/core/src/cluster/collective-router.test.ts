import { describe, expect, it } from 'vitest';
import { FakeClock, settle } from '../testing-clock.js';
import { CollectiveRouter } from './collective-router.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import type { RemoteActor } from './remote-actors.js';
import { FakeGcs, info } from './testing-remote-actors.js';

const config = { collectiveDeliveryTimeoutMs: 1_000, actorLookupRetryMs: 100 };

/** A router on node 'node-a' over a fake GCS, a table of remote actors, and a record of what it sent. */
function setup() {
  const clock = new FakeClock();
  const gcs = new FakeGcs();
  const actors = new Map<string, RemoteActor>();
  const sent: { node: string; msg: PeerMessage }[] = [];
  const state = { stopped: false };
  const router = new CollectiveRouter(
    'node-a',
    config,
    gcs,
    actors,
    (node, msg) => sent.push({ node, msg }),
    () => state.stopped,
    clock,
  );
  return { clock, gcs, actors, sent, state, router };
}

const located = (node: string): RemoteActor => ({
  realId: 'a1',
  where: { kind: 'located', node },
  queue: [],
  maxTaskRetries: 0,
});

/** Where each message went, as [node, actor, key]. */
const deliveries = (sent: { node: string; msg: PeerMessage }[]) =>
  sent.map((s) => [s.node, s.msg.collective!.actorId, s.msg.collective!.key]);

describe('collective router', () => {
  it('sends to the node of an actor it knows located, without asking the GCS', async () => {
    const { gcs, actors, sent, router } = setup();
    actors.set('a1', located('node-b'));
    const all = new Float32Array([1, 2, 3, 4]);
    const part = all.subarray(1, 3);
    router.sendCollective('a1', 'k1', 'float32', part);
    await settle();
    expect(gcs.lookups).toBe(0);
    expect(sent).toHaveLength(1);
    const c = sent[0].msg.collective!;
    expect([sent[0].node, c.actorId, c.key, c.dtype]).toEqual(['node-b', 'a1', 'k1', 'float32']);
    // Only the view's bytes travel, not the whole buffer under it.
    expect([...new Float32Array(new Uint8Array(c.data as Uint8Array).buffer)]).toEqual([2, 3]);
  });

  it('asks the GCS where an actor it does not know is, once, then sends there', async () => {
    const { gcs, sent, router } = setup();
    gcs.put(info('a1', { nodeId: 'node-c' }));
    router.sendCollective('a1', 'k1', 'int32', new Int32Array([1]));
    router.sendCollective('a1', 'k2', 'int32', new Int32Array([2]));
    await settle();
    router.sendCollective('a1', 'k3', 'int32', new Int32Array([3]));
    await settle();
    expect(gcs.lookups).toBe(1);
    expect(deliveries(sent)).toEqual([
      ['node-c', 'a1', 'k1'],
      ['node-c', 'a1', 'k2'],
      ['node-c', 'a1', 'k3'],
    ]);
  });

  it('asks the GCS about an actor it knows that has no node yet', async () => {
    const { gcs, actors, sent, router } = setup();
    actors.set('a1', { ...located('x'), where: { kind: 'creating' } });
    gcs.put(info('a1', { nodeId: 'node-d' }));
    router.sendCollective('a1', 'k', 'int32', new Int32Array([1]));
    await settle();
    expect(gcs.lookups).toBe(1);
    expect(deliveries(sent)).toEqual([['node-d', 'a1', 'k']]);
  });

  it('retries every actorLookupRetryMs while the actor has no node, and sends once it has one', async () => {
    const { clock, gcs, sent, router } = setup();
    gcs.put(info('a1', { nodeId: '', state: 'PENDING' }));
    router.sendCollective('a1', 'k', 'int32', new Int32Array([1]));
    await clock.advanceAsync(350);
    expect(gcs.lookups).toBe(4); // at 0, 100, 200, 300
    expect(sent).toEqual([]);
    gcs.set('a1', { nodeId: 'node-b', state: 'ALIVE' });
    await clock.advanceAsync(50);
    expect(deliveries(sent)).toEqual([['node-b', 'a1', 'k']]);
    expect(clock.pending).toBe(0);
  });

  it('gives up after collectiveDeliveryTimeoutMs for an actor the GCS does not know, or knows dead', async () => {
    for (const known of [false, true]) {
      const { clock, gcs, sent, router } = setup();
      if (known) gcs.put(info('a1', { nodeId: 'node-b', state: 'DEAD' }));
      router.sendCollective('a1', 'k', 'int32', new Int32Array([1]));
      await clock.advanceAsync(5_000);
      expect(gcs.lookups).toBe(11); // at 0, 100, ..., 1,000
      expect(clock.pending).toBe(0);
      expect(sent).toEqual([]);
    }
  });

  it('looks up again while the GCS is down', async () => {
    const { clock, gcs, sent, router } = setup();
    const real = gcs.getActor.bind(gcs);
    let down = true;
    gcs.getActor = (q) => (down ? Promise.reject(new Error('UNAVAILABLE')) : real(q));
    gcs.put(info('a1', { nodeId: 'node-b' }));
    router.sendCollective('a1', 'k', 'int32', new Int32Array([1]));
    await clock.advanceAsync(250);
    expect(sent).toEqual([]);
    down = false;
    await clock.advanceAsync(100);
    expect(deliveries(sent)).toEqual([['node-b', 'a1', 'k']]);
  });

  it('stops retrying once the node stops', async () => {
    const { clock, gcs, state, router } = setup();
    router.sendCollective('a1', 'k', 'int32', new Int32Array([1]));
    await clock.advanceAsync(150);
    state.stopped = true;
    await clock.advanceAsync(1_000);
    expect(gcs.lookups).toBe(3); // at 0, 100, and the retry set before it stopped (200)
    expect(clock.pending).toBe(0);
  });

  it('never sends to its own node (the node manager delivers to its own actors)', async () => {
    const { clock, gcs, actors, sent, router } = setup();
    actors.set('a1', located('node-a'));
    gcs.put(info('a2', { nodeId: 'node-a' }));
    router.sendCollective('a1', 'k', 'int32', new Int32Array([1]));
    router.sendCollective('a2', 'k', 'int32', new Int32Array([1]));
    await clock.advanceAsync(2_000);
    expect(sent).toEqual([]);
    expect(gcs.lookups).toBe(1);
    expect(clock.pending).toBe(0);
  });

  // Regression (collective-router.ts:29-41, found by this suite): the first location found for an actor is cached for good
  // (`collectiveNodes` is only cleared when a lookup finds no node). Once the actor restarts on
  // another node, every later message still goes to the old node, whose node manager drops a
  // message for an actor it does not host (deliverCollective with fromPeer = true), so the
  // collective operation times out. It should look the actor up again once it moved (or when the
  // old node reports it gone).
  it('follows an actor that moved to another node (restarted elsewhere)', async () => {
    const { actors, sent, router } = setup();
    actors.set('a1', located('node-b'));
    router.sendCollective('a1', 'k1', 'int32', new Int32Array([1]));
    await settle();
    actors.set('a1', located('node-c'));
    router.sendCollective('a1', 'k2', 'int32', new Int32Array([2]));
    await settle();
    expect(deliveries(sent)).toEqual([
      ['node-b', 'a1', 'k1'],
      ['node-c', 'a1', 'k2'],
    ]);
  });
});
