// Serve's HTTP ingress under load: bodies over the limit, more requests than the queue holds,
// clients that leave, clients that read slowly. One proxy thread, so that one router sees every
// request and what is queued is known.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it, onTestFinished } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import * as serve from '@ray-ts/serve';
import * as f from './fixtures/bounds-apps.js';

const LIMIT = 1024;
let port = 0;
let base = '';
let dir = '';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-bounds-'));
  await init({ numCpus: 2, namespace: 'serve-bounds-test' });
  const proxies = await serve.start({
    http: { host: '127.0.0.1', port: 0, proxiesPerNode: 1, maxRequestBodyBytes: LIMIT },
  });
  port = Object.values(proxies)[0].httpPort!;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await serve.shutdown();
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The lines a deployment wrote to its log file so far. */
function logLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the server asked for the body (100 Continue). */
  continued: boolean;
  /** Resolves once the server ended the connection. */
  closed: Promise<void>;
}

/**
 * A POST that sends its body in 256-byte pieces (after 100 Continue when it expects one), up to
 * `total` bytes or until the answer comes, and resolves with the answer. An error writing after
 * the answer (the server closed the connection, as it should past the limit) is expected.
 */
function post(urlPath: string, total: number, headers: http.OutgoingHttpHeaders): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let continued = false;
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'POST', headers, agent: false });
    onTestFinished(() => void req.destroy());
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.on('response', (res) => {
      answered = true;
      const closed = new Promise<void>((r) => res.socket.once('end', r).once('close', r));
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, continued, closed }));
    });
    let sent = 0;
    const sendMore = (): void => {
      if (answered || req.destroyed) return;
      if (sent >= total) return void req.end();
      const n = Math.min(256, total - sent);
      sent += n;
      req.write(Buffer.alloc(n, 120), () => setImmediate(sendMore));
    };
    if (headers.expect === '100-continue') {
      req.on('continue', () => {
        continued = true;
        sendMore();
      });
      req.flushHeaders();
    } else sendMore();
  });
}

suite('request body limit (http.maxRequestBodyBytes)', () => {
  it('answers 413 with a JSON error, reads no further, closes the connection, and keeps serving', async () => {
    const log = path.join(dir, 'sized.log');
    await serve.run(f.Sized.bind(log), { name: 'sized', routePrefix: '/sized' });

    // Declared too large by Content-Length: refused before the body is read.
    const declared = await post('/sized', 64 * LIMIT, { 'content-length': 64 * LIMIT });
    expect(declared.status).toBe(413);
    expect(declared.headers['content-type']).toBe('application/json');
    expect(declared.headers.connection).toBe('close');
    const err = JSON.parse(declared.body) as { error: string; message: string };
    expect(err.error).toBe('RequestBodyTooLargeError');
    expect(err.message).toMatch(/larger than 1024 bytes.*Content-Length is 65536.*http\.maxRequestBodyBytes/);
    await declared.closed;

    // Chunked, no length given: refused once more than the limit arrived, while the client still sends.
    const chunked = await post('/sized', 1024 * LIMIT, { 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(413);
    expect(chunked.headers.connection).toBe('close');
    expect(JSON.parse(chunked.body)).toMatchObject({ error: 'RequestBodyTooLargeError' });
    await chunked.closed;

    // Expect: 100-continue: refused before the client sends a byte of the body.
    const early = await post('/sized', 2 * LIMIT, { 'content-length': 2 * LIMIT, expect: '100-continue' });
    expect(early.status).toBe(413);
    expect(early.continued).toBe(false);

    // None of them reached the deployment; bodies up to the limit do, and the server goes on serving.
    expect(logLines(log)).toEqual([]);
    const ok = await fetch(`${base}/sized`, { method: 'POST', body: Buffer.alloc(LIMIT, 1) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ bytes: LIMIT });
    const okContinue = await post('/sized', LIMIT, { 'content-length': LIMIT, expect: '100-continue' });
    expect(okContinue.status).toBe(200);
    expect(okContinue.continued).toBe(true);
    expect(logLines(log)).toEqual(['ran', 'ran']);
    await serve.delete('sized');
  });
});

suite('queue bound (maxQueuedRequests)', () => {
  it('answers 503 with Retry-After at once beyond the bound; the requests it took succeed', async () => {
    const log = path.join(dir, 'shed.log');
    await serve.run(f.Gate.bind(log), { name: 'shed', routePrefix: '/shed' });
    // One request runs (maxOngoingRequests 1) and two wait (maxQueuedRequests 2): of 8 sent at
    // once, the 5 beyond get 503 while the first still runs.
    const answers = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const r = await fetch(`${base}/shed?ms=600&id=${i}`);
        return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
      }),
    );
    const ok = answers.filter((a) => a.status === 200);
    const shed = answers.filter((a) => a.status === 503);
    expect(ok.length + shed.length).toBe(8);
    expect(ok.length).toBeGreaterThanOrEqual(3);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    for (const s of shed) {
      expect(s.retryAfter).toBe('1');
      const e = JSON.parse(s.body) as { error: string; message: string };
      expect(e.error).toBe('BackPressureError');
      expect(e.message).toMatch(/Deployment 'Gate' of app 'shed' is overloaded.*maxQueuedRequests 2.*Retry later/);
    }
    // Every request that was not shed ran, once.
    expect(logLines(log).length).toBe(ok.length);
    await serve.delete('shed');
  });
});

/** A GET whose client can be made to leave: `leave()` destroys its connection. */
function openRequest(urlPath: string): { leave: () => void; response: Promise<http.IncomingMessage> } {
  const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  response.catch(() => undefined); // leaving makes it fail, on purpose
  onTestFinished(() => void req.destroy());
  return { leave: () => void req.destroy(), response };
}

suite('client disconnects', () => {
  it('cancel their requests: the running handler sees request.signal abort, a queued one never runs', async () => {
    const log = path.join(dir, 'cancel.log');
    await serve.run(f.Gate.bind(log), { name: 'cancel', routePrefix: '/cancel' });
    const queued = async () => (await serve.status()).applications.cancel.deployments.Gate.queuedRequests;

    const a = openRequest('/cancel?id=a&ms=60000');
    await waitFor(() => logLines(log).includes('start a'), { what: 'request a to start' });
    const b = openRequest('/cancel?id=b&ms=60000');
    await waitFor(async () => (await queued()) === 1, { what: 'request b to wait in the queue' });

    b.leave();
    await waitFor(async () => (await queued()) === 0, { what: 'request b to leave the queue' });
    a.leave();
    await waitFor(() => logLines(log).includes('abort a'), { what: "request a's signal to abort" });

    // The slot a held is free again (its handler stopped), and b never ran.
    const c = await fetch(`${base}/cancel?id=c&ms=1`);
    expect(await c.text()).toBe('done c');
    expect(logLines(log)).toEqual([
      'start a',
      'abort a',
      "RequestCancelledError: A request to deployment 'Gate' of app 'cancel' was cancelled: " +
        'the client disconnected before its response was complete.',
      'start c',
    ]);
    await serve.delete('cancel');
  });
});

suite('streaming backpressure', () => {
  it('produces no further ahead of a slow reader than the buffers hold, and stops when it leaves', async () => {
    await serve.run(f.Producer.bind(), { name: 'producer', routePrefix: '/produce' });
    const h = await serve.getDeploymentHandle<{ stats(): { produced: number; cancelled: boolean; aborted: boolean } }>(
      'Producer',
      'producer',
    );
    const KIB = 64;
    const N = 2048; // 128 MiB, if nothing held the producer back
    const settled = async () => {
      // The producer is held back once its count stops moving (checked over five polls).
      let last = -1;
      let same = 0;
      await waitFor(
        async () => {
          const { produced } = await h.stats.remote();
          same = produced === last ? same + 1 : 0;
          last = produced;
          return same >= 5;
        },
        { intervalMs: 100, timeoutMs: 30_000, what: 'the producer to be held back' },
      );
      return last;
    };

    const r = openRequest(`/produce?n=${N}&kib=${KIB}`);
    const res = await r.response;
    expect(res.statusCode).toBe(200);
    // Not reading at all: the producer stops once the socket's and Serve's buffers are full.
    const ahead = await settled();
    // Reading 4 MiB: it makes about that much more, then stops again.
    let received = 0;
    await new Promise<void>((resolve) => {
      const onData = (c: Buffer) => {
        received += c.length;
        if (received < 4 * 1024 * 1024) return;
        res.off('data', onData);
        res.pause();
        resolve();
      };
      res.on('data', onData);
    });
    const produced = await settled();
    const aheadBytes = produced * KIB * 1024 - received;
    console.log(
      `streaming backpressure: ${ahead} chunks of ${KIB} KiB made before the client read; ` +
        `${produced} after it read ${(received / 2 ** 20).toFixed(1)} MiB (${(aheadBytes / 2 ** 20).toFixed(1)} MiB ahead)`,
    );
    expect(ahead).toBeLessThan(N / 8);
    expect(aheadBytes).toBeLessThan(16 * 1024 * 1024);

    // The client leaves: the stream is cancelled and the request's signal aborts.
    r.leave();
    await waitFor(
      async () => {
        const s = await h.stats.remote();
        return s.cancelled && s.aborted;
      },
      { what: 'the stream to be cancelled and its request signal to abort' },
    );
    const final = await settled();
    expect(final).toBeLessThan(N / 4);
    await serve.delete('producer');
  });
});
