import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, get, init, internalKv, shutdown } from '@ray-ts/core';
import { kvRead } from './fixtures/cluster.js';

beforeAll(async () => {
  await init({ numCpus: 1 });
});
afterAll(async () => {
  await shutdown();
});

it('puts, gets, lists and deletes keys, in namespaces', async () => {
  expect(await internalKv.put('a/1', 'one')).toBe(true);
  expect(await internalKv.put('a/1', 'uno', { overwrite: false })).toBe(false);
  expect(await internalKv.getString('a/1')).toBe('one');
  expect(await internalKv.put('a/1', new Uint8Array([1, 2]))).toBe(false);
  expect([...(await internalKv.get('a/1'))!]).toEqual([1, 2]);
  await internalKv.put('a/2', 'two');
  await internalKv.put('a/1', 'other', { namespace: 'ns' });
  expect((await internalKv.keys('a/')).sort()).toEqual(['a/1', 'a/2']);
  expect(await internalKv.keys('a/', { namespace: 'ns' })).toEqual(['a/1']);
  expect(await internalKv.del('a/2')).toBe(true);
  expect(await internalKv.del('a/2')).toBe(false);
  expect(await internalKv.get('a/2')).toBeUndefined();
  await expect(internalKv.put('', 'x')).rejects.toThrow(InvalidArgumentError);
});

it('is shared with tasks', async () => {
  await internalKv.put('shared', 'hello');
  expect((await get(kvRead.remote('shared')))[0]).toBe('hello');
});
