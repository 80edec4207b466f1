import { describe, expect, it } from 'vitest';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import { GcsMembers, heartbeatRecord } from './gcs-members.js';
import { newIdentity } from './identity.js';
import { nodeInfo } from './testing-gcs.js';

const head = newIdentity('node_head');
const a = newIdentity('node_a');

/** A GCS table with the head and node_a alive, and node_gone dead. */
function setup() {
  const nodes = new Map<string, NodeInfo__Output>([
    ['node_head', nodeInfo('node_head', { isHead: true, credentialSha256: head.credentialSha256 })],
    ['node_a', nodeInfo('node_a', { credentialSha256: a.credentialSha256 })],
    ['node_gone', nodeInfo('node_gone', { state: 'DEAD', credentialSha256: newIdentity('x').credentialSha256 })],
  ]);
  return { nodes, members: new GcsMembers(nodes, head) };
}

describe("the GCS's membership rules", () => {
  it('knows live members and the head, before the head registered too', () => {
    const { nodes, members } = setup();
    expect(members.member('node_a')).toEqual({ credentialSha256: a.credentialSha256, isHead: false });
    expect(members.member('node_gone')).toBeUndefined();
    expect(members.member('node_x')).toBeUndefined();
    nodes.delete('node_head');
    expect(members.member('node_head')).toEqual({ credentialSha256: head.credentialSha256, isHead: true });
  });

  it('lets a new id register with its hash, and a known one only when the call is bound to it', () => {
    const { members } = setup();
    const fresh = newIdentity('node_b');
    expect(members.registration({ nodeId: 'node_b', credentialSha256: fresh.credentialSha256 }, undefined)).toBe(
      undefined,
    );
    expect(members.registration({ nodeId: 'node_b' }, undefined)).toMatch(/without the hash of a member credential/);
    // Re-registration (a GCS restarted with Redis): its own id, its own credential.
    expect(members.registration({ nodeId: 'node_a', credentialSha256: a.credentialSha256 }, 'node_a')).toBe(undefined);
    // Anyone else: taking node_a's id, with or without a credential of its own.
    for (const [hash, bound] of [
      [fresh.credentialSha256, undefined],
      [fresh.credentialSha256, 'node_b'],
      [a.credentialSha256, undefined],
      [fresh.credentialSha256, 'node_a'], // node_a itself may not swap its credential
    ] as const)
      expect(members.registration({ nodeId: 'node_a', credentialSha256: hash }, bound)).toBe(
        'node node_a is registered already; only that node, presenting its credential, may register again under its id',
      );
  });

  it("registers the head only from the head's own process (its identity)", () => {
    const { nodes, members } = setup();
    nodes.delete('node_head');
    const intruder = newIdentity('node_i');
    const claim = `only the head's own process registers the head (node node_head); node node_i may not claim to be it`;
    expect(
      members.registration({ nodeId: 'node_i', isHead: true, credentialSha256: intruder.credentialSha256 }, 'node_i'),
    ).toBe(claim);
    expect(
      members.registration({ nodeId: 'node_head', credentialSha256: intruder.credentialSha256 }, undefined),
    ).toMatch(/only the head's own process registers the head/);
    expect(
      members.registration({ nodeId: 'node_head', isHead: true, credentialSha256: head.credentialSha256 }, undefined),
    ).toMatch(/only the head's own process/);
    expect(
      members.registration({ nodeId: 'node_head', isHead: true, credentialSha256: head.credentialSha256 }, 'node_head'),
    ).toBeUndefined();
    // A GCS without a head identity (unit tests of the GCS) lets nobody be the head.
    expect(
      new GcsMembers(nodes, undefined).registration(
        { nodeId: 'node_i', isHead: true, credentialSha256: intruder.credentialSha256 },
        'node_i',
      ),
    ).toMatch(/none yet/);
  });

  it('takes heartbeats and unregistrations only from the node itself (or the head)', () => {
    const { members } = setup();
    expect(members.heartbeat('node_a', 'node_a')).toBeUndefined();
    expect(members.heartbeat('node_a', 'node_b')).toBe(
      'only node node_a itself may report its heartbeat and resources',
    );
    expect(members.heartbeat('node_a', undefined)).toMatch(/only node node_a itself/);
    expect(members.unregister('node_a', 'node_a')).toBeUndefined();
    expect(members.unregister('node_a', 'node_head')).toBeUndefined();
    expect(members.unregister('node_a', 'node_b')).toBe(
      'node node_b may not unregister node node_a: a node or driver unregisters only itself',
    );
  });

  it("keeps the head's KV namespaces to the head, and packages written once", () => {
    const { members } = setup();
    expect(members.kvWrite('cluster', 'job_api_address', true, 'node_a')).toBe(
      "the KV namespace 'cluster' is the head's (key 'job_api_address'): only the head writes it",
    );
    for (const ns of ['jobs', 'autoscaler']) expect(members.kvWrite(ns, 'k', false, 'node_a')).toMatch(/the head's/);
    expect(members.kvWrite('cluster', 'job_api_address', true, 'node_head')).toBeUndefined();
    expect(members.kvWrite('packages', 'pkg.zip', false, 'node_a')).toBeUndefined();
    expect(members.kvWrite('packages', 'pkg.zip', true, 'node_a')).toMatch(/do not replace or delete them/);
    expect(members.kvWrite('', 'user-key', true, 'node_a')).toBeUndefined();
  });

  it('keeps what a node registered as when it heartbeats (address, roles, credential)', () => {
    const prev = nodeInfo('node_a', { credentialSha256: a.credentialSha256, address: '10.0.0.1:5' });
    const hb = nodeInfo('node_a', {
      address: '10.6.6.6:1',
      isHead: true,
      credentialSha256: newIdentity('x').credentialSha256,
      resourcesAvailable: { CPU: 1 },
      state: 'DEAD',
    });
    expect(heartbeatRecord(prev, hb)).toEqual({ ...prev, resourcesAvailable: { CPU: 1 } });
  });

  it('wakes the calls that wait for a member once it registers, and times the others out', async () => {
    const { nodes, members } = setup();
    const b = newIdentity('node_b');
    const joined = members.waitFor(() => members.member('node_b') !== undefined, 60_000);
    const never = members.waitFor(() => members.member('node_never') !== undefined, 1);
    nodes.set('node_b', nodeInfo('node_b', { credentialSha256: b.credentialSha256 }));
    members.changed();
    expect(await joined).toBe(true);
    expect(await never).toBe(false);
  });
});
