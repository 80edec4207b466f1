/**
 * The session directory's node records: `nodes/<pid>.json`, written whole by each node process
 * that `ray-ts start` runs, read by `ray-ts stop`. A record names its process by pid and also by
 * what a reused pid cannot fake at once: the process's start time and command line. So a stale
 * record (its node died, the pid went to another process) is recognised, and `ray-ts stop`
 * skips it instead of killing an unrelated process.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Who a process is, beyond its pid: when it started and what it runs. */
export interface ProcessIdentity {
  /**
   * On Linux, field 22 of `/proc/PID/stat` (clock ticks after boot); elsewhere `ps -o lstart=`
   * (the start time to the second).
   */
  startTime: string;
  /** The command line, its arguments joined by single spaces. */
  command: string;
}

/** What a node process records about itself in the session directory. */
export interface NodeRecord {
  pid: number;
  nodeId: string;
  address: string;
  gcsAddress: string;
  head?: boolean;
  jobApiAddress?: string;
  /** Absent in records of nodes from before ray-ts checked them. */
  identity?: ProcessIdentity;
}

/** The process `pid`'s identity now, or undefined when no such process runs (or it cannot be read). */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  if (process.platform === 'linux') {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 2 (the command name) is in parentheses and may hold spaces: count from the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const startTime = fields[22 - 3];
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return startTime ? { startTime, command } : undefined;
    } catch {
      return undefined; // no such process (or it exited while being read)
    }
  }
  try {
    const out = execFileSync('ps', ['-o', 'lstart=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    // lstart is 24 characters wide: "Mon Dec  7 13:50:17 2026".
    return out
      ? { startTime: out.slice(0, 24).trim(), command: out.slice(24).trim().split(/\s+/).join(' ') }
      : undefined;
  } catch {
    return undefined; // ps exits 1 when no process has that pid
  }
}

/** The path of the record of the node process `pid`. */
export function nodeRecordPath(sessionDir: string, pid: number): string {
  return path.join(sessionDir, 'nodes', `${pid}.json`);
}

/**
 * Writes this process's record (and, for a head, `head.json`), each whole or not at all (a
 * temporary file renamed): the CLI that started the node polls for it and reads it at once.
 * Returns the record's path.
 */
export function publishNodeRecord(sessionDir: string, info: Omit<NodeRecord, 'identity'>): string {
  fs.mkdirSync(path.join(sessionDir, 'nodes'), { recursive: true });
  const record: NodeRecord = { ...info, identity: processIdentity(process.pid) };
  const publish = (target: string) => {
    fs.writeFileSync(`${target}.tmp-${process.pid}`, JSON.stringify(record));
    fs.renameSync(`${target}.tmp-${process.pid}`, target);
  };
  const file = nodeRecordPath(sessionDir, process.pid);
  publish(file);
  if (info.head) publish(path.join(sessionDir, 'head.json'));
  return file;
}

/** A record read back, with the file it came from. */
export interface StoredNodeRecord extends NodeRecord {
  file: string;
}

/** The node records in `sessionDir`, skipping files that are not whole records (being written, or foreign). */
export function readNodeRecords(sessionDir: string): StoredNodeRecord[] {
  const dir = path.join(sessionDir, 'nodes');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  const out: StoredNodeRecord[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    try {
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as NodeRecord;
      if (Number.isInteger(r.pid) && r.pid > 0) out.push({ ...r, file });
    } catch {
      continue; // removed meanwhile, or not JSON: not a record this version wrote
    }
  }
  return out;
}

/** Whether a record still names a live process, and if not, why. */
export type RecordCheck = { kind: 'live' } | { kind: 'gone' } | { kind: 'stale'; reason: string };

/**
 * Checks that the process with the record's pid is the node the record names: the same start
 * time and command line. A record without an identity (from an older version) passes when the
 * process runs a ray-ts node (`node-main` in its command line).
 */
export function checkNodeRecord(record: NodeRecord): RecordCheck {
  const now = processIdentity(record.pid);
  if (!now) return { kind: 'gone' };
  const want = record.identity;
  if (!want) {
    return /node-main/.test(now.command)
      ? { kind: 'live' }
      : { kind: 'stale', reason: `pid ${record.pid} now runs '${now.command}', not a ray-ts node` };
  }
  if (now.startTime !== want.startTime)
    return { kind: 'stale', reason: `pid ${record.pid} is a process started later ('${now.command}')` };
  if (now.command !== want.command)
    return { kind: 'stale', reason: `pid ${record.pid} now runs '${now.command}', not '${want.command}'` };
  return { kind: 'live' };
}
