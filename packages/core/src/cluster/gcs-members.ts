/**
 * The GCS's rules of membership (issue 20, see identity.ts): its node table as the directory the
 * head's server checks identities against, and what a call bound to an id may do with the table
 * and the KV. Each rule answers why a call is refused (undefined: it is not), in words that say
 * what happened and what to do; the GCS answers those with PERMISSION_DENIED.
 */
import type { NodeInfo, NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import { isCredentialHash, type KnownMember, type MemberDirectory } from './identity.js';

/** KV namespaces only the head writes (its own process, or a call bound to it). */
export const HEAD_KV_NAMESPACES: readonly string[] = ['cluster', 'jobs', 'autoscaler'];
/** KV namespaces whose keys members may add but not change or delete (content-addressed packages). */
export const WRITE_ONCE_KV_NAMESPACES: readonly string[] = ['packages'];

export class GcsMembers implements MemberDirectory {
  private waiters: (() => void)[] = [];

  constructor(
    private readonly nodes: ReadonlyMap<string, NodeInfo__Output>,
    /** The head's id and credential hash, known in-process before the head registers. */
    private readonly head: { nodeId: string; credentialSha256: string } | undefined,
  ) {}

  get headNodeId(): string | undefined {
    return this.head?.nodeId;
  }

  member(nodeId: string): KnownMember | undefined {
    const n = this.nodes.get(nodeId);
    if (n?.state === 'ALIVE') return { credentialSha256: n.credentialSha256, isHead: n.isHead };
    if (this.head && nodeId === this.head.nodeId && !n)
      return { credentialSha256: this.head.credentialSha256, isHead: true };
    return undefined;
  }

  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(true);
      };
      this.waiters.push(check);
    });
  }

  /** The node table changed: calls waiting for a member look again. */
  changed(): void {
    for (const w of [...this.waiters]) w();
  }

  private isHead(bound: string | undefined): boolean {
    return !!bound && bound === this.head?.nodeId;
  }

  /**
   * Why `n` may not register, the call being bound to `bound`: a node registers under a new id
   * with its credential's hash, or again under its own id (after a restart of the GCS) presenting
   * that credential; only the head's own process registers the head.
   */
  registration(n: NodeInfo, bound: string | undefined): string | undefined {
    const id = n.nodeId ?? '';
    if (!isCredentialHash(n.credentialSha256))
      return `node ${id} registered without the hash of a member credential: run the same ray-ts version on every node and driver`;
    if (n.isHead || id === this.head?.nodeId) {
      if (bound === this.head?.nodeId && n.isHead && n.credentialSha256 === this.head?.credentialSha256)
        return undefined;
      return `only the head's own process registers the head (node ${this.head?.nodeId ?? 'none yet'}); node ${id} may not claim to be it`;
    }
    const known = this.nodes.get(id);
    if (known?.state !== 'ALIVE') return undefined; // new (a dead id is refused by its fence, gcs-admission.ts)
    if (bound !== id || n.credentialSha256 !== known.credentialSha256)
      return `node ${id} is registered already; only that node, presenting its credential, may register again under its id`;
    return undefined;
  }

  /** Why a heartbeat for `nodeId` is refused (its record is alive): only that node reports itself. */
  heartbeat(nodeId: string, bound: string | undefined): string | undefined {
    return bound === nodeId ? undefined : `only node ${nodeId} itself may report its heartbeat and resources`;
  }

  /** Why unregistering `nodeId` is refused: a member unregisters only itself (the head, anyone). */
  unregister(nodeId: string, bound: string | undefined): string | undefined {
    if (bound === nodeId || this.isHead(bound)) return undefined;
    return `node ${bound ?? '(none)'} may not unregister node ${nodeId}: a node or driver unregisters only itself`;
  }

  /**
   * Why a KV put or delete is refused: the head's namespaces are the head's; packages are written
   * once (`replaces`: the call would change or delete a value that is there).
   */
  kvWrite(namespace: string, key: string, replaces: boolean, bound: string | undefined): string | undefined {
    if (this.isHead(bound)) return undefined;
    if (HEAD_KV_NAMESPACES.includes(namespace))
      return `the KV namespace '${namespace}' is the head's (key '${key}'): only the head writes it`;
    if (WRITE_ONCE_KV_NAMESPACES.includes(namespace) && replaces)
      return `'${namespace}/${key}' exists: members add packages but do not replace or delete them`;
    return undefined;
  }
}

/** A heartbeat's record: what the node reports, with what it registered as (id, address, roles, credential) kept. */
export function heartbeatRecord(prev: NodeInfo__Output, n: NodeInfo__Output): NodeInfo__Output {
  const { address, isHead, isDriver, jobId, credentialSha256 } = prev;
  return { ...n, address, isHead, isDriver, jobId, credentialSha256, state: 'ALIVE' };
}
