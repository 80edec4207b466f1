/**
 * The process of one cluster node (`ray-ts start` runs it in the background). Options come as
 * JSON in RAY_TS_NODE_OPTIONS; once serving, it writes its address to the session directory
 * (and prints it), and it stops on SIGTERM, SIGINT or `ray-ts stop`.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { getLogger, setProcessLogIds } from '../log.js';
import { publishNodeRecord } from './node-records.js';
import { captureOwnOutput } from './own-log.js';
import { startNode, type StartNodeOptions } from './server.js';
import { arenaLimitFor, setArenaLimit } from '../runtime/arena.js';

interface NodeMainOptions extends StartNodeOptions {
  sessionDir?: string;
  /** Once serving, write output to the node's log files only (`ray-ts start` in the background). */
  quiet?: boolean;
  /** A pipe from the process that started this node (`ray-ts start --block`): its end stops the node. */
  parentFd?: number;
}

async function main(): Promise<void> {
  const { parentFd, quiet, ...opts } = JSON.parse(process.env.RAY_TS_NODE_OPTIONS ?? '{}') as NodeMainOptions;
  // Listened for from the start: a signal the kernel delivers before a listener exists kills the
  // process outright (SIGTERM's default action), even once the node serves, if the process was
  // descheduled between printing that it serves and adding its listeners. One that arrives while
  // the node starts stops it once started.
  const stopper: { stop?: (code: number) => void; asked?: number } = {};
  const ask = (code: number) => (stopper.stop ? stopper.stop(code) : (stopper.asked ??= code));
  process.on('SIGTERM', () => ask(0));
  process.on('SIGINT', () => ask(0));
  let started;
  try {
    started = await startNode({
      ...opts,
      logDir: opts.logDir ?? (opts.sessionDir ? path.join(opts.sessionDir, 'logs') : undefined),
    });
  } catch (err) {
    getLogger('ray-ts.core').error(`ray-ts node failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
  setProcessLogIds({ node_id: started.node.nodeId });
  // Pulled and restored objects go to arena blocks (warm memory: see runtime/arena.ts).
  setArenaLimit(arenaLimitFor(started.node.store.capacityBytes));
  const info = {
    pid: process.pid,
    nodeId: started.node.nodeId,
    address: started.address,
    gcsAddress: started.gcsAddress,
    head: opts.head,
    jobApiAddress: started.jobApiAddress,
    metricsAddress: started.metricsAddress,
  };
  // Whole or absent, and naming this process by its start time too (see node-records.ts).
  const file = opts.sessionDir ? publishNodeRecord(opts.sessionDir, info) : undefined;
  console.log(`RAY_TS_NODE_READY ${JSON.stringify(info)}`);
  const logDir = started.node.logs.files?.dir;
  if (quiet && logDir) console.log(`ray-ts: this node's output goes on in ${logDir}/raylet.out and raylet.err`);
  const config = loadConfig(opts.config ?? {});
  const own = logDir
    ? captureOwnOutput(
        logDir,
        { maxBytes: config.logRotationMaxBytes, backupCount: config.logRotationBackupCount },
        quiet ?? false,
        `ray-ts node ${info.nodeId} (pid ${info.pid}) serves at ${info.address}${opts.head ? ' (the head)' : ''}\n`,
      )
    : undefined;
  // Keep the process alive while it serves.
  const keep = setInterval(() => {}, 1 << 30);
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    const done = () => {
      clearInterval(keep);
      if (file) fs.rmSync(file, { force: true });
      if (opts.head && opts.sessionDir) fs.rmSync(path.join(opts.sessionDir, 'head.json'), { force: true });
      process.exit(code);
    };
    const flushed = () => (own ? own.flush().then(done, done) : done());
    started.stop().then(flushed, flushed);
    // A head waits up to gcsStopFlushMs for its last GCS writes to land in Redis.
    setTimeout(done, 5_000 + (opts.head ? loadConfig(opts.config ?? {}).gcsStopFlushMs : 0)).unref();
  };
  if (parentFd !== undefined) {
    // The launcher holds the other end: it is closed when the launcher dies, however it died.
    const parent = new net.Socket({ fd: parentFd, readable: true, writable: false });
    parent.on('error', () => exit(0));
    parent.on('close', () => exit(0));
    parent.resume();
    parent.unref();
  }
  stopper.stop = exit;
  if (stopper.asked !== undefined) exit(stopper.asked);
  process.on('ray-ts:stopped' as never, () => exit(0));
  // Declared dead while it ran (fenced): it exits, and a supervisor may start it as a new node.
  process.on('ray-ts:fenced' as never, () => exit(3));
}

void main();
