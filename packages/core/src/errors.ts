/**
 * The ray-ts error tree. Every failure the runtime reports is a {@link RayError}; each class
 * carries the ids it is about and crosses thread and process boundaries intact (see
 * {@link errorToWire} / {@link errorFromWire}), remote stack trace included.
 */

/** Ids an error can be about. All optional: each class fills the ones it knows. */
export interface ErrorIds {
  readonly taskId?: string;
  readonly actorId?: string;
  readonly objectId?: string;
  readonly nodeId?: string;
  readonly workerId?: string;
}

/** Thrown for every failure reported by ray-ts; catch this to catch them all. */
export class RayError extends Error {
  override readonly name: string = 'RayError';
  declare readonly taskId?: string;
  declare readonly actorId?: string;
  declare readonly objectId?: string;
  declare readonly nodeId?: string;
  declare readonly workerId?: string;

  constructor(message: string, options: ErrorIds & { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    for (const key of ['taskId', 'actorId', 'objectId', 'nodeId', 'workerId'] as const) {
      if (options[key] !== undefined) Object.defineProperty(this, key, { value: options[key], enumerable: true });
    }
  }
}

/**
 * Thrown by `get` when a task or actor method threw. `cause` is the original error (its class
 * name, message and properties), and the message includes the remote stack trace.
 */
export class TaskError extends RayError {
  override readonly name: string = 'TaskError';
  /** The name of the function or `Class.method` that failed. */
  readonly functionName: string;
  /** The stack trace captured where the error was thrown, in the worker. */
  readonly remoteStack: string;

  constructor(functionName: string, cause: unknown, remoteStack: string, ids: ErrorIds = {}, message?: string) {
    const causeText = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      message ??
        `Task '${functionName}'${ids.taskId ? ` (${ids.taskId})` : ''} failed: ${causeText}\n\nRemote stack:\n${remoteStack}`,
      { ...ids, cause },
    );
    this.functionName = functionName;
    this.remoteStack = remoteStack;
  }
}

/** Thrown when an actor died (its worker crashed, it was killed, or its constructor threw). */
export class ActorDiedError extends RayError {
  override readonly name: string = 'ActorDiedError';
}

/** Thrown by `get` (and `wait` users) when the result was not ready within `timeoutMs`. */
export class GetTimeoutError extends RayError {
  override readonly name: string = 'GetTimeoutError';
}

/** Thrown by `get` for the result of a task that was cancelled with `cancel()`. */
export class TaskCancelledError extends RayError {
  override readonly name: string = 'TaskCancelledError';
}

/** Thrown when an object's value is gone (freed, or lost with its node) and cannot be rebuilt. */
export class ObjectLostError extends RayError {
  override readonly name: string = 'ObjectLostError';
}

/**
 * Thrown by `put` (and by `get` of an object that could not be stored: a worker's `put`, a task's
 * result) when the object store is full and no room could be made: spilling to the spill
 * directory failed (it is full, or the disk fails: the message names the directory and the
 * system's error). The objects already stored stay intact. Free space there, point
 * `spillDirectory` at a larger disk, drop refs to objects no longer needed, or raise
 * `objectStoreMemory`. (Ray's `ObjectStoreFullError` / `OutOfDiskError`.)
 */
export class ObjectStoreFullError extends RayError {
  override readonly name: string = 'ObjectStoreFullError';
}

/** Thrown when a task's worker ran out of heap memory; the node lives on. */
export class OutOfMemoryError extends RayError {
  override readonly name: string = 'OutOfMemoryError';
}

/** Thrown when a task's worker thread or process exited while running it (and retries ran out). */
export class WorkerCrashedError extends RayError {
  override readonly name: string = 'WorkerCrashedError';
}

/** Thrown when the node running a task died (missed heartbeats, or left) and no retries were left. */
export class NodeDiedError extends RayError {
  override readonly name: string = 'NodeDiedError';
}

/** Thrown when a task or actor asks for resources that no node in the cluster has. */
export class UnschedulableError extends RayError {
  override readonly name: string = 'UnschedulableError';
  /** The resources asked for, e.g. `{ CPU: 64 }`. */
  readonly requested: Readonly<Record<string, number>>;

  constructor(message: string, requested: Readonly<Record<string, number>>, ids: ErrorIds = {}) {
    super(message, ids);
    this.requested = requested;
  }
}

/** Thrown at the call when options or arguments are invalid (bad value, unknown option name). */
export class InvalidArgumentError extends RayError {
  override readonly name: string = 'InvalidArgumentError';
}

/**
 * Thrown when a user metric (`Counter`, `Gauge`, `Histogram`) is declared or recorded wrongly: a
 * name Prometheus refuses, bad histogram boundaries, a tag key it was not declared with, or a
 * declared tag given no value (Ray's `ray.util.metrics` raises ValueError for the same).
 */
export class MetricsError extends InvalidArgumentError {
  override readonly name: string = 'MetricsError';
}

/** Thrown when a value cannot be serialized (functions, symbols, class instances with native state). */
export class SerializationError extends RayError {
  override readonly name: string = 'SerializationError';
}

/**
 * Thrown when bytes that came from another process or node cannot be decoded into a value: they
 * are truncated, corrupt, or nested deeper than V8 can read back (its stack overflows). Reading
 * the object again does not help; make it again, or look for what corrupts the bytes in transit.
 */
export class DeserializationError extends SerializationError {
  override readonly name: string = 'DeserializationError';
}

/**
 * Thrown when a worker cannot load a remote function or class: its module failed to import,
 * or a function sent by value refers to variables defined outside it.
 */
export class RemoteCodeError extends RayError {
  override readonly name: string = 'RemoteCodeError';
}

/**
 * Thrown when work's runtime environment cannot be set up on the node that runs it (Ray's
 * `RuntimeEnvSetupError`): its working directory or modules package is not in the cluster, or
 * could not be unpacked there. The message names the package and what to do.
 */
export class RuntimeEnvSetupError extends RemoteCodeError {
  override readonly name: string = 'RuntimeEnvSetupError';
}

/** Thrown by API calls that need a running cluster when `init()` was not called (or `shutdown()` was). */
export class NotInitializedError extends RayError {
  override readonly name: string = 'NotInitializedError';
}

/**
 * A collective operation waited longer than its `timeoutMs` for other members: one died, is
 * stuck, or called the group's operations in a different order. The message names the members
 * it waited for.
 */
export class CollectiveTimeoutError extends RayError {
  override readonly name: string = 'CollectiveTimeoutError';
}

/** Thrown by `ActorPool.getNext()` when no submission is left to take a result from (Ray's StopIteration). */
export class PoolEmptyError extends RayError {
  override readonly name: string = 'PoolEmptyError';
}

/** Thrown by `Queue.get` on an empty queue when it may not wait (or waited out its timeout): Ray's `Empty`. */
export class QueueEmptyError extends RayError {
  override readonly name: string = 'QueueEmptyError';
}

/** Thrown by `Queue.put` on a full queue when it may not wait (or waited out its timeout): Ray's `Full`. */
export class QueueFullError extends RayError {
  override readonly name: string = 'QueueFullError';
}

/**
 * Thrown when the GCS cannot promise a write (a KV put, a named actor, a job) because the store
 * that keeps its tables, Redis, has not taken it: Redis is unreachable and the head's queue of
 * writes is full (the write changed nothing), or the write waited longer than `gcsWriteWaitMs`
 * (it stays queued and may still land), or the head is stopping. The message names Redis and its
 * address: start Redis again (or fix it), then retry.
 */
export class GcsUnavailableError extends RayError {
  override readonly name: string = 'GcsUnavailableError';
}

/** Internal: unwinds an actor method that called exitActor() (its caller sees ActorDiedError). */
export class ActorExitSignal extends RayError {
  override readonly name: string = 'ActorExitSignal';
  constructor() {
    super('The actor called exitActor().');
  }
}

/** Internal: a pull broke because its node stopped answering (it may have died). */
export class PeerUnreachableError extends RayError {
  override readonly name: string = 'PeerUnreachableError';
  constructor(
    readonly node: string,
    message: string,
  ) {
    super(message, { nodeId: node });
  }
}

/**
 * Thrown when a cluster refuses this process's token, or when a token cannot be found or made:
 * `init({ address })`, `ray-ts start --address`, the state API and the CLI throw it at once
 * (never a retry loop). The message says what to set (`RAY_TS_AUTH_TOKEN`, or
 * `RAY_TS_AUTH_MODE=disabled` for a cluster without authentication), never the token itself.
 */
export class AuthenticationError extends RayError {
  override readonly name: string = 'AuthenticationError';
}

/**
 * Thrown when TLS (`RAY_TS_USE_TLS`, docs/security.md) cannot be set up or a connection's TLS
 * fails: a variable missing, a certificate or key file missing, unreadable or not PEM; a cluster
 * that uses TLS joined without it (or the other way round); a certificate the other side does
 * not trust. Thrown at once by `init({ address })`, `ray-ts start` and the state API, naming the
 * variable and file to fix. An {@link AuthenticationError}: a process that cannot prove it holds a
 * certificate of the cluster's CA is not let in.
 */
export class TlsError extends AuthenticationError {
  override readonly name: string = 'TlsError';
}

/** Internal: a request to the job API that is answered with an HTTP error status. */
export class HttpError extends RayError {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Thrown when a log asked for is not there: no such file in the node's log directory, or no
 * lines of the actor, task, worker or job named (on the nodes asked). `ray-ts logs` (with no
 * argument) lists the files there are.
 */
export class LogNotFoundError extends RayError {
  override readonly name: string = 'LogNotFoundError';
}

/** Thrown when a log file name is not a plain name in a node's log directory (a path, `..`). */
export class LogPathError extends InvalidArgumentError {
  override readonly name: string = 'LogPathError';
}

/**
 * Thrown by the cluster launcher (`ray-ts up|down|exec|submit` with an ssh provider) when a host
 * cannot be reached or logged in to, or a setup or start command fails there: names the host,
 * the command, its exit code and the end of its output.
 */
export class ClusterLaunchError extends RayError {
  override readonly name: string = 'ClusterLaunchError';
}

const errorClasses: Record<string, new (...args: never[]) => RayError> = {
  CollectiveTimeoutError,
  PoolEmptyError,
  QueueEmptyError,
  QueueFullError,
  GcsUnavailableError,
  RayError,
  TaskError,
  ActorDiedError,
  GetTimeoutError,
  TaskCancelledError,
  ObjectLostError,
  ObjectStoreFullError,
  OutOfMemoryError,
  WorkerCrashedError,
  NodeDiedError,
  UnschedulableError,
  InvalidArgumentError,
  MetricsError,
  SerializationError,
  DeserializationError,
  RemoteCodeError,
  RuntimeEnvSetupError,
  NotInitializedError,
  AuthenticationError,
  TlsError,
  LogNotFoundError,
  LogPathError,
  ClusterLaunchError,
};

const builtinErrors: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** The plain-data form of an error, as it crosses threads and processes. */
export interface WireError {
  name: string;
  message: string;
  stack: string;
  /** Own enumerable properties of the error that survive structured cloning. */
  props: Record<string, unknown>;
  cause?: WireError | { value: unknown };
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Converts any thrown value to plain data that survives `postMessage` and `v8.serialize`. */
export function errorToWire(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) {
    return {
      name: 'Error',
      message: typeof err === 'string' ? err : `Non-error value thrown: ${safeString(err)}`,
      stack: '',
      props: {},
      ...(cloneable(err) ? { cause: { value: err } } : {}),
    };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    if (key === 'cause' || key === 'name') continue;
    const v = (err as unknown as Record<string, unknown>)[key];
    if (cloneable(v)) props[key] = v;
  }
  const wire: WireError = {
    name: err.name,
    message: err.message,
    stack: err.stack ?? `${err.name}: ${err.message}`,
    props,
  };
  if (err.cause !== undefined && depth < 8) wire.cause = errorToWire(err.cause, depth + 1);
  return wire;
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  } catch {
    return String(v);
  }
}

/** Rebuilds an error from {@link errorToWire}'s output, as an instance of the same class where known. */
export function errorFromWire(wire: WireError): Error {
  let cause: unknown;
  if (wire.cause) cause = 'value' in wire.cause ? wire.cause.value : errorFromWire(wire.cause);
  const RayClass = errorClasses[wire.name];
  let err: Error;
  if (RayClass) {
    err = Object.create(RayClass.prototype) as Error;
    Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true });
  } else {
    const Builtin = builtinErrors[wire.name] ?? Error;
    err = new Builtin(wire.message);
    if (!builtinErrors[wire.name]) {
      Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true, enumerable: false });
    }
  }
  for (const [k, v] of Object.entries(wire.props)) {
    Object.defineProperty(err, k, { value: v, writable: true, configurable: true, enumerable: true });
  }
  if (RayClass) {
    Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true, enumerable: false });
  }
  if (cause !== undefined) {
    Object.defineProperty(err, 'cause', { value: cause, writable: true, configurable: true });
  }
  Object.defineProperty(err, 'stack', { value: wire.stack, writable: true, configurable: true });
  return err;
}
