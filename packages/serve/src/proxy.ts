/**
 * The HTTP (and gRPC) ingress: a group of proxy actors per node, each on a thread of its own and
 * all accepting on one listening socket (the first opens it; the others listen on its file
 * descriptor, so the kernel spreads connections over every core, unlike Ray Serve's single
 * proxy). A proxy matches the path to an application's route prefix and hands the request to
 * the ingress deployment through its router, then writes the reply, streaming when the body
 * streams (no faster than the client reads). A body over `http.maxRequestBodyBytes` answers 413,
 * overload 503 with Retry-After, a timeout 408, a replica death 502, each with a JSON body that
 * says why. A client that disconnects cancels its request: queued, it never runs; running, the
 * replica aborts its `request.signal`; streaming, the stream stops.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { threadId } from 'node:worker_threads';
import { getLogger, TaskError, get, remote } from '@ray-ts/core';
import { Cancellation, cancelWhy, raceCancel } from './cancellation.js';
import { serveConfig } from './constants.js';
import {
  BackPressureError,
  ReplicaDiedError,
  RequestBodyTooLargeError,
  RequestCancelledError,
  RequestTimeoutError,
  ServeNotRunningError,
} from './errors.js';
import { closeLingering, declaredTooLarge, readBody, sendError, writeAll } from './http-io.js';
import type { CompiledStartOptions } from './options.js';
import { ProxyMetrics, type RequestRoute } from './proxy-metrics.js';
import { abortable, routerHub, type Router } from './router.js';
import type { RoutingTable, WireRequest } from './wire.js';

const log = getLogger('ray-ts.serve');

/** Where the first proxy of a node listens, for the others to share. */
export interface ListenInfo {
  httpFd: number | undefined;
  httpPort: number | undefined;
  grpcFd: number | undefined;
  grpcPort: number | undefined;
}

/** @internal The proxy's methods, for the controller. */
export interface ProxyMethods {
  listen(shared: ListenInfo | undefined): Promise<ListenInfo>;
  ping(): boolean;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'expect',
]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const MODEL_HEADER = 'serve_multiplexed_model_id';

function fdOf(server: { _handle?: { fd?: number } }): number {
  const fd = server._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new Error(
      'The listening socket has no file descriptor to share (this platform needs one proxy per node: set http.proxiesPerNode to 1).',
    );
  return fd;
}

/** The app whose route prefix is the longest match of `path`. */
export function matchRoute(table: RoutingTable | undefined, path: string): RoutingTable['apps'][number] | undefined {
  let best: RoutingTable['apps'][number] | undefined;
  for (const a of table?.apps ?? []) {
    const p = a.routePrefix;
    if (p === null) continue;
    const hit = p === '/' || path === p || path.startsWith(p + '/');
    if (hit && (!best || p.length > best.routePrefix!.length)) best = a;
  }
  return best;
}

let requestSeq = 0;
/** Request ids: unique per thread, and across threads and hosts by the random prefix. */
const requestPrefix = `${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}-`;

class ServeProxyActor {
  private server: http.Server | undefined;
  private grpc: { close(): Promise<void> } | undefined;
  private readonly routers = new Map<string, Router>();

  constructor(private readonly opts: CompiledStartOptions) {}

  /** Opens the node's sockets (the first proxy) or listens on the first one's (the others). */
  async listen(shared: ListenInfo | undefined): Promise<ListenInfo> {
    await routerHub().routingTable();
    const out: ListenInfo = { httpFd: undefined, httpPort: undefined, grpcFd: undefined, grpcPort: undefined };
    if (this.opts.http.location !== 'Disabled') {
      const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => void this.onRequest(req, res));
      server.keepAliveTimeout = 65_000;
      // `Expect: 100-continue`: a body declared too large is refused before the client sends it.
      server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
        const tooLarge = declaredTooLarge(req, this.opts.http.maxRequestBodyBytes);
        if (tooLarge) return this.fail(res, tooLarge);
        res.writeContinue();
        void this.onRequest(req, res);
      });
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        if (shared?.httpFd !== undefined) server.listen({ fd: shared.httpFd }, resolve);
        else server.listen({ port: this.opts.http.port, host: this.opts.http.host }, resolve);
      });
      server.on('error', (err) => log.error('proxy: HTTP server error', { err }));
      out.httpFd = shared?.httpFd ?? fdOf(server as unknown as { _handle?: { fd?: number } });
      out.httpPort = (server.address() as AddressInfo).port;
    }
    if (this.opts.grpc) {
      const { startGrpcIngress } = await import('./grpc-proxy.js');
      const g = await startGrpcIngress(this.opts.grpc, shared?.grpcFd);
      this.grpc = g;
      out.grpcFd = g.fd;
      out.grpcPort = g.port;
    }
    return out;
  }

  ping(): boolean {
    return true;
  }

  /** Stops accepting; connections close once their requests finish. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeIdleConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await this.grpc?.close();
  }

  private async routerFor(key: string): Promise<Router> {
    let r = this.routers.get(key);
    if (!r) {
      r = await routerHub().router(key);
      this.routers.set(key, r);
    }
    return r;
  }

  /** Made at the first request (its metrics are declared in the proxy's thread). */
  private metrics: ProxyMetrics | undefined;

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    try {
      if (path === '/-/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 7 });
        return void res.end('success');
      }
      const where: RequestRoute = { route: '', application: '' };
      if (!path.startsWith('/-/')) (this.metrics ??= new ProxyMetrics()).track(req, res, where);
      const table = await routerHub().routingTable();
      if (path === '/-/routes') {
        const routes: Record<string, string> = {};
        for (const a of table.apps) if (a.routePrefix !== null) routes[a.routePrefix] = a.name;
        const body = Buffer.from(JSON.stringify(routes));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        return void res.end(body);
      }
      const app = matchRoute(table, path);
      if (!app) {
        const routes = table.apps
          .filter((a) => a.routePrefix !== null)
          .map((a) => `${a.routePrefix} (app '${a.name}')`);
        return sendError(
          res,
          404,
          'NotFound',
          `Path '${path}' matches no application. Routes: ${routes.length ? routes.join(', ') : 'none (deploy one with serve.run)'}.`,
        );
      }
      where.route = app.routePrefix ?? '';
      where.application = app.name;
      await this.forward(req, res, url, app);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private async forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: string,
    app: RoutingTable['apps'][number],
  ): Promise<void> {
    const method = req.method ?? 'GET';
    // Cancelled when the client disconnects before its response is complete, or the request times out.
    const cancel = new Cancellation();
    const onClose = () => {
      if (!res.writableFinished)
        cancel.cancel(new RequestCancelledError('the client disconnected before its response was complete'));
    };
    res.on('close', onClose);
    const timeoutS = this.opts.http.requestTimeoutS;
    const timer =
      timeoutS !== undefined
        ? setTimeout(
            () =>
              cancel.cancel(new RequestTimeoutError(`Request timed out after ${timeoutS} s (http.requestTimeoutS).`)),
            timeoutS * 1000,
          )
        : undefined;
    try {
      const router = await this.routerFor(app.ingress);
      // Shed before reading the body: a refused request costs no buffering.
      router.checkCapacity();
      let body: Uint8Array | undefined;
      if (method !== 'GET' && method !== 'HEAD')
        body = await raceCancel(readBody(req, this.opts.http.maxRequestBodyBytes), cancel);
      cancel.throwIfCancelled();
      const headers: [string, string][] = [];
      const raw = req.rawHeaders;
      let modelId = '';
      for (let i = 0; i < raw.length; i += 2) {
        const k = raw[i].toLowerCase();
        if (HOP_BY_HOP.has(k)) continue;
        if (k === MODEL_HEADER) modelId = raw[i + 1];
        headers.push([raw[i], raw[i + 1]]);
      }
      const wire: WireRequest = { method, url: `http://${req.headers.host ?? 'localhost'}${url}`, headers, body };
      const assigned = router.assign(
        {
          kind: 'http',
          request: wire,
          modelId,
          requestId: `${requestPrefix}${(requestSeq++).toString(36)}`,
          route: app.routePrefix ?? '',
        },
        { retryOnDeath: IDEMPOTENT.has(method), cancel },
      );
      const a = await abortable(assigned, cancel);
      if (!('http' in a.reply)) throw new Error('The ingress replica answered an HTTP request with a handle reply.');
      const h = a.reply.http;
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of h.headers) {
        const lk = k.toLowerCase();
        if (lk === 'content-length' || lk === 'transfer-encoding' || lk === 'connection') continue;
        const prev = out[lk];
        out[lk] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      if (!h.stream) {
        a.release();
        const data = h.chunks.length === 1 ? h.chunks[0] : Buffer.concat(h.chunks);
        out['content-length'] = String(data.byteLength);
        res.writeHead(h.status, h.statusText || undefined, out);
        res.end(data);
        return;
      }
      // Streaming: headers and the first chunks now, the rest as the replica makes them and the
      // client takes them; the replica reads ahead a bounded buffer and no more.
      let ended = false;
      try {
        res.writeHead(h.status, h.statusText || undefined, out);
        res.flushHeaders();
        await writeAll(res, h.chunks, cancel);
        for (;;) {
          const c = await raceCancel(get(a.replica.actor.streamNext.remote(h.stream)), cancel);
          if (c.done || c.error) ended = true;
          await writeAll(res, c.items, cancel);
          if (c.error) {
            log.error(`proxy: the response stream of ${app.name} failed: ${c.error.message}`);
            res.destroy();
            return;
          }
          if (c.done) break;
        }
        res.end();
      } finally {
        if (ended) a.release();
        else a.abandon(cancel.reason ? cancelWhy(cancel) : 'the proxy stopped writing the response');
      }
    } finally {
      if (timer) clearTimeout(timer);
      res.off('close', onClose);
    }
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    const e = err as Error;
    if (err instanceof RequestCancelledError) return void res.destroy(); // no one is listening
    if (err instanceof RequestBodyTooLargeError) {
      // The rest of the body is not kept: the connection closes once the client has the answer.
      closeLingering(res, serveConfig.lingeringCloseMs);
      return sendError(res, 413, e.name, e.message, { connection: 'close' });
    }
    if (err instanceof BackPressureError) {
      return sendError(res, 503, e.name, e.message, { 'retry-after': String(serveConfig.backPressureRetryAfterS) });
    }
    if (err instanceof RequestTimeoutError) return sendError(res, 408, e.name, e.message);
    if (err instanceof ReplicaDiedError) return sendError(res, 502, e.name, e.message);
    if (err instanceof ServeNotRunningError) return sendError(res, 503, e.name, e.message);
    if (err instanceof TaskError) return sendError(res, 500, e.name, e.message.split('\n')[0]);
    log.error('proxy: request failed', { err });
    sendError(res, 500, e?.name ?? 'Error', e?.message ?? String(err));
  }
}

/** @internal The proxy actor class. */
export const ServeProxy = remote(ServeProxyActor);
