/**
 * The gRPC ingress of a proxy thread (Ray Serve's gRPC proxy). Every service of
 * `grpc.protoFiles` (or those named in `grpc.services`) is served by a `@grpc/grpc-js` server fed
 * through a connection injector: the node's first proxy opens the listening socket, the others
 * accept on its file descriptor, so connections spread over every proxy thread on one port.
 *
 * A call goes to the application named by its `application` metadata (the only running one when
 * absent) and becomes a call of the ingress deployment's method of the same name as the RPC,
 * with `(request, { metadata })`: a unary RPC gets the method's return value as its response, a
 * server-streaming RPC streams what the method yields (make it an `async *` generator). The
 * `multiplexed_model_id` metadata picks the model (see `multiplexed()`), `request_id` names the
 * request (one is made up otherwise); the request id comes back in the trailing metadata.
 * Client-streaming and bidirectional RPCs answer UNIMPLEMENTED: a deployment call takes one
 * request message.
 *
 * Failures map to gRPC status codes: no such application NOT_FOUND (the message lists the running
 * ones), no such method on the deployment UNIMPLEMENTED, overload RESOURCE_EXHAUSTED, Serve not
 * running or a replica that died UNAVAILABLE, the client's deadline DEADLINE_EXCEEDED (it also
 * stops the wait for a free replica), an error thrown by the method INTERNAL with its message.
 *
 * @example
 * // greeter.proto: service UserDefinedService { rpc SayHello(HelloRequest) returns (HelloReply); }
 * const Greeter = serve.deployment()(class Greeter {
 *   async SayHello(request: { name: string }) { return { message: `Hello, ${request.name}!` }; }
 * });
 * await serve.start({ grpc: { port: 9000, protoFiles: ['greeter.proto'] } });
 * await serve.run(Greeter.bind(), { name: 'greeter', routePrefix: null });
 */
import net from 'node:net';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { getLogger, ActorDiedError, TaskError, get } from '@ray-ts/core';
import {
  BackPressureError,
  ReplicaDiedError,
  RequestTimeoutError,
  ServeInvalidArgumentError,
  ServeNotRunningError,
} from './errors.js';
import type { CompiledStartOptions } from './options.js';
import type { Assignment } from './router.js';
import { Cancellation, cancelWhy, drained, raceCancel } from './cancellation.js';
import { abortable, routerHub } from './router.js';
import type { RoutingTable } from './wire.js';

const log = getLogger('ray-ts.serve');

type GrpcOptions = NonNullable<CompiledStartOptions['grpc']>;
type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;
type Status = { code: grpc.status; details: string };

/** What a running gRPC ingress gives its proxy. */
export interface GrpcIngress {
  /** The listening socket's file descriptor, for the node's other proxies. */
  fd: number;
  port: number;
  /** Stops accepting, lets calls in flight finish for a moment, then closes every connection. */
  close(): Promise<void>;
}

const APP_KEY = 'application';
const MODEL_KEY = 'multiplexed_model_id';
const REQUEST_ID_KEY = 'request_id';
const SHUTDOWN_GRACE_MS = 2_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A call that ends with a given status (an abort reason, or a routing failure). */
class CallFailed extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** The services the ingress serves, by fully qualified name. */
async function loadServices(opts: GrpcOptions): Promise<Map<string, grpc.ServiceDefinition>> {
  const files = opts.protoFiles.map((f) => path.resolve(f));
  let def: protoLoader.PackageDefinition;
  try {
    def = await protoLoader.load(files, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: opts.includeDirs.map((d) => path.resolve(d)),
    });
  } catch (err) {
    throw new ServeInvalidArgumentError(
      `serve.start(): cannot load grpc.protoFiles ${JSON.stringify(opts.protoFiles)}: ${(err as Error)?.message ?? String(err)}. ` +
        'Check the paths (absolute, or relative to the working directory) and grpc.includeDirs for imports.',
    );
  }
  const all = new Map<string, grpc.ServiceDefinition>();
  for (const [name, d] of Object.entries(def)) {
    // Messages and enums carry a `format`; services are objects of method definitions.
    if (!('format' in d)) all.set(name, d as unknown as grpc.ServiceDefinition);
  }
  if (all.size === 0)
    throw new ServeInvalidArgumentError(
      `serve.start(): grpc.protoFiles ${JSON.stringify(opts.protoFiles)} define no service.`,
    );
  if (opts.services.length === 0) return all;
  const chosen = new Map<string, grpc.ServiceDefinition>();
  for (const s of opts.services) {
    const d = all.get(s);
    if (!d) {
      throw new ServeInvalidArgumentError(
        `serve.start(): grpc.services names '${s}', which grpc.protoFiles do not define. ` +
          `Defined services (fully qualified): ${[...all.keys()].join(', ')}.`,
      );
    }
    chosen.set(s, d);
  }
  return chosen;
}

/** String metadata as a plain object (binary `-bin` values are left out). */
function plainMetadata(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) if (typeof v === 'string') out[k] = v;
  return out;
}

function pickApp(table: RoutingTable, wanted: string | undefined): RoutingTable['apps'][number] {
  const names = table.apps.map((a) => `'${a.name}'`).join(', ');
  if (wanted) {
    const app = table.apps.find((a) => a.name === wanted);
    if (app) return app;
    throw new CallFailed(
      grpc.status.NOT_FOUND,
      table.apps.length === 0
        ? `Application '${wanted}' is not running: no application is (deploy one with serve.run()).`
        : `Application '${wanted}' is not running. Running applications: ${names}. Set the '${APP_KEY}' metadata to one of them.`,
    );
  }
  if (table.apps.length === 1) return table.apps[0];
  throw new CallFailed(
    grpc.status.NOT_FOUND,
    table.apps.length === 0
      ? 'No application is running: deploy one with serve.run().'
      : `Several applications are running (${names}): name one with the '${APP_KEY}' metadata.`,
  );
}

/** The gRPC status of a failure. */
function toStatus(err: unknown, method: string, app: string | undefined): Status {
  if (err instanceof CallFailed) return { code: err.code, details: err.message };
  if (err instanceof BackPressureError) return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
  if (err instanceof ServeNotRunningError || err instanceof ReplicaDiedError)
    return { code: grpc.status.UNAVAILABLE, details: err.message };
  if (err instanceof ActorDiedError)
    return {
      code: grpc.status.UNAVAILABLE,
      details: `The replica serving '${method}' died: ${err.message.split('\n')[0]}`,
    };
  if (err instanceof RequestTimeoutError) return { code: grpc.status.DEADLINE_EXCEEDED, details: err.message };
  if (err instanceof TaskError) {
    const cause = err.cause as Error | undefined;
    // The cause comes back from the replica as a plain Error that keeps its class's name.
    if (cause?.name === 'DeploymentMethodNotFoundError') {
      return {
        code: grpc.status.UNIMPLEMENTED,
        details:
          `Method '${method}' is not implemented by application '${app ?? '?'}': ${cause.message} ` +
          `Give the ingress deployment's class a method named '${method}', as in the .proto.`,
      };
    }
    const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : err.message;
    return { code: grpc.status.INTERNAL, details: text.split('\n')[0] };
  }
  log.error(`gRPC proxy: ${method} failed`, { err });
  const e = err as Error;
  return { code: grpc.status.INTERNAL, details: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}` };
}

/** Aborts on the call's deadline or when the client goes away; `done()` stops watching. */
function watchCall(call: AnyCall): { cancel: Cancellation; done: () => void } {
  const cancel = new Cancellation();
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : d;
  const left = deadline - Date.now();
  // Beyond setTimeout's range (about 24 days) a deadline is as good as none.
  const timer =
    Number.isFinite(left) && left < MAX_TIMER_MS
      ? setTimeout(
          () =>
            cancel.cancel(
              new CallFailed(
                grpc.status.DEADLINE_EXCEEDED,
                'Deadline exceeded: the call took longer than the deadline its client set.',
              ),
            ),
          Math.max(0, left),
        )
      : undefined;
  const onCancel = () => cancel.cancel(new CallFailed(grpc.status.CANCELLED, 'The client cancelled the call.'));
  call.on('cancelled', onCancel);
  return {
    cancel,
    done: () => {
      if (timer) clearTimeout(timer);
      call.off('cancelled', onCancel);
    },
  };
}

let requestSeq = 0;

/** Routes calls of one method to the ingress deployment of the application they name. */
async function route(
  method: string,
  call: AnyCall,
  stream: boolean,
  cancel: Cancellation,
  seen: { app?: string },
): Promise<{ a: Assignment; trailer: grpc.Metadata }> {
  const metadata = plainMetadata(call.metadata);
  const requestId = metadata[REQUEST_ID_KEY] || `${process.pid}-${threadId}-g${requestSeq++}`;
  const trailer = new grpc.Metadata();
  trailer.set(REQUEST_ID_KEY, requestId);
  const app = pickApp(await routerHub().routingTable(), metadata[APP_KEY]);
  seen.app = app.name;
  cancel.throwIfCancelled();
  const router = await routerHub().router(app.ingress);
  const assigned = router.assign(
    { kind: 'call', method, args: [call.request, { metadata }], modelId: metadata[MODEL_KEY] ?? '', stream, requestId },
    { retryOnDeath: false, cancel },
  );
  return { a: await abortable(assigned, cancel), trailer };
}

function unaryHandler(method: string): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const w = watchCall(call);
    const seen: { app?: string } = {};
    void (async () => {
      try {
        const r = await route(method, call, false, w.cancel, seen);
        r.a.release();
        const value = 'value' in r.a.reply ? r.a.reply.value : undefined;
        if (value === null || typeof value !== 'object') {
          throw new CallFailed(
            grpc.status.INTERNAL,
            `Method '${method}' of application '${seen.app}' returned ${value === null ? 'null' : typeof value}: return the response message as an object.`,
          );
        }
        callback(null, value, r.trailer);
      } catch (err) {
        callback(toStatus(err, method, seen.app));
      } finally {
        w.done();
      }
    })();
  };
}

function serverStreamHandler(method: string): grpc.handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    const w = watchCall(call);
    const seen: { app?: string } = {};
    void (async () => {
      try {
        const { a, trailer } = await route(method, call, true, w.cancel, seen);
        const id = 'stream' in a.reply ? a.reply.stream : undefined;
        if (!id) {
          a.release();
          throw new CallFailed(
            grpc.status.INTERNAL,
            `Method '${method}' of application '${seen.app}' did not stream: make it an async generator (async *${method}()).`,
          );
        }
        await pump(call, a, id, w.cancel);
        call.end(trailer);
      } catch (err) {
        if (!call.writableEnded) call.emit('error', toStatus(err, method, seen.app));
      } finally {
        w.done();
      }
    })();
  };
}

/** Pulls a replica's stream into the call until it ends, fails, or the call is cancelled. */
async function pump(
  call: grpc.ServerWritableStream<unknown, unknown>,
  a: Assignment,
  id: string,
  cancel: Cancellation,
): Promise<void> {
  let ended = false;
  try {
    for (;;) {
      const c = await raceCancel(get(a.replica.actor.streamNext.remote(id)), cancel);
      for (const item of c.items) {
        if (!call.write(item)) await drained(call, cancel).catch(() => undefined);
      }
      if (c.done || c.error) ended = true;
      if (c.error) throw new CallFailed(grpc.status.INTERNAL, `${c.error.name}: ${c.error.message}`.split('\n')[0]);
      if (c.done) return;
      cancel.throwIfCancelled();
    }
  } finally {
    if (ended) a.release();
    else a.abandon(cancel.reason ? cancelWhy(cancel) : 'the gRPC stream failed');
  }
}

function unimplemented(method: string, kind: string): Status {
  return {
    code: grpc.status.UNIMPLEMENTED,
    details: `Method '${method}' is ${kind}: Serve's gRPC ingress serves unary and server-streaming methods only.`,
  };
}

/** Handlers for every method of a service, keyed as the definition keys them. */
function implement(service: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [key, m] of Object.entries(service)) {
    const method = m.path.slice(m.path.lastIndexOf('/') + 1);
    if (m.requestStream) {
      impl[key] = m.responseStream
        ? (call: grpc.ServerDuplexStream<unknown, unknown>) =>
            void call.emit('error', unimplemented(method, 'bidirectional streaming'))
        : (_call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
            callback(unimplemented(method, 'client streaming'));
    } else {
      impl[key] = m.responseStream ? serverStreamHandler(method) : unaryHandler(method);
    }
  }
  return impl;
}

function listenFd(server: net.Server): number {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new Error(
      'The gRPC listening socket has no file descriptor to share (this platform needs one proxy per node: set http.proxiesPerNode to 1).',
    );
  return fd;
}

/**
 * Starts this proxy thread's gRPC ingress: opens `opts.host:opts.port` (port 0: a free port) when
 * `sharedFd` is undefined, else accepts on the listening socket `sharedFd` of the node's first
 * proxy.
 * @throws ServeInvalidArgumentError when the proto files cannot be loaded or `opts.services`
 * names a service they do not define; an Error when the port cannot be opened.
 */
export async function startGrpcIngress(opts: GrpcOptions, sharedFd: number | undefined): Promise<GrpcIngress> {
  const services = await loadServices(opts);
  const server = new grpc.Server();
  for (const s of services.values()) server.addService(s, implement(s));
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<net.Socket>();
  const listener = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    injector.injectConnection(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      if (sharedFd !== undefined) listener.listen({ fd: sharedFd }, resolve);
      else listener.listen({ port: opts.port, host: opts.host }, resolve);
    });
  } catch (err) {
    server.forceShutdown();
    const where = sharedFd !== undefined ? `the shared socket (fd ${sharedFd})` : `${opts.host}:${opts.port}`;
    throw new Error(
      `Serve gRPC proxy: cannot listen on ${where}: ${(err as Error)?.message ?? String(err)}. Choose another grpc.port (0 picks a free one).`,
      { cause: err },
    );
  }
  listener.on('error', (err) => log.error('gRPC proxy: listener error', { err }));
  const fd = sharedFd ?? listenFd(listener);
  const port = (listener.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const s of sockets) s.destroy();
    await stopped;
  };
  return {
    fd,
    port,
    close: () => (closing ??= close()),
  };
}
