/**
 * Huge pages for the processes ray-ts starts.
 *
 * Large ArrayBuffers and SharedArrayBuffers are malloc'd, which maps fresh memory for each one.
 * With Linux's transparent huge pages in `madvise` mode (the common default), that memory is
 * faulted in 4 KiB at a time on first touch; on virtual machines each fault is expensive (about
 * 4 ms per MiB measured on our 2-core development VM, where copying a warm MiB takes 0.07 ms), so
 * making and storing large values costs mostly page faults. glibc's `glibc.malloc.hugetlb=1`
 * tunable makes malloc advise huge pages (`MADV_HUGEPAGE`) for such mappings: 2 MiB pages, and
 * 5-15x less time to first touch a large buffer there. numpy asks the kernel for the same on its
 * large arrays, which is part of why Ray's puts are fast.
 *
 * A tunable is read when a process starts, so it cannot be turned on from inside one: ray-ts sets
 * it for every process it starts (cluster nodes, process workers, job drivers). A driver that
 * runs the embedded cluster gets it when started with
 * `GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node app.js`. `RAY_TS_HUGE_PAGES=0` turns this off;
 * an explicit `glibc.malloc.hugetlb` setting in `GLIBC_TUNABLES` is kept as it is. Other C
 * libraries (musl) ignore the variable.
 */

const TUNABLE = 'glibc.malloc.hugetlb';

/** The value `GLIBC_TUNABLES` in `env` gives the huge-page tunable, or undefined when it is not set there. */
function hugetlbValue(env: NodeJS.ProcessEnv): string | undefined {
  for (const t of (env.GLIBC_TUNABLES ?? '').split(':')) {
    const [k, v] = t.trim().split('=');
    if (k === TUNABLE) return v ?? '';
  }
  return undefined;
}

/** `env` with glibc's huge-page tunable added to `GLIBC_TUNABLES` (a copy; `env` is not changed). */
export function withHugePages(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.RAY_TS_HUGE_PAGES === '0' || process.platform !== 'linux' || hugetlbValue(env) !== undefined)
    return { ...env };
  const current = env.GLIBC_TUNABLES;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${TUNABLE}=1` : `${TUNABLE}=1` };
}

/** Whether this process was started with huge pages advised for large buffers. */
export function hugePagesEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = hugetlbValue(env);
  return v !== undefined && v !== '' && v !== '0';
}
