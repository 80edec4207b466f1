/**
 * Whether the GCS lets a node or driver join: the same ray-ts version, not a node it declared
 * dead (fenced: it must join as a new node), and an address the cluster can reach back (with TLS,
 * a server there whose certificate names that address and is signed by the cluster's CA).
 */
import type { NodeInfo, NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import { canConnect } from './node-address.js';
import { VERSION } from './proto.js';
import type { ClusterTls } from './tls.js';
import { probeTls, tlsTrouble } from './tls-grpc.js';

/** How long the head tries to connect back to a node or driver that registers. */
const REACH_BACK_MS = 3_000;

/**
 * Why `n` may not join (undefined: it may); `known` is the GCS's record of its id, if any; `tls`,
 * the head's TLS settings, with which the cluster will call it.
 */
export async function refusal(
  n: NodeInfo,
  known: NodeInfo__Output | undefined,
  tls?: ClusterTls,
): Promise<string | undefined> {
  const who = n.isDriver ? 'this driver' : 'this node';
  if (n.version !== VERSION) {
    return (
      `version mismatch: this cluster runs ray-ts ${VERSION} and ${n.isDriver ? 'the driver' : 'the node'} runs ${n.version || 'an unknown version'}. ` +
      `Run the same ray-ts version on every node and driver.`
    );
  }
  if (known?.state === 'DEAD') {
    return `node ${n.nodeId} was declared dead (it missed its heartbeats), and its work moved elsewhere: start it again to join as a new node`;
  }
  if (n.isHead) return undefined;
  // The cluster must reach it back (tasks, results and pulls go to its address): refuse at once,
  // saying what to set, rather than let its work hang on an address nobody reaches.
  const address = n.address ?? '';
  if (await canConnect(address, REACH_BACK_MS)) {
    // With TLS, the cluster's calls to it must pass the handshake too (its certificate must name its address).
    const trouble = tls ? tlsTrouble(address, tls, await probeTls(address, tls, REACH_BACK_MS)) : undefined;
    return trouble && `the head cannot call ${who} over TLS: ${trouble}`;
  }
  return (
    `the head cannot reach ${who} at ${address} (no connection within ${REACH_BACK_MS / 1000} s). ` +
    `Give it an address the cluster's hosts can reach (${n.isDriver ? 'init({ nodeIpAddress })' : '--node-ip-address'}), ` +
    `and let them connect to its port ${address.slice(address.lastIndexOf(':') + 1)} (a firewall may block it)`
  );
}
