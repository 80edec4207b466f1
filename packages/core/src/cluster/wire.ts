/**
 * Conversions between the runtime's in-memory forms (protocol.ts, serialization.ts) and the
 * messages of proto/*.proto. The object ids in what arrives are checked here (a message with a
 * malformed one is refused with InvalidArgumentError): the store names files after them.
 */
import v8 from 'node:v8';
import { errorToWire, InvalidArgumentError, type WireError } from '../errors.js';
import { checkObjectIds } from '../ids.js';
import type { FnRef } from '../runtime/functions.js';
import type { CompiledActorOptions, ResourceSet, SchedulingStrategySpec } from '../options.js';
import type { ActorCreationSpec, ActorTaskSpec, ArgSpec, TaskSpec } from '../protocol/specs.js';
import { decodeV8, intoShared, type StoredValue } from '../runtime/serialization.js';
import type {
  ActorCreationSpec as PActorCreationSpec,
  ActorCreationSpec__Output as PActorCreationSpecOut,
} from './generated/raytscore/ActorCreationSpec.js';
import type {
  ActorTaskSpec as PActorTaskSpec,
  ActorTaskSpec__Output as PActorTaskSpecOut,
} from './generated/raytscore/ActorTaskSpec.js';
import type { Arg as PArg, Arg__Output as PArgOut } from './generated/raytscore/Arg.js';
import type { FnRef as PFnRef, FnRef__Output as PFnRefOut } from './generated/raytscore/FnRef.js';
import type {
  SchedulingStrategy as PStrategy,
  SchedulingStrategy__Output as PStrategyOut,
} from './generated/raytscore/SchedulingStrategy.js';
import type { TaskSpec as PTaskSpec, TaskSpec__Output as PTaskSpecOut } from './generated/raytscore/TaskSpec.js';
import type { Value as PValue, Value__Output as PValueOut } from './generated/raytscore/Value.js';
import type {
  WorkerLogs as PWorkerLogs,
  WorkerLogs__Output as PWorkerLogsOut,
} from './generated/raytscore/WorkerLogs.js';
import type { WorkerLogLine } from '../node/ports.js';

export type { PValue, PValueOut };

export function valueToWire(v: StoredValue): PValue {
  switch (v.t) {
    case 'js':
      return { t: 'js', data: v8.serialize(v.v) };
    case 'v8':
      return { t: 'v8', data: v.b, refs: v.refs ?? [], special: v.special ?? false };
    case 'raw':
      return { t: 'raw', data: v.b, ctor: v.ctor };
    case 'err':
      return { t: 'err', data: v8.serialize(v.e) };
  }
}

/**
 * The bytes of a wire value as a Uint8Array of their own: a decoded `bytes` field is a Buffer view
 * into the received message, and Buffer's slice() makes views, not copies.
 */
function own(d: Buffer, sharedAbove: number): Uint8Array {
  return intoShared(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), sharedAbove, true);
}

/**
 * A 'js' or 'err' wire value decoded; bytes that do not decode become a stored error (its readers
 * get DeserializationError), rather than a message that fails to arrive and work that hangs.
 */
function decoded(p: PValueOut, make: (v: unknown) => StoredValue): StoredValue {
  try {
    return make(decodeV8(p.data, `a '${p.t}' value from another node`));
  } catch (err) {
    return { t: 'err', e: errorToWire(err) };
  }
}

/** A wire value back in stored form; values above `sharedAbove` bytes land in shared memory. */
export function valueFromWire(p: PValueOut, sharedAbove: number): StoredValue {
  switch (p.t) {
    case 'js':
      return decoded(p, (v) => ({ t: 'js', v: v as Extract<StoredValue, { t: 'js' }>['v'] }));
    case 'v8': {
      checkObjectIds(p.refs, 'a value from another node');
      const out: StoredValue = { t: 'v8', b: own(p.data, sharedAbove) };
      if (p.refs.length) out.refs = p.refs;
      if (p.special) out.special = true;
      return out;
    }
    case 'raw':
      return { t: 'raw', ctor: p.ctor as Extract<StoredValue, { t: 'raw' }>['ctor'], b: own(p.data, sharedAbove) };
    case 'err':
      return decoded(p, (e) => ({ t: 'err', e: e as WireError }));
    default:
      throw new Error(`ray-ts: unknown value kind '${p.t}' on the wire`);
  }
}

// FnDescriptor has the same fields in both forms; the wire form fills the other kind's with ''.
function fnToWire(f: FnRef): PFnRef {
  if (!f.desc) return { id: f.id };
  if (f.desc.kind === 'module' && f.desc.pkg) {
    const { pkg, ...rest } = f.desc;
    return { id: f.id, desc: { ...rest, packageUri: pkg.uri, packagePath: pkg.path } };
  }
  return { id: f.id, desc: { ...f.desc } };
}

function fnFromWire(p: PFnRefOut): FnRef {
  const d = p.desc;
  if (!d || !d.kind) return { id: p.id };
  return {
    id: p.id,
    desc:
      d.kind === 'module'
        ? {
            kind: 'module',
            url: d.url,
            key: d.key,
            name: d.name,
            isClass: d.isClass,
            ...(d.packageUri ? { pkg: { uri: d.packageUri, path: d.packagePath } } : {}),
          }
        : { kind: 'source', source: d.source, name: d.name, isClass: d.isClass, origin: d.origin },
  };
}

function argToWire(a: ArgSpec): PArg {
  return 'r' in a ? { ref: a.r } : { value: valueToWire(a.v) };
}

function argFromWire(a: PArgOut, sharedAbove: number): ArgSpec {
  if (a.arg === 'ref') checkObjectIds([a.ref!], 'an argument from another node');
  return a.arg === 'ref' ? { r: a.ref! } : { v: valueFromWire(a.value!, sharedAbove) };
}

/** A task's return ids are its id and an index (`task_x.0`, ...): results are stored and spilled by them. */
function checkReturnIds(taskId: string, returnIds: string[]): void {
  checkObjectIds(returnIds, `the returns of task ${JSON.stringify(taskId.slice(0, 80))} from another node`);
  returnIds.forEach((r, i) => {
    if (r !== `${taskId}.${i}`)
      throw new InvalidArgumentError(
        `Refused task ${JSON.stringify(taskId.slice(0, 80))} from another node: its return ${i} is ${r}, not ${taskId}.${i}.`,
      );
  });
}

export function strategyToWire(s: SchedulingStrategySpec | undefined): PStrategy | undefined {
  if (!s) return undefined;
  return {
    type: s.type,
    nodeId: s.type === 'NODE_AFFINITY' ? s.nodeId : '',
    soft: s.type === 'NODE_AFFINITY' ? s.soft : false,
    placementGroupId: s.type === 'PLACEMENT_GROUP' ? s.placementGroupId : '',
    bundleIndex: s.type === 'PLACEMENT_GROUP' ? s.bundleIndex : -1,
    captureChildTasks: s.type === 'PLACEMENT_GROUP' && s.captureChildTasks === true,
  };
}

export function strategyFromWire(p: PStrategyOut | null | undefined): SchedulingStrategySpec | undefined {
  if (!p || !p.type || p.type === 'DEFAULT') return undefined;
  switch (p.type) {
    case 'SPREAD':
      return { type: 'SPREAD' };
    case 'NODE_AFFINITY':
      return { type: 'NODE_AFFINITY', nodeId: p.nodeId, soft: p.soft };
    case 'PLACEMENT_GROUP':
      return {
        type: 'PLACEMENT_GROUP',
        placementGroupId: p.placementGroupId,
        bundleIndex: p.bundleIndex,
        ...(p.captureChildTasks ? { captureChildTasks: true } : {}),
      };
    default:
      return undefined;
  }
}

export function taskToWire(s: TaskSpec): PTaskSpec {
  return {
    taskId: s.taskId,
    name: s.name,
    fn: fnToWire(s.fn),
    args: s.args.map(argToWire),
    returnIds: s.returnIds,
    resources: s.resources as Record<string, number>,
    maxRetries: s.maxRetries,
    retryAllExceptions: s.retryExceptions === true,
    retryExceptionNames: Array.isArray(s.retryExceptions) ? (s.retryExceptions as string[]) : [],
    isolation: s.isolation,
    parentTaskId: s.parentTaskId ?? '',
    jobId: s.jobId ?? '',
    strategy: strategyToWire(s.strategy),
    envVars: (s.envVars ?? {}) as Record<string, string>,
  };
}

export function taskFromWire(p: PTaskSpecOut, sharedAbove: number): TaskSpec {
  checkReturnIds(p.taskId, p.returnIds);
  const spec: TaskSpec = {
    taskId: p.taskId,
    name: p.name,
    fn: fnFromWire(p.fn!),
    args: p.args.map((a) => argFromWire(a, sharedAbove)),
    returnIds: p.returnIds,
    resources: p.resources,
    maxRetries: p.maxRetries,
    retryExceptions: p.retryAllExceptions ? true : p.retryExceptionNames.length ? p.retryExceptionNames : false,
    isolation: p.isolation as TaskSpec['isolation'],
  };
  if (p.parentTaskId) spec.parentTaskId = p.parentTaskId;
  if (p.jobId) spec.jobId = p.jobId;
  const st = strategyFromWire(p.strategy);
  if (st) spec.strategy = st;
  if (p.envVars && Object.keys(p.envVars).length) spec.envVars = p.envVars;
  return spec;
}

export function actorToWire(s: ActorCreationSpec): PActorCreationSpec {
  const o = s.options;
  return {
    actorId: s.actorId,
    className: s.className,
    cls: fnToWire(s.cls),
    args: s.args.map(argToWire),
    options: {
      name: o.name ?? '',
      namespace: o.namespace ?? '',
      detached: o.detached,
      maxRestarts: o.maxRestarts,
      maxTaskRetries: o.maxTaskRetries,
      maxConcurrency: o.maxConcurrency ?? 0,
      resources: o.resources as Record<string, number>,
      isolation: o.isolation,
      getIfExists: o.getIfExists,
      strategy: strategyToWire(o.strategy),
      envVars: (o.envVars ?? {}) as Record<string, string>,
    },
    methods: s.methods,
    hasAsyncMethods: s.hasAsyncMethods,
    jobId: s.jobId ?? '',
  };
}

export function actorFromWire(p: PActorCreationSpecOut, sharedAbove: number): ActorCreationSpec {
  const o = p.options!;
  const options: CompiledActorOptions = {
    name: o.name || undefined,
    namespace: o.namespace || undefined,
    detached: o.detached,
    maxRestarts: o.maxRestarts,
    maxTaskRetries: o.maxTaskRetries,
    maxConcurrency: o.maxConcurrency || undefined,
    resources: o.resources as ResourceSet,
    isolation: o.isolation as CompiledActorOptions['isolation'],
    getIfExists: o.getIfExists,
    strategy: strategyFromWire(o.strategy),
    ...(o.envVars && Object.keys(o.envVars).length ? { envVars: o.envVars } : {}),
  };
  return {
    actorId: p.actorId,
    className: p.className,
    cls: fnFromWire(p.cls!),
    args: p.args.map((a) => argFromWire(a, sharedAbove)),
    options,
    methods: p.methods,
    hasAsyncMethods: p.hasAsyncMethods,
    ...(p.jobId ? { jobId: p.jobId } : {}),
  };
}

export function actorCallToWire(s: ActorTaskSpec): PActorTaskSpec {
  return {
    taskId: s.taskId,
    actorId: s.actorId,
    method: s.method,
    name: s.name,
    args: s.args.map(argToWire),
    returnIds: s.returnIds,
    parentTaskId: s.parentTaskId ?? '',
  };
}

export function actorCallFromWire(p: PActorTaskSpecOut, sharedAbove: number): ActorTaskSpec {
  checkReturnIds(p.taskId, p.returnIds);
  const spec: ActorTaskSpec = {
    taskId: p.taskId,
    actorId: p.actorId,
    method: p.method,
    name: p.name,
    args: p.args.map((a) => argFromWire(a, sharedAbove)),
    returnIds: p.returnIds,
  };
  if (p.parentTaskId) spec.parentTaskId = p.parentTaskId;
  return spec;
}

/** Every object id a list of arguments refers to (top-level refs and refs nested in values). */
export function argRefs(args: ArgSpec[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if ('r' in a) out.push(a.r);
    else if (a.v.t === 'v8' && a.v.refs) out.push(...a.v.refs);
  }
  return out;
}

export function workerLogsToWire(jobId: string, lines: readonly WorkerLogLine[], dropped: number): PWorkerLogs {
  return {
    jobId,
    lines: lines.map((l) => ({ taskName: l.name, pid: l.pid, stderr: l.err, text: l.text })),
    dropped,
  };
}

export function workerLogsFromWire(p: PWorkerLogsOut): { jobId: string; lines: WorkerLogLine[]; dropped: number } {
  return {
    jobId: p.jobId,
    lines: p.lines.map((l) => ({ name: l.taskName, pid: l.pid, err: l.stderr, text: l.text })),
    dropped: p.dropped,
  };
}
