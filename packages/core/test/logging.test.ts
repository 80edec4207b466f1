// Structured logs in tasks and actors (RAY_TS_LOG_FORMAT=json): a line that library code writes
// inside a task or an actor call carries that work's task, job, actor, node and worker ids, and
// comes out on the driver (embedded cluster: the node prints its workers' lines), prefixed with
// where it was written.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { get, init, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import { LoggingActorClass, logInTask } from './fixtures/logging.js';

// Worker threads copy the environment when they start, and this thread reads it at its first line.
const saved = process.env.RAY_TS_LOG_FORMAT;
process.env.RAY_TS_LOG_FORMAT = 'json';

const written: string[] = [];

beforeAll(async () => {
  const write = process.stderr.write.bind(process.stderr) as (chunk: string | Uint8Array) => boolean;
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return write(chunk);
  });
  await init({ numCpus: 1, namespace: 'logging-test' });
});

afterAll(async () => {
  await shutdown();
  vi.restoreAllMocks();
  if (saved === undefined) delete process.env.RAY_TS_LOG_FORMAT;
  else process.env.RAY_TS_LOG_FORMAT = saved;
});

/** The JSON objects of the lines written so far that mention `marker`. */
function linesWith(marker: string): Record<string, unknown>[] {
  return written
    .join('')
    .split('\n')
    .filter((l) => l.includes(marker))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
}

describe('structured logs in work', () => {
  it("gives a task's line its task, job, node and worker ids, and drops lines below the level", async () => {
    const marker = `task-${process.pid}-${Date.now()}`;
    const ids = await get(logInTask.remote(marker));
    await waitFor(() => linesWith(marker).length > 0);
    const [line, ...more] = linesWith(marker);
    expect(more).toEqual([]); // the debug line is below the default level (info)
    expect(line).toMatchObject({
      level: 'INFO',
      logger: 'ray-ts.test',
      message: 'written in a task',
      marker,
      task_id: ids.taskId,
      job_id: ids.jobId,
      node_id: ids.nodeId,
      worker_id: expect.any(String),
    });
    expect(line).not.toHaveProperty('actor_id');
    expect(new Date(line.ts as string).toISOString()).toBe(line.ts);
    // Prefixed by the node with the task's name, as the worker's other output is.
    expect(written.join('')).toMatch(new RegExp(`\\(logInTask pid=\\d+ worker=\\w+\\) \\{.*"marker":"${marker}"`));
  });

  it("gives an actor call's line the actor's id and the call's task id", async () => {
    const marker = `actor-${process.pid}-${Date.now()}`;
    const actor = LoggingActorClass.remote();
    const ids = await get(actor.say.remote(marker));
    await waitFor(() => linesWith(marker).length > 0);
    expect(linesWith(marker)).toEqual([
      expect.objectContaining({
        level: 'WARNING',
        message: 'written in an actor',
        actor_id: ids.actorId,
        task_id: ids.taskId,
        job_id: ids.jobId,
      }),
    ]);
  });
});
