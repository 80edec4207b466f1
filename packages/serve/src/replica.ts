/**
 * The replica actor: builds the user's object, serves handle calls and HTTP requests on it
 * (rejecting beyond `maxOngoingRequests`, so routers pick another replica), streams responses
 * chunk by chunk, and answers the controller's health checks, metrics, reconfigure and drain.
 */
import { getLogger, getRuntimeContext, remote } from '@ray-ts/core';
import { serveDirect } from './direct.js';
import { ReplicaMetrics } from './replica-metrics.js';
import { Cancellation, cancelWhy } from './cancellation.js';
import { serveConfig } from './constants.js';
import { clearReplicaContext, requestStore, setReplicaContext, type ReplicaContext } from './context.js';
import { DeploymentMethodNotFoundError, RequestCancelledError, ServeInvalidArgumentError } from './errors.js';
import { createHandle } from './handle.js';
import { captureModelCaches, loadedModelIds } from './multiplex.js';
import { wholeBody } from './http-io.js';
import { ReplicaStream } from './replica-stream.js';
import {
  HANDLE_MARK,
  type ReplicaReply,
  type ReplicaRequest,
  type ReplicaSpec,
  type StreamChunk,
  type WireRequest,
  type WireResponse,
} from './wire.js';

const log = getLogger('ray-ts.serve');

type AnyObject = Record<string, unknown>;

/** Puts a live handle wherever `bind()` got a bound deployment. */
function withHandles(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withHandles);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const mark = (v as AnyObject)[HANDLE_MARK] as { app: string; deployment: string } | undefined;
    if (mark) return createHandle(mark.app, mark.deployment);
    const out: AnyObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = withHandles(x);
    return out;
  }
  return v;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v != null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** An error Serve answers itself, as the proxy's are: `{"error": name, "message": text}`. */
function errorResponse(status: number, error: string, message: string): WireResponse {
  return {
    status,
    statusText: '',
    headers: [['content-type', 'application/json']],
    chunks: [new TextEncoder().encode(JSON.stringify({ error, message }))],
    stream: undefined,
  };
}

/** What a fetch handler may return besides a Response: text, bytes, or a JSON value (as Ray Serve allows). */
function toResponse(v: unknown): Response {
  if (v instanceof Response) return v;
  if (typeof v === 'string') return new Response(v, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  if (v instanceof Uint8Array) return new Response(v, { headers: { 'content-type': 'application/octet-stream' } });
  return Response.json(v ?? null);
}

let nextStream = 0;

const kCancel = Symbol('cancellation');

/**
 * The Request a fetch handler gets: the standard one, whose `signal` aborts when the request is
 * cancelled (its client left, or it timed out). The signal is made when the handler first reads
 * it: passing one to `new Request()` costs each request tens of µs (Node 20), and most never
 * look. A copy (`request.clone()`, `new Request(request)`) does not follow it.
 */
class ServeRequest extends Request {
  readonly [kCancel]: Cancellation;
  constructor(url: string, init: RequestInit, cancel: Cancellation) {
    super(url, init);
    this[kCancel] = cancel;
  }
}
// TypeScript types `signal` as a data property (an accessor may not override it in a class body).
Object.defineProperty(ServeRequest.prototype, 'signal', {
  configurable: true,
  get(this: ServeRequest): AbortSignal {
    return this[kCancel].signal;
  },
});

class ServeReplicaActor {
  private user: AnyObject | undefined;
  private fn: ((...args: unknown[]) => unknown) | undefined;
  private ongoing = 0;
  /** Made at the first request (its metrics are declared in the replica's thread). */
  private promMetrics: ReplicaMetrics | undefined;
  private lastActivity = Date.now();
  private readonly streams = new Map<string, ReplicaStream>();
  private caches = new Set<Map<string, Promise<unknown>>>();
  private context: ReplicaContext | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Requests running (or streaming) here, by call id: cancelRequest() aborts their signal. */
  private readonly running = new Map<string, Cancellation>();
  /** Stops taking requests from routers in this process (direct.ts). */
  private stopDirect: (() => void) | undefined;

  constructor(private readonly spec: ReplicaSpec) {}

  /** Builds the user's object (imports its module the first time); the controller waits for it. */
  async initialize(): Promise<{ nodeId: string }> {
    const target = (await this.spec.cls.resolve()) as unknown as new (...a: unknown[]) => AnyObject;
    const args = this.spec.initArgs.map(withHandles);
    if (this.spec.isFunction) {
      this.fn = target as unknown as (...args: unknown[]) => unknown;
    } else {
      const built = await captureModelCaches(async () => {
        const obj = new target(...args);
        if (this.spec.userConfig !== undefined) await this.applyUserConfig(obj, this.spec.userConfig);
        return obj;
      });
      this.user = built.value;
      this.caches = built.caches;
    }
    this.context = {
      appName: this.spec.app,
      deployment: this.spec.deployment,
      replicaId: this.spec.replicaId,
      servableObject: this.user ?? this.fn,
    };
    setReplicaContext(this.context);
    if (serveConfig.direct)
      this.stopDirect = serveDirect(this.spec.replicaId, (req, callId) => this.handle(req, callId));
    return { nodeId: getRuntimeContext().nodeId };
  }

  private async applyUserConfig(obj: AnyObject, config: unknown): Promise<void> {
    if (typeof obj.reconfigure !== 'function') {
      throw new ServeInvalidArgumentError(
        `Deployment '${this.spec.deployment}' has a userConfig but its class has no reconfigure(userConfig) method to receive it.`,
      );
    }
    await (obj.reconfigure as (c: unknown) => unknown).call(obj, config);
  }

  /** Serves one request, or rejects it at once when the replica is full. */
  async handle(req: ReplicaRequest, callId: string): Promise<ReplicaReply> {
    if (this.ongoing >= this.spec.maxOngoingRequests) return { rejected: true };
    this.ongoing++;
    this.lastActivity = Date.now();
    const cancel = new Cancellation();
    this.running.set(callId, cancel);
    this.promMetrics ??= new ReplicaMetrics({
      deployment: this.spec.deployment,
      replica: this.spec.replicaId,
      application: this.spec.app,
    });
    const recordEnd = this.promMetrics.started(req.kind === 'http' ? req.route : '', this.ongoing);
    let failed = false;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.running.delete(callId);
      this.ongoing--;
      this.lastActivity = Date.now();
      recordEnd(failed, this.ongoing);
      if (this.ongoing === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    let streaming = false;
    try {
      const reply = await requestStore.run(
        { requestId: req.requestId, multiplexedModelId: req.modelId, route: req.kind === 'http' ? req.route : '' },
        async () =>
          req.kind === 'http'
            ? this.serveHttp(req.request, end, cancel)
            : this.serveCall(req.method, req.args, req.stream, end, cancel),
      );
      streaming =
        ('stream' in reply && reply.stream !== undefined) || ('http' in reply && reply.http.stream !== undefined);
      // A handler's exception reaches an HTTP client as a 500 reply, not as a throw.
      if ('http' in reply && reply.http.status >= 500) failed = true;
      return reply;
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // A stream ends the request itself, with its last chunk.
      if (!streaming) end();
    }
  }

  private async serveCall(
    method: string,
    args: unknown[],
    stream: boolean,
    end: () => void,
    cancel: Cancellation,
  ): Promise<ReplicaReply> {
    let f: ((...a: unknown[]) => unknown) | undefined;
    let self: unknown;
    if (this.fn) {
      f = this.fn;
    } else {
      f = this.user![method] as typeof f;
      self = this.user;
      if (typeof f !== 'function') {
        throw new DeploymentMethodNotFoundError(
          `Deployment '${this.spec.deployment}' has no method '${method}'` +
            (method === '__call__'
              ? ': handle.remote() calls __call__; call handle.<method>.remote() instead, or define __call__.'
              : '.'),
          this.spec.deployment,
          method,
        );
      }
    }
    const result = await f.apply(self, args);
    if (stream) {
      if (
        !isAsyncIterable(result) &&
        !(result != null && typeof (result as Iterable<unknown>)[Symbol.iterator] === 'function')
      ) {
        throw new ServeInvalidArgumentError(
          `'${method}' was called as a stream (handle.options({ stream: true }) or a server-streaming RPC) but returned ` +
            `${result === null ? 'null' : typeof result}, not a generator: make it an async generator (async *${method}()).`,
        );
      }
      const source = isAsyncIterable(result)
        ? result
        : (async function* () {
            yield* result as Iterable<unknown>;
          })();
      const id = `s${nextStream++}`;
      this.streams.set(id, new ReplicaStream(source, end, cancel));
      return { value: undefined, stream: id };
    }
    return { value: result };
  }

  private async serveHttp(r: WireRequest, end: () => void, cancel: Cancellation): Promise<ReplicaReply> {
    let response: Response;
    try {
      const hasBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
      // request.signal aborts when the client disconnects or the request times out (cancelRequest).
      const request = new ServeRequest(
        r.url,
        { method: r.method, headers: r.headers, ...(hasBody ? { body: r.body } : {}) },
        cancel,
      );
      const target = this.fn ?? this.user!.fetch;
      if (typeof target !== 'function') {
        return {
          http: errorResponse(
            500,
            'DeploymentMethodNotFoundError',
            `Deployment '${this.spec.deployment}' cannot serve HTTP: its class has no fetch(request) method.`,
          ),
        };
      }
      response = toResponse(await (target as (req: Request) => unknown).call(this.fn ? undefined : this.user, request));
    } catch (err) {
      const e = err as Error;
      // A handler that stopped because its request was cancelled did what it was asked: no one is
      // waiting for the answer (499 is what access logs call a request its client closed).
      if (cancel.reason) return { http: errorResponse(499, 'RequestCancelledError', cancelWhy(cancel)) };
      log.error(`${this.spec.app}/${this.spec.deployment} failed on ${r.method} ${r.url}`, { err });
      return { http: errorResponse(500, e?.name ?? 'Error', e?.message ?? String(err)) };
    }
    const headers: [string, string][] = [];
    response.headers.forEach((v, k) => headers.push([k, v]));
    const head = { status: response.status, statusText: response.statusText, headers };
    const whole = wholeBody(response);
    if (whole) return { http: { ...head, chunks: whole, stream: undefined } };
    if (!response.body) return { http: { ...head, chunks: [], stream: undefined } };
    const s = new ReplicaStream(response.body as unknown as AsyncIterable<unknown>, end, cancel);
    // A body that is all there (text, JSON) goes back whole; one still being written streams.
    await s.ready();
    if (!s.done) await new Promise<void>((r) => setImmediate(r));
    if (s.done) {
      const c = s.take();
      if (c.error) return { http: errorResponse(500, c.error.name, `The response body failed: ${c.error.message}`) };
      return { http: { ...head, chunks: c.items as Uint8Array[], stream: undefined } };
    }
    const id = `s${nextStream++}`;
    this.streams.set(id, s);
    return { http: { ...head, chunks: s.take().items as Uint8Array[], stream: id } };
  }

  /** The next chunks of a streaming response (waits for at least one, or the end). */
  async streamNext(id: string): Promise<StreamChunk> {
    const s = this.streams.get(id);
    if (!s)
      return { items: [], done: true, error: { name: 'ServeInvalidArgumentError', message: `Unknown stream ${id}` } };
    await s.ready();
    const c = s.take();
    if (c.done) this.streams.delete(id);
    return c;
  }

  /** The caller went away: stop producing. */
  streamCancel(id: string, why = 'the caller stopped reading the stream'): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.streams.delete(id);
    s.cancel(this.cancelled(why));
  }

  /** The caller gave up on a request still running here: its `request.signal` aborts. */
  cancelRequest(callId: string, why: string): void {
    this.running.get(callId)?.cancel(this.cancelled(why));
  }

  private cancelled(why: string): RequestCancelledError {
    return new RequestCancelledError(
      `A request to deployment '${this.spec.deployment}' of app '${this.spec.app}' was cancelled: ${why.replace(/\.$/, '')}.`,
    );
  }

  /** Runs the user's checkHealth() when it has one; a throw marks the replica unhealthy. */
  async checkHealth(): Promise<void> {
    const f = this.user?.checkHealth;
    if (typeof f === 'function') await (f as () => unknown).call(this.user);
  }

  /** Delivers a new userConfig without a restart. */
  async reconfigure(userConfig: unknown): Promise<void> {
    if (this.user) await this.applyUserConfig(this.user, userConfig);
  }

  /** Ongoing requests and loaded models, for autoscaling and model-aware routing. */
  metrics(): { ongoing: number; models: string[] } {
    return { ongoing: this.ongoing, models: loadedModelIds(this.caches) };
  }

  /**
   * Waits until the replica is idle: no request for `waitLoopS` seconds (late ones from routers
   * that had not heard of the stop yet are still served), at most `timeoutS`.
   */
  async drain(timeoutS: number, waitLoopS: number): Promise<void> {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const now = Date.now();
      if (now >= deadline) break;
      if (this.ongoing === 0) {
        const quiet = now - this.lastActivity;
        if (quiet >= waitLoopS * 1000) break;
        await new Promise((r) => setTimeout(r, Math.min(waitLoopS * 1000 - quiet, deadline - now) + 1));
        continue;
      }
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise((r) => setTimeout(r, deadline - now)),
      ]);
    }
    const del = (this.user as { destroy?: () => unknown } | undefined)?.destroy;
    if (typeof del === 'function') await Promise.resolve(del.call(this.user)).catch(() => undefined);
    if (this.context) clearReplicaContext(this.context);
    this.stopDirect?.();
  }
}

/** @internal The replica actor class. */
export const ServeReplica = remote(ServeReplicaActor);
