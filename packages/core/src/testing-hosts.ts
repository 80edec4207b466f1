/**
 * Hosts for multi-host tests on one machine: network namespaces on a bridge, each with its own
 * address (as separate machines on a LAN), for `Cluster` nodes (and drivers) to run on. The test
 * process stays in the root namespace, on the bridge's address: a host of its own. Needs root and
 * iproute2 (`ip`), as CI has. Traffic only goes between these namespaces' addresses.
 */
import { execFileSync } from 'node:child_process';

/** A host made by {@link TestHosts}. */
export interface TestHost {
  /** The network namespace its processes run in; undefined for the test process's own host. */
  readonly netns: string | undefined;
  /** Its address on the bridge. */
  readonly address: string;
  /** Folders its processes cannot see (an empty file system is mounted over each, in their own mount namespace). */
  readonly hidden?: readonly string[];
}

export interface TestHostsOptions {
  /**
   * Folders to hide from the processes of every namespace host (say, an app's folder that only
   * the driver's host, the test process's, should see): as machines that do not share it.
   */
  hide?: readonly string[];
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The command that runs `argv` on `host`: in its network namespace, with its hidden folders
 * covered (`ip netns exec` gives each command a mount namespace of its own, so the covers are
 * seen only by that command and its children). The test process's own host runs `argv` as is.
 */
export function commandOn(host: TestHost | undefined, argv: readonly string[]): [string, string[]] {
  if (!host?.netns) return [argv[0], argv.slice(1)];
  if (!host.hidden?.length) return ['ip', ['netns', 'exec', host.netns, ...argv]];
  const covers = host.hidden.map((d) => `mount -t tmpfs -o size=64k,mode=0755 ray-ts-hidden ${shellQuote(d)}`);
  return ['ip', ['netns', 'exec', host.netns, 'sh', '-c', `${covers.join(' && ')} && exec "$@"`, 'sh', ...argv]];
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Whether a process with this pid runs (signal 0: checked, not sent). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false; // no such process
  }
}

/** Removes namespaces and links that earlier test processes made and left behind (they were killed). */
function removeStale(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const m = /^rts(\d+)h\d+/.exec(line);
    if (m && !processAlive(Number(m[1]))) ip('netns', 'del', line.split(' ')[0]);
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const m = /^\d+: (rts(\d+)[bv]\d*)[@:]/.exec(line);
    if (m && !processAlive(Number(m[2]))) ip('link', 'del', m[1]);
  }
}

export class TestHosts {
  private constructor(
    /** The test process's host (the bridge's address in the root namespace). */
    readonly local: TestHost,
    readonly hosts: readonly TestHost[],
    private readonly bridge: string,
    private readonly veths: readonly string[],
  ) {}

  /** Makes `count` hosts on a new bridge (a /24 of 10.213.0.0/16 chosen from this process's id). */
  static create(count: number, opts: TestHostsOptions = {}): TestHosts {
    if (process.getuid?.() !== 0)
      throw new Error('TestHosts needs root (network namespaces): run the multi-host tests as root, as CI does.');
    removeStale();
    const tag = `rts${process.pid}`;
    const net = `10.213.${(process.pid % 250) + 1}`;
    const bridge = `${tag}b`;
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${net}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const hosts: TestHost[] = [];
    const veths: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const ns = `${tag}h${i}`;
        const veth = `${tag}v${i}`;
        const peer = `${tag}p${i}`;
        const address = `${net}.${i + 2}`;
        ip('netns', 'add', ns);
        ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', peer);
        veths.push(veth);
        ip('link', 'set', peer, 'netns', ns);
        ip('link', 'set', veth, 'master', bridge);
        ip('link', 'set', veth, 'up');
        ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', peer);
        ip('-n', ns, 'link', 'set', peer, 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        hosts.push({ netns: ns, address, ...(opts.hide?.length ? { hidden: [...opts.hide] } : {}) });
      }
    } catch (err) {
      new TestHosts({ netns: undefined, address: `${net}.1` }, hosts, bridge, veths).destroy();
      throw err;
    }
    return new TestHosts({ netns: undefined, address: `${net}.1` }, hosts, bridge, veths);
  }

  /** Cuts a host off the network (its link goes down; its processes keep running). */
  partition(host: TestHost): void {
    ip('link', 'set', this.vethOf(host), 'down');
  }

  /** Brings a partitioned host's link back. */
  heal(host: TestHost): void {
    ip('link', 'set', this.vethOf(host), 'up');
  }

  private vethOf(host: TestHost): string {
    const i = this.hosts.indexOf(host);
    if (i < 0) throw new Error(`not a host of these TestHosts: ${host.address}`);
    return this.veths[i];
  }

  /** Removes the namespaces, links and bridge (processes still in a namespace keep it until they exit). */
  destroy(): void {
    for (const h of this.hosts) if (h.netns) ip('netns', 'del', h.netns);
    for (const v of this.veths) {
      try {
        ip('link', 'del', v);
      } catch {
        // gone with its namespace's peer already
      }
    }
    ip('link', 'del', this.bridge);
  }
}
