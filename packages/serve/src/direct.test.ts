import { ActorDiedError } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import type { BroadcastChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectLink, serveDirect } from './direct.js';
import type { ReplicaReply, ReplicaRequest } from './wire.js';

const request = (url: string): ReplicaRequest => ({
  kind: 'http',
  request: { method: 'GET', url, headers: [], body: undefined },
  modelId: '',
  requestId: url,
  route: '/',
});

const ok = (text: string): ReplicaReply => ({
  http: { status: 200, statusText: '', headers: [], chunks: [Buffer.from(text)], stream: undefined },
});

/** The replica's channel, once it answered the link's hello. */
async function answered(link: DirectLink, replicaId: string): Promise<BroadcastChannel> {
  const c = await waitFor(() => link.channel(replicaId));
  if (!c) throw new Error(`replica ${replicaId} did not answer`);
  return c;
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

describe('direct calls to a replica in this process', () => {
  it('reaches a replica once it answered, and brings back its reply', async () => {
    const seen: string[] = [];
    stops.push(
      serveDirect('replica-a', (req, callId) => {
        seen.push(callId);
        return Promise.resolve(ok(req.kind === 'http' ? req.request.url : ''));
      }),
    );
    const link = new DirectLink();
    expect(link.channel('replica-a')).toBeUndefined(); // asked, not answered yet
    const channel = await answered(link, 'replica-a');
    const reply = await link.call('replica-a', channel, request('/hello'), 'call-1');
    expect('http' in reply && Buffer.from(reply.http.chunks[0]).toString()).toBe('/hello');
    expect(seen).toEqual(['call-1']);
  });

  it('passes on what the replica threw', async () => {
    stops.push(serveDirect('replica-b', () => Promise.reject(new TypeError('bad request'))));
    const link = new DirectLink();
    link.channel('replica-b');
    const channel = await answered(link, 'replica-b');
    await expect(link.call('replica-b', channel, request('/x'), 'call-2')).rejects.toMatchObject({
      name: 'TypeError',
      message: 'bad request',
    });
  });

  it("fails the calls waiting for a replica that died with the actor system's error", async () => {
    stops.push(serveDirect('replica-c', () => new Promise<ReplicaReply>(() => undefined)));
    const link = new DirectLink();
    link.channel('replica-c');
    const channel = await answered(link, 'replica-c');
    const call = link.call('replica-c', channel, request('/slow'), 'call-3');
    await waitFor(() => link.waiting('replica-c') === 1);
    const died = new ActorDiedError('the replica died');
    link.failReplica('replica-c', died);
    await expect(call).rejects.toBe(died);
    expect(link.waiting('replica-c')).toBe(0);
  });

  it('closes the channel of a replica that left once nothing waits for it, and asks again if it is back', async () => {
    stops.push(serveDirect('replica-d', () => Promise.resolve(ok('d'))));
    const link = new DirectLink();
    link.channel('replica-d');
    await answered(link, 'replica-d');
    link.forget('replica-d');
    expect(link.channel('replica-d')).toBeUndefined(); // asked again
    await answered(link, 'replica-d');
  });
});
