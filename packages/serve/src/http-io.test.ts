import type http from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Cancellation } from './cancellation.js';
import { RequestBodyTooLargeError, RequestCancelledError } from './errors.js';
import { readBody, wholeBody, writeAll } from './http-io.js';

/** A request body as the proxy sees it: a stream with headers (no socket). */
function request(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}
const asReq = (r: PassThrough) => r as unknown as http.IncomingMessage;

describe('readBody', () => {
  it('reads a body up to the limit', async () => {
    const r = request();
    const body = readBody(asReq(r), 8);
    r.write('abcd');
    r.end('efgh');
    expect(Buffer.from(await body).toString()).toBe('abcdefgh');
  });

  it('refuses a body whose Content-Length is over the limit without reading it', async () => {
    const r = request({ 'content-length': '9' });
    r.write('abc');
    await expect(readBody(asReq(r), 8)).rejects.toThrow(
      /larger than 8 bytes \(its Content-Length is 9\).*http\.maxRequestBodyBytes/,
    );
    expect(r.readableFlowing).toBe(null); // nothing read
  });

  it('refuses a body once more than the limit arrived, and keeps none of what follows', async () => {
    const r = request();
    const body = readBody(asReq(r), 8);
    r.write('abcdefgh');
    r.write('i');
    const err = (await body.catch((e: unknown) => e)) as RequestBodyTooLargeError;
    expect(err).toBeInstanceOf(RequestBodyTooLargeError);
    expect(err.limitBytes).toBe(8);
    r.write(Buffer.alloc(1 << 20));
    expect(r.readableLength).toBe(0); // dropped as it arrives
  });

  it('fails with RequestCancelledError when the client leaves mid-body', async () => {
    const r = request();
    const body = readBody(asReq(r), 8);
    r.write('abc');
    r.destroy();
    await expect(body).rejects.toBeInstanceOf(RequestCancelledError);
  });
});

describe('writeAll', () => {
  it("waits for 'drain' while the client is not reading, and stops when the request is cancelled", async () => {
    const written: string[] = [];
    const pending: (() => void)[] = [];
    const res = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        written.push(chunk.toString());
        pending.push(done); // the "client" takes it when the test says so
      },
    });
    const cancel = new Cancellation();
    const all = writeAll(
      res as unknown as http.ServerResponse,
      ['a', 'b', 'c'].map((x) => Buffer.from(x)),
      cancel,
    );
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual(['a']);
    pending.shift()!(); // drained: the next one goes
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual(['a', 'b']);
    const reason = new RequestCancelledError('Request cancelled: the client disconnected');
    cancel.cancel(reason);
    await expect(all).rejects.toBe(reason);
    expect(written).toEqual(['a', 'b']);
  });
});

describe('wholeBody', () => {
  it('takes the bytes of a body made from text or JSON as they are', () => {
    expect(Buffer.concat(wholeBody(Response.json({ hello: 'world' }))!).toString()).toBe('{"hello":"world"}');
    expect(Buffer.concat(wholeBody(new Response('plain text'))!).toString()).toBe('plain text');
    expect(wholeBody(new Response(new Uint8Array([1, 2, 3])))).toEqual([new Uint8Array([1, 2, 3])]);
    expect(wholeBody(new Response(null, { status: 204 }))).toEqual([]);
  });

  it('leaves streams and bodies already read to be read as streams', async () => {
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array([1]));
        c.close();
      },
    });
    expect(wholeBody(new Response(stream))).toBeUndefined();
    const read = new Response('once');
    await read.text();
    expect(wholeBody(read)).toBeUndefined();
    const locked = new Response('locked');
    locked.body!.getReader();
    expect(wholeBody(locked)).toBeUndefined();
  });
});
