/**
 * The controller's proxies: a group of proxy threads on every node (or the head only), which share
 * one HTTP/gRPC socket. A group that stops answering, or whose socket stops accepting, is killed
 * and started again at the next check.
 */
import { getLogger, get, kill, nodes, type ActorHandle, type NodeInfo } from '@ray-ts/core';
import { SERVE_NAMESPACE } from './constants.js';
import type { ServeStatus } from './controller-api.js';
import { describeError } from './deployment-state.js';
import type { CompiledStartOptions } from './options.js';
import { ServeProxy, type ProxyMethods } from './proxy.js';

const log = getLogger('ray-ts.serve');

interface ProxyGroup {
  readonly nodeId: string;
  /** The node's host, to check that its port still accepts. */
  readonly host: string;
  actors: ActorHandle<ProxyMethods>[];
  status: 'STARTING' | 'HEALTHY' | 'UNHEALTHY';
  httpPort: number | undefined;
  grpcPort: number | undefined;
  checking: boolean;
}

/** The proxy groups of the cluster, by node id. */
export class ProxyGroups {
  private readonly groups = new Map<string, ProxyGroup>();
  private stopped = false;

  /** Starts a group on each node that lacks one, drops the groups of dead nodes, checks the healthy ones. */
  async ensure(opts: CompiledStartOptions | undefined): Promise<void> {
    if (!opts || this.stopped) return;
    if (opts.http.location === 'Disabled' && !opts.grpc) return;
    const all = await nodes();
    const alive = all.filter((n) => n.alive && (opts.http.location !== 'HeadOnly' || n.isHead));
    const ids = new Set(alive.map((n) => n.nodeId));
    for (const [id] of this.groups) if (!ids.has(id)) this.groups.delete(id);
    const starts: Promise<void>[] = [];
    for (const n of alive) {
      const g = this.groups.get(n.nodeId);
      if (!g) starts.push(this.startGroup(n, opts));
      else if (g.status === 'HEALTHY' && !g.checking) void this.checkGroup(g, opts);
    }
    await Promise.all(starts);
  }

  status(): ServeStatus['proxies'] {
    const proxies: ServeStatus['proxies'] = {};
    for (const g of this.groups.values()) {
      proxies[g.nodeId] = { status: g.status, httpPort: g.httpPort, grpcPort: g.grpcPort, threads: g.actors.length };
    }
    return proxies;
  }

  /** Stops every proxy (each closes its socket, then is killed); no group starts after it. */
  shutdown(): Promise<void>[] {
    this.stopped = true;
    const stops: Promise<void>[] = [];
    for (const g of this.groups.values()) {
      for (const p of g.actors)
        stops.push(
          get(p.stop.remote(), { timeoutMs: 5000 })
            .catch(() => undefined)
            .then(() => kill(p).catch(() => undefined)),
        );
    }
    return stops;
  }

  /** Forgets all groups (after {@link shutdown}). */
  clear(): void {
    this.groups.clear();
  }

  private async startGroup(n: NodeInfo, opts: CompiledStartOptions): Promise<void> {
    const count = opts.http.proxiesPerNode ?? Math.max(1, Math.floor(n.resources.CPU ?? 1));
    const g: ProxyGroup = {
      nodeId: n.nodeId,
      host: n.address.replace(/:\d+$/, ''),
      actors: [],
      status: 'STARTING',
      httpPort: undefined,
      grpcPort: undefined,
      checking: false,
    };
    this.groups.set(n.nodeId, g);
    const make = () =>
      ServeProxy.options({
        namespace: SERVE_NAMESPACE,
        lifetime: 'detached',
        isolation: 'thread',
        maxConcurrency: 100_000,
        schedulingStrategy: { nodeId: n.nodeId, soft: false },
      }).remote(opts) as unknown as ActorHandle<ProxyMethods>;
    try {
      const first = make();
      g.actors.push(first);
      const info = await get(first.listen.remote(undefined));
      const rest = Array.from({ length: count - 1 }, make);
      g.actors.push(...rest);
      await get(rest.map((p) => p.listen.remote(info)));
      g.httpPort = info.httpPort;
      g.grpcPort = info.grpcPort;
      g.status = 'HEALTHY';
    } catch (err) {
      log.error(`the proxies on node ${n.nodeId} failed to start: ${describeError(err)}`);
      g.status = 'UNHEALTHY';
      for (const p of g.actors) void kill(p).catch(() => undefined);
      if (this.groups.get(n.nodeId) === g) this.groups.delete(n.nodeId);
      throw err;
    }
  }

  private async checkGroup(g: ProxyGroup, opts: CompiledStartOptions): Promise<void> {
    g.checking = true;
    try {
      await get(
        g.actors.map((p) => p.ping.remote()),
        { timeoutMs: 10_000 },
      );
      // The threads share one socket: one that died closed it for all. Check that it still accepts.
      const url = healthUrl(g, opts);
      if (url) {
        const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
        await r.arrayBuffer();
      }
    } catch (err) {
      log.warn(`a proxy on node ${g.nodeId} stopped answering (${describeError(err)}); restarting the node's proxies.`);
      g.status = 'UNHEALTHY';
      for (const p of g.actors) void kill(p).catch(() => undefined);
      if (this.groups.get(g.nodeId) === g) this.groups.delete(g.nodeId);
    } finally {
      g.checking = false;
    }
  }
}

/** The URL of a group's HTTP health route, when this process can reach it. */
function healthUrl(g: ProxyGroup, o: CompiledStartOptions): string | undefined {
  if (o.http.location === 'Disabled' || g.httpPort === undefined) return undefined;
  const wildcard = o.http.host === '0.0.0.0' || o.http.host === '::';
  // A loopback bind on another machine cannot be reached from here.
  if (!wildcard && o.http.host !== g.host && !(g.host === '127.0.0.1' || g.host === 'localhost')) return undefined;
  const host = wildcard ? g.host : o.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${g.httpPort}/-/healthz`;
}
