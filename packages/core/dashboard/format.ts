/** How numbers, sizes, times and resources read on the dashboard's pages. */

export function bytes(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function num(n: unknown, digits = 3): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return n === undefined || n === null ? '–' : String(n);
  if (Number.isInteger(n)) return String(n);
  return Number(n.toPrecision(digits)).toString();
}

export function percent(used: number | undefined | null, total: number | undefined | null): number | undefined {
  if (used === undefined || used === null || total === undefined || total === null || !(total > 0)) return undefined;
  return Math.max(0, Math.min(100, (used / total) * 100));
}

/** A time (ms since the epoch, or seconds: job records carry ms) as local date and time. */
export function time(ms: number | undefined | null): string {
  if (!ms) return '–';
  const d = new Date(ms < 1e11 ? ms * 1000 : ms);
  return d.toLocaleString(undefined, { hour12: false });
}

export function duration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** `{CPU: 2, memory: 1e9}` as `CPU 2, memory 954 MiB` (memory-like resources in bytes). */
export function resources(r: Record<string, number> | undefined): string {
  if (!r) return '–';
  const keys = Object.keys(r).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  if (keys.length === 0) return '{}';
  return keys.map((k) => `${k} ${isBytes(k) ? bytes(r[k]) : num(r[k])}`).join(', ');
}

export const isBytes = (k: string) => k === 'memory' || k === 'object_store_memory';
const order = (k: string) => ['CPU', 'GPU', 'memory', 'object_store_memory'].indexOf(k) + 1 || 9;

/** A value of unknown shape, short: JSON for objects. */
export function show(v: unknown): string {
  if (v === undefined || v === null || v === '') return '–';
  if (typeof v === 'number') return num(v, 4);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
