import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ACCESS,
  accessOf,
  credentialMatches,
  identityProblem,
  newIdentity,
  refusedMessage,
  type KnownMember,
  type MemberDirectory,
} from './identity.js';

/** A directory over a fixed table of members. */
function directory(members: Record<string, KnownMember>): MemberDirectory {
  return { member: (id) => members[id], waitFor: async (pred) => pred() };
}

describe('member identities', () => {
  it('makes a fresh random credential per identity, publishing only its sha256', () => {
    const a = newIdentity('node_a');
    const b = newIdentity('node_a');
    expect(a.credential).toMatch(/^[0-9a-f]{64}$/);
    expect(a.credential).not.toBe(b.credential);
    expect(a.credentialSha256).toBe(crypto.createHash('sha256').update(a.credential).digest('hex'));
    expect(a.credentialSha256).not.toContain(a.credential);
  });

  it('matches a credential only against its own hash, and never against a malformed one', () => {
    const a = newIdentity('node_a');
    expect(credentialMatches(a.credential, a.credentialSha256)).toBe(true);
    expect(credentialMatches(newIdentity('node_a').credential, a.credentialSha256)).toBe(false);
    expect(credentialMatches(a.credentialSha256, a.credentialSha256)).toBe(false); // the hash is no credential
    expect(credentialMatches(a.credential, '')).toBe(false);
    expect(credentialMatches(a.credential, a.credentialSha256.slice(2))).toBe(false);
  });

  it('confirms a live member presenting its credential, and says why otherwise', () => {
    const head = newIdentity('node_h');
    const node = newIdentity('node_n');
    const dir = directory({
      node_h: { credentialSha256: head.credentialSha256, isHead: true },
      node_n: { credentialSha256: node.credentialSha256, isHead: false },
    });
    expect(identityProblem(dir, 'node_n', node.credential, 'member')).toBeUndefined();
    expect(identityProblem(dir, 'node_h', head.credential, 'head')).toBeUndefined();
    expect(identityProblem(dir, 'node_n', node.credential, 'head')).toBe("node node_n is not the cluster's head");
    expect(identityProblem(dir, 'node_n', head.credential, 'member')).toBe(
      'the credential presented for node node_n is not the one that node registered',
    );
    expect(identityProblem(dir, 'node_x', node.credential, 'member')).toBe(
      'node node_x is not a live member of this cluster here',
    );
    expect(identityProblem(undefined, 'node_n', node.credential, 'member')).toMatch(/not a live member/);
  });

  it('needs a member for every method that changes the cluster, and the head for its calls to nodes', () => {
    const token = Object.entries(ACCESS)
      .filter(([, a]) => a === 'token')
      .map(([p]) => p.replace('/raytscore.', ''));
    expect(token.sort()).toEqual(
      [
        'Gcs/GetActor',
        'Gcs/GetClusterView',
        'Gcs/GetPlacementGroup',
        'Gcs/Heartbeat',
        'Gcs/KvGet',
        'Gcs/KvKeys',
        'Gcs/ListActors',
        'Gcs/ListJobs',
        'Gcs/ListPlacementGroups',
        'Gcs/RegisterNode',
        'Gcs/Subscribe',
        'Gcs/WaitPlacementGroup',
        'Node/GetState',
      ].sort(),
    );
    for (const m of ['PrepareBundles', 'ReturnBundles', 'Stop']) expect(accessOf(`/raytscore.Node/${m}`)).toBe('head');
    expect(accessOf('/raytscore.Node/Peer')).toBe('member');
    expect(accessOf('/raytscore.Gcs/KvPut')).toBe('member');
    expect(accessOf('/raytscore.Gcs/SomethingNew')).toBe('member'); // not listed: a member's
  });

  it('says who may make a refused call, and what a token holder may do instead', () => {
    expect(refusedMessage('/raytscore.Node/Stop', 'head', "node node_n is not the cluster's head")).toBe(
      "Node/Stop refused: only the cluster's head may call it (node node_n is not the cluster's head).",
    );
    const m = refusedMessage('/raytscore.Gcs/KvPut', 'member', 'the call carries no member identity');
    expect(m).toMatch(/^Gcs\/KvPut refused: only the cluster's nodes and drivers may call it/);
    expect(m).toMatch(/connect as a driver/);
  });
});
