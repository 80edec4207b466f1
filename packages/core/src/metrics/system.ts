/**
 * The machine's figures for a node's `/metrics` (Ray's reporter agent: `ray_node_cpu_utilization`,
 * `ray_node_mem_*`, `ray_node_network_*`, `ray_node_gpus_*`), read at scrape time from the os
 * module, /proc (Linux) and `nvidia-smi` (when the node has GPUs). Rates are over the time since
 * the previous scrape.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { ignored } from '../log.js';

export interface SystemSample {
  /** 0..100, over all cores, since the previous sample (since boot for the first). */
  cpuPercent: number;
  cpuCount: number;
  memTotal: number;
  memAvailable: number;
  memUsed: number;
  /** /dev/shm's use, where the object store's shared memory shows on Linux (0 elsewhere). */
  memShared: number;
  /** Bytes since boot over every interface but loopback, and per second since the previous sample. */
  netSent: number;
  netReceived: number;
  netSendSpeed: number;
  netReceiveSpeed: number;
}

export interface GpuSample {
  index: number;
  name: string;
  /** 0..100 */
  utilization: number;
  /** Bytes. */
  memUsed: number;
  memTotal: number;
}

/** `MemAvailable` of /proc/meminfo's text, in bytes (undefined when absent). */
export function memAvailableOf(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Received and sent bytes over every interface of /proc/net/dev's text but loopback. */
export function netBytesOf(netDev: string): { received: number; sent: number } {
  let received = 0;
  let sent = 0;
  for (const line of netDev.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1].trim() === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    received += f[0] || 0;
    sent += f[8] || 0;
  }
  return { received, sent };
}

/** The rows of `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function gpusOf(csv: string): GpuSample[] {
  const out: GpuSample[] = [];
  for (const line of csv.split('\n')) {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 5 || !/^\d+$/.test(f[0])) continue;
    out.push({
      index: Number(f[0]),
      name: f[1],
      utilization: Number(f[2]) || 0,
      memUsed: (Number(f[3]) || 0) * 1024 * 1024,
      memTotal: (Number(f[4]) || 0) * 1024 * 1024,
    });
  }
  return out;
}

const readOr = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    ignored(`${file} unreadable (not Linux?): its figures read 0`)(err);
    return '';
  }
};

export class SystemSampler {
  private lastCpu: { idle: number; total: number } | undefined;
  private lastNet: { at: number; received: number; sent: number } | undefined;

  sample(): SystemSample {
    let idle = 0;
    let total = 0;
    const cpus = os.cpus();
    for (const c of cpus) {
      const t = c.times;
      idle += t.idle;
      total += t.user + t.nice + t.sys + t.idle + t.irq;
    }
    const prev = this.lastCpu ?? { idle: 0, total: 0 };
    this.lastCpu = { idle, total };
    const dTotal = total - prev.total;
    const cpuPercent = dTotal > 0 ? Math.max(0, Math.min(100, 100 * (1 - (idle - prev.idle) / dTotal))) : 0;
    const memTotal = os.totalmem();
    const memAvailable = memAvailableOf(readOr('/proc/meminfo')) ?? os.freemem();
    const now = Date.now();
    const net = os.platform() === 'linux' ? netBytesOf(readOr('/proc/net/dev')) : { received: 0, sent: 0 };
    const last = this.lastNet;
    this.lastNet = { at: now, ...net };
    const secs = last ? (now - last.at) / 1000 : 0;
    let memShared = 0;
    try {
      const st = fs.statfsSync('/dev/shm');
      memShared = (st.blocks - st.bfree) * st.bsize;
    } catch (err) {
      ignored('/dev/shm has no statfs here: ray_node_mem_shared_bytes reads 0')(err);
    }
    return {
      cpuPercent,
      cpuCount: cpus.length,
      memTotal,
      memAvailable,
      memUsed: memTotal - memAvailable,
      memShared,
      netSent: net.sent,
      netReceived: net.received,
      netSendSpeed: secs > 0 ? Math.max(0, (net.sent - last!.sent) / secs) : 0,
      netReceiveSpeed: secs > 0 ? Math.max(0, (net.received - last!.received) / secs) : 0,
    };
  }
}

/** The machine's GPUs as `nvidia-smi` reports them; none when it is missing or fails. */
export function sampleGpus(timeoutMs = 2_000): Promise<GpuSample[]> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'],
      { timeout: timeoutMs },
      (err, stdout) => {
        if (err) {
          ignored('nvidia-smi failed: no ray_node_gpus_* rows this scrape')(err);
          resolve([]);
        } else resolve(gpusOf(stdout));
      },
    );
  });
}
