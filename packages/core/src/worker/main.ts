/**
 * Entry point of a worker thread or worker process: connects this thread's runtime to the node,
 * prefixes console output with where it came from, and dispatches the node's messages.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { format } from 'node:util';
import '../index.js';
import { adoptShared, setSharedPoolLimit } from '../runtime/memory.js';
import { setArenaLimit, setArenaPressureHook } from '../runtime/arena.js';
import { deliverCollective } from '../api/collective.js';
import { RefTracker } from '../runtime/object-ref.js';
import type { FromWorker, ToWorker } from '../protocol/worker-messages.js';
import { threadState } from '../runtime/thread-state.js';
import { setUpRuntimeEnv } from '../runtime/code-packages.js';
import { enterWorkingDir } from './working-dir.js';
import { setRuntimeEnvReady } from '../runtime/functions.js';
import { MODULES_VAR, WORKING_DIR_VAR } from '../options.js';
import type { WorkerBoot } from '../node/worker-handle.js';
import { WorkerClient, executionContext } from './client.js';
import { Executor } from './executor.js';
import { threadMetrics } from '../metrics/user-metrics.js';

const inThread = !isMainThread && parentPort !== null;
const boot: WorkerBoot = inThread
  ? (workerData as WorkerBoot)
  : (JSON.parse(process.env.RAY_TS_WORKER_BOOT ?? '{}') as WorkerBoot);

const post: (batch: FromWorker[]) => void = inThread
  ? (batch) => parentPort!.postMessage(batch)
  : (batch) => {
      process.send?.(batch);
    };

const client = new WorkerClient(boot, post);
const tracker = new RefTracker(
  {
    addRefs: (add) => client.send({ k: 'refs', add, remove: [] }),
    removeRefs: (remove) => client.send({ k: 'refs', add: [], remove }),
  },
  true,
);
client.tracker = tracker;
setSharedPoolLimit(boot.bufferPoolBytes ?? 0);
// A thread's large results go to arena blocks the node reads in place; a process's are copied out.
if (inThread) {
  setArenaLimit(boot.arenaBytes ?? 0);
  setArenaPressureHook(() => {
    const n = tracker.sweep();
    tracker.flush();
    // Puts and ref drops reach the node now, and it collects its own garbage (the driver's refs).
    client.send({ k: 'pressure' });
    client.flush();
    return n + 1;
  });
}
const state = threadState();
state.isWorker = true;
if (boot.envVars) state.envVars = boot.envVars;
state.client = client;
state.refTracker = tracker;
state.packagesDir = boot.packagesDir;
if (boot.envVars?.[WORKING_DIR_VAR] || boot.envVars?.[MODULES_VAR])
  setRuntimeEnvReady(setUpRuntimeEnv(boot.envVars, inThread ? enterWorkingDir : (dir) => process.chdir(dir)));

// Console output goes to the node as messages, attributed to the job of the work that wrote it
// (or, outside any task, as a module loading for it, to the job of the last work received): the
// node prints it with its origin, as Ray's "(task pid=...)" prefixes do, or sends it to the node
// of the job's driver. Raw writes to process.stdout stay in the node's own output.
let lastJobId = boot.jobId;
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const err = level === 'warn' || level === 'error';
  console[level] = (...args: unknown[]) => {
    const ctx = executionContext.getStore()?.data;
    client.log({
      k: 'log',
      jobId: ctx?.jobId ?? lastJobId,
      name: ctx?.name ?? 'worker',
      err,
      text: format(...args),
      taskId: ctx?.taskId,
      actorId: ctx?.actorId,
    });
  };
}

// User metrics recorded here reach the node in one message per interval (thread-metrics.ts).
const metrics = threadMetrics();
metrics.attach((batch) => client.send({ k: 'metrics', batch }), boot.metricsReportIntervalMs ?? 500);

const executor = new Executor(client, boot.status);
// Results already computed must reach the node even if user code exits the worker right after.
const exit = process.exit.bind(process);
process.exit = ((code?: number) => {
  metrics.flush();
  client.flush();
  exit(code);
}) as typeof process.exit;
client.onBlockChange = (delta) => executor.blockChange(delta);

// An idle worker collects its garbage, so that refs its finished tasks dropped are released
// (FinalizationRegistry runs only after a GC, and an idle thread may not GC for a long time):
// otherwise the objects they name stay pinned in the store of a long-lived node. It collects up to
// three times after its last message (about 0.5, 2 and 6 s later) while it still holds refs: a
// ref can still be reachable at the first collection (the end of a call settles over a few ticks),
// and nothing would collect it after that until the next message.
const idleGcAfterMs = [500, 2000, 6000];
let lastBatchAt = Date.now();
let collectionsSinceBatch = idleGcAfterMs.length;
let gcFn: (() => void) | undefined;
setInterval(() => {
  if (collectionsSinceBatch >= idleGcAfterMs.length || Date.now() - lastBatchAt < idleGcAfterMs[collectionsSinceBatch])
    return;
  if (!executor.idle() || tracker.liveCount() === 0) return;
  collectionsSinceBatch++;
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}, 500).unref();

function onBatch(batch: ToWorker[]): void {
  lastBatchAt = Date.now();
  collectionsSinceBatch = 0;
  for (const m of batch) {
    switch (m.k) {
      case 'task':
        lastJobId = m.ctx.jobId;
        void executor.runTask(m);
        break;
      case 'createActor':
        lastJobId = m.ctx.jobId;
        void executor.createActor(m);
        break;
      case 'actorCall':
        executor.actorCall(m);
        break;
      case 'dropActor':
        executor.dropActor(m.actorId);
        break;
      case 'cancel':
        executor.cancel(m.taskId);
        break;
      case 'reply':
        client.onReply(m);
        break;
      case 'buffer':
        adoptShared(m.buf);
        break;
      case 'coll':
        deliverCollective(m.to, m.key, m.dtype, m.data);
        break;
      case 'exit':
        process.exit(0);
    }
  }
}

if (inThread) parentPort!.on('message', onBatch);
else {
  process.on('message', (batch) => onBatch(batch as ToWorker[]));
  process.on('disconnect', () => process.exit(0));
}
client.send({ k: 'ready' });

process.on('unhandledRejection', (reason) => {
  console.error('Unhandled promise rejection in a worker (the task that caused it is not known):', reason);
});
