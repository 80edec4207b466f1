import { describe, expect, it } from 'vitest';
import { hugePagesEnabled, withHugePages } from './huge-pages.js';

const linux = process.platform === 'linux';

describe('withHugePages', () => {
  it.runIf(linux)('adds glibc.malloc.hugetlb=1 to GLIBC_TUNABLES, keeping what is there', () => {
    expect(withHugePages({}).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=1');
    expect(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe(
      'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1',
    );
    expect(hugePagesEnabled(withHugePages({ PATH: '/bin' }))).toBe(true);
  });

  it('keeps an explicit setting, honours RAY_TS_HUGE_PAGES=0, and does not change its input', () => {
    const env = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' };
    expect(withHugePages(env)).toEqual(env);
    expect(hugePagesEnabled(env)).toBe(false);
    expect(withHugePages({ RAY_TS_HUGE_PAGES: '0' }).GLIBC_TUNABLES).toBeUndefined();
    const input = { A: '1' };
    withHugePages(input);
    expect(input).toEqual({ A: '1' });
  });
});
