// Map-reduce word count in TypeScript (run with: node --import tsx examples/word-count.ts).
// Map tasks count words in chunks in parallel; a typed actor merges the partial counts.
import { get, init, put, remote, shutdown, type ObjectRef } from '@ray-ts/core';

await init();

const text = `It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity`;
const lines = Array.from({ length: 2000 }, (_, i) => text.split('\n')[i % 2]);

// One big input, stored once; tasks read it from shared memory.
const input: ObjectRef<string[]> = put(lines);

const countChunk = remote((all: string[], start: number, end: number): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (let i = start; i < end; i++) {
    for (const w of all[i].toLowerCase().match(/[a-z]+/g) ?? []) counts[w] = (counts[w] ?? 0) + 1;
  }
  return counts;
});

class Totals {
  private totals = new Map<string, number>();
  merge(part: Record<string, number>): number {
    for (const [w, c] of Object.entries(part)) this.totals.set(w, (this.totals.get(w) ?? 0) + c);
    return this.totals.size;
  }
  top(n: number): [string, number][] {
    return [...this.totals].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}

const totals = remote(Totals).remote();
const chunk = 250;
const parts = [];
for (let s = 0; s < lines.length; s += chunk)
  parts.push(countChunk.remote(input, s, Math.min(s + chunk, lines.length)));
// Each partial result goes straight to the actor as a ref: no round trip through the driver.
await get(parts.map((p) => totals.merge.remote(p)));
const top: [string, number][] = await get(totals.top.remote(3));
console.log(`top words: ${top.map(([w, c]) => `${w}=${c}`).join(' ')}`);
await shutdown();
