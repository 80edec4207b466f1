import { describe, expect, it } from 'vitest';
import { StatusPublisher } from './status-publish.js';

describe('StatusPublisher', () => {
  it('writes the status when it changed, looking at most every minIntervalMs, and clears it', async () => {
    const writes: string[] = [];
    const kv = {
      put: (_key: string, value: string | Uint8Array) => {
        writes.push(String(value));
        return Promise.resolve(true);
      },
      del: () => {
        writes.push('(deleted)');
        return Promise.resolve(true);
      },
    };
    const p = new StatusPublisher(1_000, kv);
    let builds = 0;
    const build = (v: number) => () => {
      builds++;
      return { v };
    };
    const flush = () => new Promise((r) => setImmediate(r));
    p.maybePublish(0, build(1));
    await flush();
    p.maybePublish(500, build(2)); // too soon: not even built
    await flush();
    p.maybePublish(1_000, build(1)); // unchanged: not written
    await flush();
    p.maybePublish(2_000, build(3));
    await flush();
    expect(writes).toEqual(['{"v":1}', '{"v":3}']);
    expect(builds).toBe(3);
    await p.clear();
    expect(writes.at(-1)).toBe('(deleted)');
  });
});
