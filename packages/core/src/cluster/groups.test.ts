import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GroupState } from '../node/ports.js';
import { settle } from '../testing-clock.js';
import type { PlacementGroupInfo__Output } from './generated/raytscore/PlacementGroupInfo.js';
import { ClusterGroups, groupFromInfo } from './groups.js';
import { FakeGcsClient, serviceError } from './testing-gcs.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A group as the GCS describes it. */
function pgInfo(id: string, state: string, over: Partial<PlacementGroupInfo__Output> = {}): PlacementGroupInfo__Output {
  return {
    spec: {
      placementGroupId: id,
      name: `name-${id}`,
      strategy: 'SPREAD',
      bundles: [{ resources: { CPU: 1 } }, { resources: { GPU: 1 } }],
      jobId: 'job-1',
      namespace: 'ns',
    },
    state,
    bundleNodes: state === 'CREATED' ? ['node-b', 'node-c'] : [],
    reason: state === 'PENDING' ? 'waiting for resources' : '',
    found: true,
    ...over,
  };
}

/** The GCS's answer for a group it does not know. */
const unknownInfo: PlacementGroupInfo__Output = {
  spec: null,
  state: 'REMOVED',
  bundleNodes: [],
  reason: '',
  found: false,
};

function setup() {
  const gcs = new FakeGcsClient();
  const changed: string[] = [];
  const groups = new ClusterGroups(gcs.client, { jobId: 'job-1', namespace: 'ns' }, (id) => changed.push(id));
  return { gcs, changed, groups };
}

/** Calls that have not been answered yet. */
const waiting = (gcs: FakeGcsClient) => gcs.calls.filter((c) => !c.answered);

describe('cluster groups: groupFromInfo', () => {
  it("reads the GCS's description of a group; none without a spec", () => {
    expect(groupFromInfo(pgInfo('pg_1', 'CREATED'))).toEqual({
      id: 'pg_1',
      name: 'name-pg_1',
      strategy: 'SPREAD',
      bundles: [{ CPU: 1 }, { GPU: 1 }],
      state: 'CREATED',
      bundleNodes: ['node-b', 'node-c'],
      reason: '',
    });
    expect(groupFromInfo(unknownInfo)).toBeUndefined();
  });
});

describe('cluster groups: onInfo', () => {
  it('keeps the latest state of each group and says it changed', () => {
    const { changed, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    expect(groups.group('pg_1')?.state).toBe('PENDING');
    groups.onInfo(pgInfo('pg_1', 'CREATED'));
    expect(groups.group('pg_1')).toMatchObject({ state: 'CREATED', bundleNodes: ['node-b', 'node-c'] });
    groups.onInfo(unknownInfo);
    expect(changed).toEqual(['pg_1', 'pg_1']);
  });

  it('never goes back to PENDING from a later state (replies and events race)', () => {
    const { changed, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'CREATED'));
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    expect(groups.group('pg_1')?.state).toBe('CREATED');
    groups.onInfo(pgInfo('pg_2', 'INFEASIBLE'));
    groups.onInfo(pgInfo('pg_2', 'PENDING'));
    expect(groups.group('pg_2')?.state).toBe('INFEASIBLE');
    expect(changed).toEqual(['pg_1', 'pg_2']);
  });
});

describe('cluster groups: whenPlaced', () => {
  it('calls back once a known PENDING group leaves PENDING, once, without asking the GCS', () => {
    const { gcs, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    const calls: string[] = [];
    groups.whenPlaced('pg_1', () => calls.push('first'), unexpected);
    groups.whenPlaced('pg_1', () => calls.push('second'), unexpected);
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    expect(calls).toEqual([]);
    groups.onInfo(pgInfo('pg_1', 'INFEASIBLE'));
    expect(calls).toEqual(['first', 'second']);
    groups.onInfo(pgInfo('pg_1', 'REMOVED'));
    expect(calls).toEqual(['first', 'second']);
    expect(gcs.calls).toEqual([]);
  });

  it('asks the GCS about a group not heard of, waiting with no limit', async () => {
    const { gcs, groups } = setup();
    const calls: string[] = [];
    groups.whenPlaced('pg_1', () => calls.push('placed'), unexpected);
    expect(gcs.requests('WaitPlacementGroup')).toEqual([{ placementGroupId: 'pg_1', timeoutMs: 0 }]);
    expect(gcs.calls[0].timeoutMs).toBe(24 * 3600_000);
    gcs.calls[0].reply(pgInfo('pg_1', 'CREATED'));
    await settle();
    expect(calls).toEqual(['placed']);
  });

  it('reports a failed lookup', async () => {
    const { gcs, groups } = setup();
    const failures: unknown[] = [];
    groups.whenPlaced('pg_1', unexpected, (err) => failures.push(err));
    const err = serviceError(grpc.status.UNAVAILABLE, 'GCS down');
    gcs.calls[0].fail(err);
    await settle();
    expect(failures).toEqual([err]);
  });
});

describe('cluster groups: waitGroup', () => {
  it('answers a group known out of PENDING without a round trip', async () => {
    const { gcs, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'CREATED'));
    expect(await groups.waitGroup('pg_1', 0)).toMatchObject({ id: 'pg_1', state: 'CREATED' });
    expect(await groups.waitGroup('pg_1', 100)).toMatchObject({ id: 'pg_1', state: 'CREATED' });
    expect(gcs.calls).toEqual([]);
  });

  it('timeoutMs < 0: answers a known PENDING group as it is, asks the GCS about an unknown one at once', async () => {
    const { gcs, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    expect(await groups.waitGroup('pg_1', -1)).toMatchObject({ state: 'PENDING' });
    expect(gcs.calls).toEqual([]);

    gcs.answers.WaitPlacementGroup = (req: { placementGroupId: string }) => pgInfo(req.placementGroupId, 'PENDING');
    expect(await groups.waitGroup('pg_2', -1)).toMatchObject({ id: 'pg_2', state: 'PENDING' });
    expect(gcs.requests('WaitPlacementGroup')).toEqual([{ placementGroupId: 'pg_2', timeoutMs: 1 }]);
    expect(gcs.calls[0].timeoutMs).toBe(5_001);
  });

  it('timeoutMs > 0: the GCS waits that long, the call a little longer', async () => {
    const { gcs, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    const answer = groups.waitGroup('pg_1', 2_000);
    expect(gcs.requests('WaitPlacementGroup')).toEqual([{ placementGroupId: 'pg_1', timeoutMs: 2_000 }]);
    expect(gcs.calls[0].timeoutMs).toBe(7_000);
    gcs.calls[0].reply(pgInfo('pg_1', 'PENDING'));
    expect(await answer).toMatchObject({ state: 'PENDING' });
  });

  it('timeoutMs 0: waits with no limit until the GCS answers', async () => {
    const { gcs, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    let got: GroupState | undefined;
    void groups.waitGroup('pg_1', 0).then((g) => (got = g));
    expect(gcs.requests('WaitPlacementGroup')).toEqual([{ placementGroupId: 'pg_1', timeoutMs: 0 }]);
    expect(gcs.calls[0].timeoutMs).toBe(24 * 3600_000);
    await settle();
    expect(got).toBeUndefined();
    gcs.calls[0].reply(pgInfo('pg_1', 'CREATED'));
    await settle();
    expect(got).toMatchObject({ state: 'CREATED' });
  });

  it('answers undefined for a group the GCS does not know, and fails when the GCS call fails', async () => {
    const { gcs, groups } = setup();
    gcs.answers.WaitPlacementGroup = () => unknownInfo;
    expect(await groups.waitGroup('pg_x', 10)).toBeUndefined();
    gcs.answers.WaitPlacementGroup = () => {
      throw serviceError(grpc.status.DEADLINE_EXCEEDED, 'deadline');
    };
    await expect(groups.waitGroup('pg_x', 10)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  });
});

describe('cluster groups: create, remove, list', () => {
  it("creates a group through the GCS, known as PENDING meanwhile, for this driver's job", async () => {
    const { gcs, changed, groups } = setup();
    const g: GroupState = {
      id: 'pg_1',
      name: 'trainers',
      strategy: 'STRICT_SPREAD',
      bundles: [{ CPU: 2 }, { CPU: 2, GPU: 1 }],
      state: 'PENDING',
      bundleNodes: [],
      reason: '',
    };
    const created = groups.createGroup(g);
    expect(groups.group('pg_1')).toBe(g);
    expect(gcs.requests('CreatePlacementGroup')).toEqual([
      {
        placementGroupId: 'pg_1',
        name: 'trainers',
        strategy: 'STRICT_SPREAD',
        bundles: [{ resources: { CPU: 2 } }, { resources: { CPU: 2, GPU: 1 } }],
        jobId: 'job-1',
        namespace: 'ns',
      },
    ]);
    gcs.calls[0].reply(pgInfo('pg_1', 'CREATED'));
    await created;
    expect(groups.group('pg_1')?.state).toBe('CREATED');
    expect(changed).toEqual(['pg_1']);
  });

  it('fails a creation the GCS refused', async () => {
    const { gcs, groups } = setup();
    gcs.answers.CreatePlacementGroup = () => {
      throw serviceError(grpc.status.INVALID_ARGUMENT, 'bad bundle');
    };
    const g: GroupState = {
      id: 'pg_1',
      name: '',
      strategy: 'PACK',
      bundles: [],
      state: 'PENDING',
      bundleNodes: [],
      reason: '',
    };
    await expect(groups.createGroup(g)).rejects.toMatchObject({ details: 'bad bundle' });
  });

  it('removes a group through the GCS: REMOVED here once the GCS took it, and changed', async () => {
    const { gcs, changed, groups } = setup();
    groups.onInfo(pgInfo('pg_1', 'CREATED'));
    const removed = groups.removeGroup('pg_1');
    expect(gcs.requests('RemovePlacementGroup')).toEqual([{ placementGroupId: 'pg_1' }]);
    expect(groups.group('pg_1')?.state).toBe('CREATED');
    gcs.calls[0].reply({});
    await removed;
    expect(groups.group('pg_1')?.state).toBe('REMOVED');
    expect(changed).toEqual(['pg_1', 'pg_1']);

    // A late PENDING event does not bring it back.
    groups.onInfo(pgInfo('pg_1', 'PENDING'));
    expect(groups.group('pg_1')?.state).toBe('REMOVED');
  });

  it('removes a group not heard of here without a change to report; keeps the state if the GCS fails', async () => {
    const { gcs, changed, groups } = setup();
    gcs.answers.RemovePlacementGroup = () => ({});
    await groups.removeGroup('pg_x');
    expect(groups.group('pg_x')).toBeUndefined();
    expect(changed).toEqual([]);

    groups.onInfo(pgInfo('pg_1', 'CREATED'));
    gcs.answers.RemovePlacementGroup = () => {
      throw serviceError(grpc.status.UNAVAILABLE, 'GCS down');
    };
    await expect(groups.removeGroup('pg_1')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(groups.group('pg_1')?.state).toBe('CREATED');
  });

  it("lists the GCS's groups, skipping any without a spec", async () => {
    const { gcs, groups } = setup();
    gcs.answers.ListPlacementGroups = () => ({
      placementGroups: [pgInfo('pg_1', 'CREATED'), unknownInfo, pgInfo('pg_2', 'PENDING')],
    });
    expect((await groups.listGroups()).map((g) => [g.id, g.state])).toEqual([
      ['pg_1', 'CREATED'],
      ['pg_2', 'PENDING'],
    ]);
    expect(waiting(gcs)).toEqual([]);
  });
});

function unexpected(): never {
  throw new Error('not expected to be called');
}

describe('cluster groups: a group the GCS does not know', () => {
  it('says so to whenPlaced, once, and drops the waiter', async () => {
    const { gcs, groups } = setup();
    const calls: string[] = [];
    groups.whenPlaced(
      'pg_9',
      () => calls.push('placed'),
      unexpected,
      () => calls.push('unknown'),
    );
    gcs.calls[0].reply({ spec: null, state: '', bundleNodes: [], reason: '' } as never);
    await settle();
    expect(calls).toEqual(['unknown']);
    groups.onInfo(pgInfo('pg_9', 'CREATED'));
    expect(calls).toEqual(['unknown']);
  });
});
