import { afterAll, beforeAll, expect, it } from 'vitest';
import { RemoteCodeError, init, shutdown } from '@ray-ts/core';
import { applyAll, withInstance } from './fixtures/mini-lib.js';
import { baseName } from './fixtures/user-module.js';

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

it('runs a user function given to a library inside the library tasks (by value)', async () => {
  expect(await applyAll((x) => x * 10, [1, 2, 3])).toEqual([10, 20, 30]);
});

it('says which library call got a function that is not self-contained', async () => {
  const factor = 3;
  expect(() => applyAll((x) => x * factor, [1])).toThrow(RemoteCodeError);
  expect(() => applyAll((x) => x * factor, [1])).toThrow(/given to applyAll\(\) .* refers to 'factor'/);
});

it('loads a remote() function of a user module by reference, imports included', async () => {
  expect(await applyAll(baseName, [4])).toEqual(['file4.txt']);
});

it('ships classes too', async () => {
  class Times {
    constructor(private readonly k: number) {}
    times(x: number): number {
      return this.k * x;
    }
  }
  expect(await withInstance(Times, 6, 7)).toBe(42);
});
