import { describe, expect, it } from 'vitest';
import { ResourcePool } from './resources.js';

describe('resource pool', () => {
  it('allocates and releases fractional CPUs', () => {
    const p = new ResourcePool({ CPU: 2 });
    const a = p.tryAllocate({ CPU: 1.5 })!;
    expect(p.tryAllocate({ CPU: 1 })).toBeUndefined();
    const b = p.tryAllocate({ CPU: 0.5 })!;
    expect(p.availableResources().CPU).toBe(0);
    p.release(a);
    p.release(b);
    expect(p.availableResources().CPU).toBe(2);
  });
  it('hands out whole GPUs by id and packs fractions on one device', () => {
    const p = new ResourcePool({ GPU: 3 }, [4, 5, 6]);
    const a = p.tryAllocate({ GPU: 2 })!;
    expect(a.gpuIds).toEqual([4, 5]);
    const h1 = p.tryAllocate({ GPU: 0.5 })!;
    const h2 = p.tryAllocate({ GPU: 0.5 })!;
    expect(h1.gpuIds).toEqual([6]);
    expect(h2.gpuIds).toEqual([6]);
    expect(p.tryAllocate({ GPU: 0.5 })).toBeUndefined();
    p.release(a);
    expect(p.tryAllocate({ GPU: 1 })!.gpuIds).toEqual([4]);
  });
  it('names what is missing for infeasible requests', () => {
    const p = new ResourcePool({ CPU: 2 });
    expect(p.missing({ CPU: 4 })).toEqual({ name: 'CPU', requested: 4, total: 2 });
    expect(p.missing({ tpu: 1 })).toEqual({ name: 'tpu', requested: 1, total: 0 });
    expect(p.missing({ CPU: 2 })).toBeUndefined();
  });
});
