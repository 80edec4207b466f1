// The chaos soak's cluster and its faults: a head (with its GCS in a Redis that keeps what it
// acknowledged: an append-only file fsynced before each reply), worker nodes each on a host of
// their own (network namespaces, so a link can be cut) when this runs as root, and a fault
// injector that follows a schedule drawn from a seeded generator.
import fs from 'node:fs';
import { Cluster, TestHosts, processAlive, startRedisServer } from '@ray-ts/core/testing';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const alive = processAlive;

async function waitUntil(cond, forMs, everyMs = 50) {
  const deadline = Date.now() + forMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

/**
 * Starts Redis, the hosts (when links can be cut here) and the cluster: a head on the driver's
 * host, `nodes` worker nodes on hosts of their own. Returns what the soak and the faults need.
 */
export async function startChaosCluster({ nodes, nodeTimeoutMs, objectStoreBytes, log }) {
  const redis = await startRedisServer({ durable: true });
  let hosts;
  let noCutReason;
  if (process.getuid?.() !== 0) noCutReason = 'not root: no network namespaces to cut links with';
  else {
    try {
      hosts = TestHosts.create(nodes);
    } catch (err) {
      noCutReason = `network namespaces unavailable (${err.message.split('\n')[0]})`;
    }
  }
  if (noCutReason) log(`note: link cuts are skipped: ${noCutReason}`);
  const spec = (i) => ({
    numCpus: 2,
    objectStoreMemory: objectStoreBytes,
    ...(hosts ? { host: hosts.hosts[i] } : {}),
  });
  let cluster;
  try {
    cluster = await Cluster.start({
      // On the bridge's address when there are hosts, so that the nodes in their namespaces reach it.
      head: { numCpus: 2, objectStoreMemory: objectStoreBytes, ...(hosts ? { host: hosts.local } : {}) },
      nodes: Array.from({ length: nodes }, (_, i) => spec(i)),
      redisAddress: redis.url,
      nodeTimeoutMs,
    });
  } catch (err) {
    hosts?.destroy();
    await redis.stop();
    throw err;
  }
  const slots = cluster.nodes.filter((n) => !n.isHead).map((node, i) => ({ i, node, spec: spec(i) }));
  return {
    redis,
    hosts,
    noCutReason,
    cluster,
    slots,
    head: cluster.nodes.find((n) => n.isHead),
    async stop() {
      await cluster.shutdown().catch((err) => log(`cluster shutdown: ${err.message}`));
      hosts?.destroy();
      await redis.stop();
    },
  };
}

/** The fault types, in the order the schedule's weights list them. */
export const FAULT_TYPES = ['kill-node', 'cut-link', 'restart-redis'];
const WEIGHTS = [0.4, 0.3, 0.3];

/**
 * The faults of a run, drawn from `rng` alone (the same seed gives the same schedule): one every
 * `minGapMs`..`maxGapMs`, none in the last `quietMs` (so the cluster settles before the checks).
 */
export function faultSchedule(rng, { durationMs, slots, nodeTimeoutMs, minGapMs = 3_000, maxGapMs = 8_000, quietMs }) {
  const out = [];
  let at = 2_000 + rng.uniform(0, minGapMs);
  while (at < durationMs - quietMs) {
    const r = rng.next();
    let k = 0;
    for (let acc = WEIGHTS[0]; r >= acc && k < WEIGHTS.length - 1; acc += WEIGHTS[++k]);
    const type = FAULT_TYPES[k];
    const slot = rng.int(slots);
    // A kill's replacement comes after 0-2 s; a cut lasts either less than the node timeout (a
    // blip the node must ride out) or well past it (the node is declared dead, then fenced);
    // Redis stays down 0.2-3 s.
    const downMs =
      type === 'kill-node'
        ? rng.uniform(0, 2_000)
        : type === 'cut-link'
          ? rng.next() < 0.5
            ? rng.uniform(0.2, 0.6) * nodeTimeoutMs
            : rng.uniform(1.5, 2.5) * nodeTimeoutMs
          : rng.uniform(200, 3_000);
    out.push({ at: Math.round(at), type, slot, downMs: Math.round(downMs) });
    at += rng.uniform(minGapMs, maxGapMs);
  }
  return out;
}

/** Runs the schedule against the cluster, one fault at a time; counts what it injected. */
export class FaultInjector {
  constructor(env, { nodeTimeoutMs, log }) {
    this.env = env;
    this.nodeTimeoutMs = nodeTimeoutMs;
    this.log = log;
    /** type -> count injected */
    this.injected = Object.fromEntries(FAULT_TYPES.map((t) => [t, 0]));
    /** type -> count scheduled (a fault on a slot still recovering waits for it; those due after the end never run) */
    this.scheduled = Object.fromEntries(FAULT_TYPES.map((t) => [t, 0]));
    this.skipped = Object.fromEntries(FAULT_TYPES.map((t) => [t, 0]));
    this.replacements = 0;
    this.fenced = 0;
    this.stopped = false;
    /** Slots whose recovery failed (a replacement that never joined). */
    this.failures = [];
  }

  /** Injects the faults of `schedule` at their times after `startedAt`; none once `untilMs` passed (the quiet end). */
  async run(schedule, startedAt, untilMs) {
    this.pastQuiet = () => this.stopped || Date.now() - startedAt > untilMs;
    for (const f of schedule) this.scheduled[f.type]++;
    for (const f of schedule) {
      const wait = startedAt + f.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.pastQuiet()) return;
      // A node that exited since (fenced after a cut it should have ridden out) gets a successor.
      for (const s of this.env.slots) {
        if (s.recovering || alive(s.node.pid)) continue;
        this.log(`  slot ${s.i}'s node ${s.node.nodeId} exited on its own: replacing it`);
        this.fenced++;
        this.recover(s, async () => {
          this.env.cluster.killNode(s.node.nodeId); // forget it
          await this.replace(s);
        });
      }
      await this.inject(f);
    }
  }

  /**
   * Runs a slot's recovery (a replacement node) in the background, so that the next faults
   * overlap it (a node joining while Redis is down, say); a fault on that slot waits for it.
   */
  recover(slot, fn) {
    slot.recovering = fn()
      .catch((err) => {
        this.failures.push(`slot ${slot.i}: ${err.message.split('\n')[0]}`);
        this.log(`  slot ${slot.i} could not be recovered: ${err.message}`);
      })
      .finally(() => {
        slot.recovering = undefined;
      });
  }

  /** Waits until every slot's recovery ended. */
  async settle() {
    await Promise.all(this.env.slots.map((s) => s.recovering));
  }

  async inject(f) {
    const { cluster, hosts, redis, slots } = this.env;
    const slot = slots[f.slot % slots.length];
    if (f.type !== 'restart-redis') await slot.recovering;
    if (this.pastQuiet()) return; // it waited for its slot into the quiet end
    const t = () => ((Date.now() - this.env.startedAt) / 1000).toFixed(1);
    if (f.type === 'kill-node') {
      const victim = slot.node;
      this.log(`[${t()}s] fault: SIGKILL node ${victim.nodeId} (slot ${slot.i}), replaced after ${f.downMs} ms`);
      this.injected[f.type]++;
      cluster.killNode(victim.nodeId);
      this.recover(slot, async () => {
        await waitUntil(() => !alive(victim.pid), 10_000);
        await sleep(f.downMs);
        await this.replace(slot);
      });
    } else if (f.type === 'cut-link') {
      if (!hosts) {
        this.skipped[f.type]++;
        return;
      }
      const victim = slot.node;
      this.log(`[${t()}s] fault: cut the link of node ${victim.nodeId} (slot ${slot.i}) for ${f.downMs} ms`);
      this.injected[f.type]++;
      hosts.partition(slot.spec.host);
      this.recover(slot, async () => {
        await sleep(f.downMs);
        hosts.heal(slot.spec.host);
        // A node declared dead while cut off hears so once back, and exits: start another in its place.
        if (f.downMs > this.nodeTimeoutMs) await waitUntil(() => !alive(victim.pid), this.nodeTimeoutMs + 10_000);
        if (!alive(victim.pid)) {
          this.log(`  [${t()}s] node ${victim.nodeId} exited after the cut (fenced)`);
          this.fenced++;
          cluster.killNode(victim.nodeId); // forget it
          await this.replace(slot);
        }
      });
    } else {
      this.log(`[${t()}s] fault: SIGKILL Redis, restarted on its port after ${f.downMs} ms`);
      this.injected[f.type]++;
      await redis.kill();
      await sleep(f.downMs);
      await redis.restart();
    }
  }

  async replace(slot) {
    for (let attempt = 1; ; attempt++) {
      try {
        const t0 = Date.now();
        slot.node = await this.env.cluster.addNode(slot.spec);
        this.replacements++;
        this.log(`  slot ${slot.i}: node ${slot.node.nodeId} joined in ${Date.now() - t0} ms`);
        return;
      } catch (err) {
        // The head may be waiting for Redis, or the host's last process still holds its port.
        this.log(`replacing slot ${slot.i} failed (attempt ${attempt}): ${err.message.split('\n')[0]}`);
        if (attempt >= 5) throw err;
        await sleep(1_000);
      }
    }
  }
}

/** Resident memory of a process in bytes (VmRSS of /proc/PID/status), or undefined once it is gone. */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // exited (or not Linux)
  }
}
