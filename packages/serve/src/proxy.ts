/**
 * The HTTP (and gRPC) ingress: a group of proxy actors per node, each on a thread of its own and
 * all accepting on one listening socket (the first opens it; the others listen on its file
 * descriptor, so the kernel spreads connections over every core, unlike Ray Serve's single
 * proxy). A proxy matches the path to an application's route prefix and hands the request to
 * the ingress deployment through its router, then writes the reply, streaming when the body
 * streams. Overload answers 503, a timeout 408, a replica death 502, each with a body that says why.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { threadId } from 'node:worker_threads';
import { TaskError, get, remote } from '@ray-ts/core';
import { BackPressureError, ReplicaDiedError, RequestTimeoutError, ServeNotRunningError } from './errors.js';
import type { CompiledStartOptions } from './options.js';
import { abortable, routerHub, type Router } from './router.js';
import type { RoutingTable, WireRequest } from './wire.js';

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

function plain(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

let requestSeq = 0;

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
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        if (shared?.httpFd !== undefined) server.listen({ fd: shared.httpFd }, resolve);
        else server.listen({ port: this.opts.http.port, host: this.opts.http.host }, resolve);
      });
      server.on('error', (err) => console.error('Serve proxy: HTTP server error:', err));
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

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    try {
      if (path === '/-/healthz') return plain(res, 200, 'success');
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
        return plain(
          res,
          404,
          `Path '${path}' matches no application. Routes: ${routes.length ? routes.join(', ') : 'none (deploy one with serve.run)'}.`,
        );
      }
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
    let body: Uint8Array | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    }
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
    const timeoutS = this.opts.http.requestTimeoutS;
    const ac = timeoutS !== undefined ? new AbortController() : undefined;
    const timer = ac
      ? setTimeout(
          () => ac.abort(new RequestTimeoutError(`Request timed out after ${timeoutS} s (http.requestTimeoutS).`)),
          timeoutS! * 1000,
        )
      : undefined;
    let closed = false;
    res.on('close', () => {
      closed = true;
      if (!res.writableFinished) ac?.abort(new RequestTimeoutError('The client closed the connection.'));
    });
    try {
      const router = await this.routerFor(app.ingress);
      const assigned = router.assign(
        {
          kind: 'http',
          request: wire,
          modelId,
          requestId: `${process.pid}-${threadId}-${requestSeq++}`,
          route: app.routePrefix ?? '',
        },
        { retryOnDeath: IDEMPOTENT.has(method), ...(ac ? { signal: ac.signal } : {}) },
      );
      const a = ac ? await abortable(assigned, ac.signal) : await assigned;
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
      // Streaming: headers and the first chunks now, the rest as the replica makes them.
      res.writeHead(h.status, h.statusText || undefined, out);
      res.flushHeaders();
      for (const c of h.chunks) res.write(c);
      try {
        for (;;) {
          if (closed) {
            void a.replica.actor.streamCancel.remote(h.stream);
            break;
          }
          const c = await get(a.replica.actor.streamNext.remote(h.stream));
          for (const item of c.items) res.write(item as Uint8Array);
          if (c.error) {
            console.error(`Serve proxy: the response stream of ${app.name} failed: ${c.error.message}`);
            res.destroy();
            return;
          }
          if (c.done) break;
        }
        res.end();
      } finally {
        a.release();
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof BackPressureError) return plain(res, 503, `Service Unavailable: ${err.message}`);
    if (err instanceof RequestTimeoutError) return plain(res, 408, err.message);
    if (err instanceof ReplicaDiedError) return plain(res, 502, `Bad Gateway: ${err.message}`);
    if (err instanceof ServeNotRunningError) return plain(res, 503, `Service Unavailable: ${err.message}`);
    if (err instanceof TaskError) return plain(res, 500, `Internal Server Error: ${err.message.split('\n')[0]}`);
    console.error('Serve proxy: request failed:', err);
    const e = err as Error;
    plain(res, 500, `Internal Server Error: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
  }
}

/** @internal The proxy actor class. */
export const ServeProxy = remote(ServeProxyActor);
