// Collectives between actors on the embedded cluster (multi-node: test/cluster.test.ts).
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import {
  CollectiveTimeoutError,
  InvalidArgumentError,
  collective,
  get,
  init,
  kill,
  shutdown,
  type ActorHandle,
} from '@ray-ts/core';
import { MemberActor, type Member } from './fixtures/collective.js';

let members: ActorHandle<Member>[] = [];

beforeAll(async () => {
  await init({ numCpus: 4, namespace: 'collective-test' });
  members = Array.from({ length: 4 }, () => MemberActor.options({ numCpus: 1 }).remote());
  await collective.createCollectiveGroup(members, { groupName: 'four' });
});
afterAll(async () => {
  for (const m of members) await kill(m);
  await shutdown();
});

const expected = (n: number, length: number) => {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) for (let r = 0; r < n; r++) out[i] += (r + 1) * (i % 7) + r;
  return out;
};

suite('collective', () => {
  it('allreduces small arrays with every op, in place, the same on every member', async () => {
    const inputs = [0, 1, 2, 3].map((r) => Float64Array.from([r, r === 0 ? 0 : -r, r * 0.5 + 1, 10]));
    const sum = await get(members.map((m, r) => m.allreduce.remote(inputs[r], 'sum', 'four')));
    for (const s of sum) expect([...s]).toEqual([6, -6, 7, 40]);
    const mean = await get(members.map((m, r) => m.allreduce.remote(inputs[r], 'mean', 'four')));
    for (const s of mean) expect([...s]).toEqual([1.5, -1.5, 1.75, 10]);
    const max = await get(members.map((m, r) => m.allreduce.remote(inputs[r], 'max', 'four')));
    expect([...max[2]]).toEqual([3, 0, 2.5, 10]);
    const min = await get(members.map((m, r) => m.allreduce.remote(inputs[r], 'min', 'four')));
    expect([...min[0]]).toEqual([0, -3, 1, 10]);
    const prod = await get(members.map((m, r) => m.allreduce.remote(inputs[r], 'product', 'four')));
    expect([...prod[1]].map((v) => v + 0)).toEqual([0, 0, 1 * 1.5 * 2 * 2.5, 10000]); // 0 · -1 · -2 · -3 is -0
    const ints = await get(members.map((m, r) => m.allreduce.remote(Int32Array.from([r, 2 ** 20]), 'sum', 'four')));
    expect(ints[3]).toBeInstanceOf(Int32Array);
    expect([...ints[3]]).toEqual([6, 4 * 2 ** 20]);
  });

  it('allreduces a 4 MiB buffer round the ring: exact sums, bit-identical on every member', async () => {
    const length = 1 << 20;
    const out = await get(members.map((m) => m.ring.remote(length, 'sum', 'four')));
    const want = expected(4, length);
    for (const o of out) {
      expect(o.length).toBe(length);
      expect(Buffer.from(o.buffer, o.byteOffset, o.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    }
    // An uneven length, and mean.
    const odd = await get(members.map((m) => m.ring.remote(length + 3, 'mean', 'four')));
    const wantOdd = expected(4, length + 3).map((v) => v / 4);
    for (const o of odd)
      expect(
        Buffer.from(o.buffer, o.byteOffset, o.byteLength).equals(
          Buffer.from(odd[0].buffer, odd[0].byteOffset, odd[0].byteLength),
        ),
      ).toBe(true);
    expect(
      Math.max(...Array.from({ length: 1000 }, (_, k) => Math.abs(odd[0][k * 1000] - wantOdd[k * 1000]))),
    ).toBeLessThan(1e-5);
  });

  it('broadcasts, allgathers and reduce-scatters', async () => {
    const b = await get(members.map((m, r) => m.broadcast.remote(Float64Array.from([r, r, r]), 2, 'four')));
    for (const x of b) expect([...x]).toEqual([2, 2, 2]);
    const g = await get(
      members.map((m, r) =>
        m.allgather.remote(
          Int32Array.from({ length: r + 1 }, () => r),
          'four',
        ),
      ),
    );
    for (const parts of g) expect(parts.map((p) => [...p])).toEqual([[0], [1, 1], [2, 2, 2], [3, 3, 3, 3]]);
    // 10 elements over 4 ranks: [0,2) [2,5) [5,7) [7,10).
    const rs = await get(
      members.map((m, r) =>
        m.reduceScatter.remote(
          Float64Array.from({ length: 10 }, (_, i) => i * (r + 1)),
          'sum',
          'four',
        ),
      ),
    );
    expect(rs.map((x) => [...x])).toEqual([
      [0, 10],
      [20, 30, 40],
      [50, 60],
      [70, 80, 90],
    ]);
  });

  it('joins groups from inside the actors, waits at barriers and delivers sends in order', async () => {
    const pair = [MemberActor.remote(), MemberActor.remote()];
    try {
      expect(await get(pair.map((m, r) => m.join.remote(2, r, 'pair')))).toEqual([0, 1]);
      const started = Date.now();
      const done = await get(pair.map((m, r) => m.barrier.remote('pair', r === 0 ? 0 : 300)));
      for (const t of done) expect(t - started).toBeGreaterThanOrEqual(300);
      const [, got] = await get(pair.map((m) => m.pingPong.remote(20, 'pair')));
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    } finally {
      for (const m of pair) await kill(m);
    }
  });

  it('explains misuse, and times out naming the member it waited for', async () => {
    await expect(collective.allreduce(new Float32Array(2))).rejects.toThrow(/inside an actor/);
    await expect(collective.createCollectiveGroup([{}])).rejects.toThrow(InvalidArgumentError);
    await expect(collective.createCollectiveGroup(members, { ranks: [0, 0, 1, 2] })).rejects.toThrow(/each once/);
    await expect(get(members[0].allreduce.remote(new Float32Array(2), 'sum', 'no-such-group'))).rejects.toThrow(
      /no collective group 'no-such-group'.*createCollectiveGroup/,
    );
    await expect(get(members[0].allreduce.remote([1, 2] as never, 'sum', 'four'))).rejects.toThrow(
      /takes a typed array/,
    );
    await expect(get(members[0].allreduce.remote(new Float32Array(2), 'avg' as never, 'four'))).rejects.toThrow(
      /op must be one of sum, mean/,
    );
    // Only ranks 0 and 1 of 'lonely' take part: they wait for 2 and 3, then fail saying so.
    const lonely = [MemberActor.remote(), MemberActor.remote(), MemberActor.remote()];
    try {
      await collective.createCollectiveGroup(lonely, { groupName: 'lonely' });
      const err = await get(lonely[0].allreduce.remote(new Float32Array(4), 'sum', 'lonely', 300)).catch(
        (e: unknown) => e,
      );
      expect((err as Error).message).toMatch(/waited 300 ms for rank 1/);
      expect((err as { cause?: unknown }).cause).toBeInstanceOf(CollectiveTimeoutError);
    } finally {
      for (const m of lonely) await kill(m);
    }
  });
});
