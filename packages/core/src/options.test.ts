import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { compileActorOptions, compileMethodOptions, compileTaskOptions } from './options.js';

const d = { maxRetries: 3 };

describe('task options', () => {
  it('fills defaults', () => {
    expect(compileTaskOptions('f', {}, d)).toEqual({
      resources: { CPU: 1 },
      numReturns: 1,
      maxRetries: 3,
      retryExceptions: false,
      name: undefined,
      isolation: 'thread',
    });
  });
  it('builds the resource set and moves GPU work to processes', () => {
    const o = compileTaskOptions('f', { numCpus: 0.5, numGpus: 1, resources: { tpu: 2 }, memory: 1024 }, d);
    expect(o.resources).toEqual({ CPU: 0.5, GPU: 1, tpu: 2, memory: 1024 });
    expect(o.isolation).toBe('process');
    expect(compileTaskOptions('f', { numCpus: 0 }, d).resources).toEqual({});
  });
  it('turns retryExceptions classes into names', () => {
    expect(compileTaskOptions('f', { retryExceptions: [TypeError, 'MyError'] }, d).retryExceptions).toEqual([
      'TypeError',
      'MyError',
    ]);
  });
  it.each([
    [{ numCpus: -1 }, /numCpus.*>= 0/],
    [{ numCpus: Number.NaN }, /numCpus/],
    [{ numGpus: 2.5 }, /Fractions are allowed below 1 only/],
    [{ numReturns: 0 }, /numReturns.*integer >= 1/],
    [{ maxRetries: 1.5 }, /maxRetries.*integer >= -1/],
    [{ resources: { CPU: 1 } }, /use numCpus instead/],
    [{ resources: { tpu: -1 } }, /resources.tpu/],
    [{ retryExceptions: 'yes' }, /retryExceptions/],
    [{ name: '' }, /non-empty string/],
    [{ numcpus: 1 }, /Unknown option 'numcpus'.*Did you mean 'numCpus'/],
    [{ totallyWrong: 1 }, /Unknown option 'totallyWrong' for f\. Valid options/],
  ])('rejects %j', (opts, msg) => {
    expect(() => compileTaskOptions('f', opts as never, d)).toThrow(InvalidArgumentError);
    expect(() => compileTaskOptions('f', opts as never, d)).toThrow(msg);
  });
});

describe('actor options', () => {
  it('defaults to zero CPUs held and no restarts', () => {
    const o = compileActorOptions('A', {});
    expect(o.resources).toEqual({});
    expect(o.maxRestarts).toBe(0);
    expect(o.maxConcurrency).toBeUndefined();
    expect(o.detached).toBe(false);
  });
  it('validates', () => {
    expect(() => compileActorOptions('A', { getIfExists: true })).toThrow(/needs a name/);
    expect(() => compileActorOptions('A', { maxConcurrency: 0 })).toThrow(/maxConcurrency/);
    expect(compileActorOptions('A', { lifetime: 'detached', numGpus: 1 })).toMatchObject({
      detached: true,
      isolation: 'process',
    });
  });
  it('shares a thread only for actors without resources or an explicit isolation', () => {
    expect(compileActorOptions('A', {}).isolation).toBe('shared');
    expect(compileActorOptions('A', { numCpus: 1 }).isolation).toBe('thread');
    expect(compileActorOptions('A', { isolation: 'thread' }).isolation).toBe('thread');
  });
  it('validates method options', () => {
    expect(compileMethodOptions('A.m', { numReturns: 2 })).toEqual({ numReturns: 2 });
    expect(() => compileMethodOptions('A.m', { numReturn: 2 } as never)).toThrow(/Did you mean 'numReturns'/);
  });
});
