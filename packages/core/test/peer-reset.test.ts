// Peer streams that survive resets: two nodes whose every incoming connection goes through a TCP
// proxy of this test (they advertise the proxy's address), which cuts all of its connections
// several times while tasks, actor calls and pulls of large objects cross those links. Messages
// not acknowledged are sent again on a new stream, and dropped by the receiver if it had them:
// every result comes back, and the actor counts each call once.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RayError, get, init, shutdown, type ObjectRef } from '@ray-ts/core';
import { Cluster } from '@ray-ts/core/testing';
import { TallyActor, callFromB, makeBytes, measure, square } from './fixtures/peer-reset.js';

/** A free port on 127.0.0.1 (the node listens there; the proxy on the same port of 127.0.0.2). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Forwards 127.0.0.2:port to 127.0.0.1:port; cut() resets every connection it carries. */
class CuttingProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;
  cuts = 0;

  private constructor(readonly port: number) {
    this.server = net.createServer((down) => {
      const up = net.connect(port, '127.0.0.1');
      for (const [a, b] of [
        [down, up],
        [up, down],
      ]) {
        this.sockets.add(a);
        a.pipe(b);
        a.on('error', () => b.destroy()); // a reset: the other side goes too
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
      }
    });
  }

  static async start(port: number): Promise<CuttingProxy> {
    const p = new CuttingProxy(port);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(port, '127.0.0.2', resolve);
    });
    return p;
  }

  /** Resets every connection (TCP RST), as a failing link or a restarting middlebox would. */
  cut(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    this.cuts++;
    return n;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What a ref resolved to: its value, or the error it failed with. */
async function outcome<T>(ref: ObjectRef<T>): Promise<{ ok: true; v: T } | { ok: false; err: unknown }> {
  try {
    return { ok: true, v: await get(ref) };
  } catch (err) {
    return { ok: false, err };
  }
}

describe('peer streams through a link that is cut', () => {
  let cluster: Cluster;
  const proxies: CuttingProxy[] = [];

  beforeAll(async () => {
    // A port found free can be taken before the node binds it (another test's process, or an
    // outgoing connection's ephemeral port): then new ports, a few times.
    for (let attempt = 1; ; attempt++) {
      const [portA, portB] = [await freePort(), await freePort()];
      proxies.push(await CuttingProxy.start(portA), await CuttingProxy.start(portB));
      try {
        cluster = await Cluster.start({
          head: { numCpus: 0 },
          nodes: [
            { numCpus: 2, resources: { a: 100 }, port: portA, nodeIpAddress: '127.0.0.2' },
            { numCpus: 4, resources: { b: 100 }, port: portB, nodeIpAddress: '127.0.0.2' },
          ],
        });
        break;
      } catch (err) {
        await Promise.all(proxies.splice(0).map((p) => p.close()));
        if (attempt >= 3 || !/is in use/.test((err as Error).message)) throw err;
      }
    }
    await init({ address: cluster.address });
  }, 90_000);

  afterAll(async () => {
    await shutdown();
    await cluster?.shutdown();
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('delivers every task, actor call and object, each once, while connections are reset', async () => {
    expect(cluster.nodes.filter((n) => n.address.startsWith('127.0.0.2:'))).toHaveLength(2);
    const tally = TallyActor.remote();
    expect(await get(tally.count.remote())).toBe(0); // placed on A (through its proxy)

    let cutting = true;
    let carried = 0;
    const cutter = (async () => {
      while (cutting || proxies[0].cuts < 6) {
        await new Promise((r) => setTimeout(r, 150));
        for (const p of proxies) carried += p.cut();
      }
    })();

    // Rounds of work while the cutter runs: driver -> B (tasks), driver -> A (actor calls),
    // B -> A (a task calling the actor), A <- B (a pull of a large object made on B), and the
    // driver <- B (a pull of another one).
    const squares: ObjectRef<number>[] = [];
    const calls: ObjectRef<number>[] = [];
    const fromB: ObjectRef<number[]>[] = [];
    const measured: ObjectRef<number[]>[] = [];
    const big: ObjectRef<Uint8Array>[] = [];
    const rounds = 12;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < 20; i++) squares.push(square.remote(r * 20 + i));
      for (let i = 0; i < 10; i++) calls.push(tally.incr.remote());
      fromB.push(callFromB.remote(tally, 5));
      const bytes = makeBytes.remote(1 << 20, r + 1);
      measured.push(measure.remote(bytes));
      big.push(bytes);
      await new Promise((r) => setTimeout(r, 60));
    }
    // The links come back once the cutter stops (a link that is cut forever fails pulls with
    // ObjectLostError after a minute, and its node is declared dead if its heartbeats stop too).
    cutting = false;
    await cutter;
    const [sq, cs, fb, ms, bg] = await Promise.all([
      Promise.all(squares.map(outcome)),
      Promise.all(calls.map(outcome)),
      Promise.all(fromB.map(outcome)),
      Promise.all(measured.map(outcome)),
      Promise.all(big.map(outcome)),
    ]);
    expect(carried).toBeGreaterThan(0); // connections were cut, not only an idle proxy

    // Failures, if any, are typed; here none is expected: every link comes back.
    const failures = [...sq, ...cs, ...fb, ...ms, ...bg].filter((o) => !o.ok).map((o) => (o.ok ? 0 : o.err));
    for (const err of failures) expect(err).toBeInstanceOf(RayError);
    expect(failures).toEqual([]);

    expect(sq.map((o) => (o.ok ? o.v : undefined))).toEqual(squares.map((_, i) => i * i));
    expect(ms.map((o) => (o.ok ? o.v : undefined))).toEqual(big.map((_, r) => [1 << 20, r + 1, r + 1]));
    expect(bg.map((o) => (o.ok ? [o.v.length, o.v[0], o.v[o.v.length - 1]] : undefined))).toEqual(
      big.map((_, r) => [1 << 20, r + 1, r + 1]),
    );
    // Each call counted once: the driver's and B's calls together took every number once.
    const taken = [...cs.map((o) => (o.ok ? [o.v] : [])), ...fb.map((o) => (o.ok ? o.v : []))].flat();
    expect(taken.sort((x, y) => x - y)).toEqual(Array.from({ length: rounds * 15 }, (_, i) => i + 1));
    expect(await get(tally.count.remote())).toBe(rounds * 15);
    // The driver's own calls, in order.
    const mine = cs.map((o) => (o.ok ? o.v : 0));
    expect(mine).toEqual([...mine].sort((x, y) => x - y));
  }, 120_000);
});
