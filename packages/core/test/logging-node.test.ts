// A node process started with RAY_TS_LOG_FORMAT=json writes its own log lines as JSON objects
// carrying its node id: here the warning of a peer link with more waiting than
// RAY_TS_PEER_QUEUE_WARN_BYTES (1 byte, so that any message to another node passes it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, shutdown } from '@ray-ts/core';
import { Cluster, waitFor } from '@ray-ts/core/testing';
import { logInTask } from './fixtures/logging.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start({
    head: { numCpus: 1 },
    nodes: [
      {
        numCpus: 1,
        resources: { jsonLogNode: 1 },
        env: { RAY_TS_LOG_FORMAT: 'json', RAY_TS_PEER_QUEUE_WARN_BYTES: '1' },
      },
    ],
  });
  await init({ address: cluster.address });
});

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
});

/** The JSON objects among a node's output lines (a worker's lines are prefixed with their origin). */
function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('a node process with RAY_TS_LOG_FORMAT=json', () => {
  it('writes its log lines as JSON objects with its node id', async () => {
    const node = cluster.nodes[1];
    const marker = `node-${process.pid}-${Date.now()}`;
    const ids = await get(logInTask.options({ resources: { jsonLogNode: 1 } }).remote(marker));
    expect(ids.nodeId).toBe(node.nodeId);
    await waitFor(() => jsonLines(node.output()).some((l) => l.logger === 'ray-ts.core'));
    const own = jsonLines(node.output()).find((l) => l.logger === 'ray-ts.core')!;
    expect(own).toMatchObject({
      level: 'WARNING',
      node_id: node.nodeId,
      message: expect.stringContaining('waiting to be sent or acknowledged'),
    });
    expect(own).not.toHaveProperty('task_id');
    // The task's line is in the node's log too, after its origin, with the task's ids.
    const taskLine = node
      .output()
      .split('\n')
      .find((l) => l.includes(marker))!;
    expect(JSON.parse(taskLine.slice(taskLine.indexOf('{')))).toMatchObject({
      logger: 'ray-ts.test',
      task_id: ids.taskId,
      job_id: ids.jobId,
      node_id: node.nodeId,
    });
    // The head was not asked for JSON: its lines stay text.
    expect(jsonLines(cluster.nodes[0].output())).toEqual([]);
  });
});
