/**
 * Puts a node's logs together (server.ts): the reader of its log directory (and, on the head,
 * the job logs' directory) that its ListLogs and StreamLog serve, and, on the head, what the log
 * routes of its HTTP API need: the node table, the actor table, and clients of the other nodes.
 */
import os from 'node:os';
import path from 'node:path';
import type { RuntimeConfig } from '../config.js';
import type { NodeManager } from '../node/node-manager.js';
import type { ClusterAuth } from './auth-token.js';
import type { Gcs } from './gcs.js';
import type { NodeClient } from './generated/raytscore/Node.js';
import type { MemberIdentity } from './identity.js';
import type { LogApiContext } from './log-api.js';
import { remoteLogSource } from './log-service.js';
import { NodeLogReader } from './node-logs.js';
import { nodeClient } from './proto.js';

/** Where the head keeps submitted jobs' logs: `<logDir>/jobs-<cluster id>` (default logDir: the temp dir's ray-ts-logs). */
export function jobsDirOf(logDir: string | undefined, clusterId: string): string {
  return path.join(logDir ?? path.join(os.tmpdir(), 'ray-ts-logs'), `jobs-${clusterId}`);
}

export interface NodeLogs {
  /** This node's logs (undefined: a node without a log directory). */
  readonly reader: NodeLogReader | undefined;
  /** The head: what its log routes need. */
  api(gcs: Gcs, auth: ClusterAuth, identity: MemberIdentity): LogApiContext;
  stop(): void;
}

export function nodeLogs(node: NodeManager, config: RuntimeConfig, logDir: string | undefined, gcs?: Gcs): NodeLogs {
  const dirs = [
    ...(logDir ? [path.join(logDir, node.nodeId)] : []),
    ...(gcs ? [jobsDirOf(logDir, gcs.clusterId)] : []),
  ];
  const reader =
    dirs.length > 0
      ? new NodeLogReader({
          nodeId: node.nodeId,
          dirs,
          files: () => node.logs.files,
          readMaxBytes: config.logReadMaxBytes,
          pollMs: config.jobLogTailMs,
        })
      : undefined;
  const clients = new Map<string, NodeClient>();
  return {
    reader,
    api: (g, auth, identity) => ({
      headNodeId: node.nodeId,
      nodes: () =>
        g
          .nodeTable()
          .filter((n) => !n.isDriver)
          .map((n) => ({ nodeId: n.nodeId!, address: n.address!, alive: n.state === 'ALIVE' })),
      source: (n) => {
        if (n.nodeId === node.nodeId && reader) return reader;
        let c = clients.get(n.address);
        if (!c) {
          c = nodeClient(n.address, auth, identity);
          clients.set(n.address, c);
        }
        return remoteLogSource(c);
      },
      findActor: (q) => {
        const a = g.findActor(q);
        return a && { actorId: a.actorId, nodeId: a.nodeId };
      },
    }),
    stop: () => {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
