import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readLastBytes, tailFile } from './job-tail.js';

function logFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tail-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'job.log');
}

async function all(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

describe('tailFile', () => {
  it('gives the log as it is written, reads it to the end once the job ended, then ends', async () => {
    const file = logFile();
    let ended = false;
    const tail = tailFile(file, { ended: () => ended, pollMs: 1 });
    const first = tail.next(); // no file yet: it waits for one
    fs.writeFileSync(file, 'one\n');
    expect(await first).toEqual({ done: false, value: 'one\n' });
    // Written just before the job ended: still given, after the end was seen.
    fs.appendFileSync(file, 'two\n');
    ended = true;
    expect(await tail.next()).toEqual({ done: false, value: 'two\n' });
    expect(await tail.next()).toEqual({ done: true, value: undefined });
  });

  it('reads in bounded chunks that never split a UTF-8 character', async () => {
    const file = logFile();
    const text = 'naïve ✓ 日本 '.repeat(50);
    fs.writeFileSync(file, text);
    const chunks = await all(tailFile(file, { ended: () => true, pollMs: 1, chunkBytes: 5 }));
    expect(chunks.join('')).toBe(text);
    expect(chunks.some((c) => c.includes('\uFFFD'))).toBe(false);
    // At most a read, plus the rest of a character the read before it ended inside.
    expect(Math.max(...chunks.map((c) => Buffer.byteLength(c)))).toBeLessThanOrEqual(5 + 3);
  });

  it('ends an empty log of an ended job, and stops when its follower goes away', async () => {
    expect(await all(tailFile(logFile(), { ended: () => true, pollMs: 1 }))).toEqual([]);
    const abort = new AbortController();
    const waiting = tailFile(logFile(), { ended: () => false, pollMs: 60_000, signal: abort.signal }).next();
    abort.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });
});

describe('readLastBytes', () => {
  it('reads a short log whole, and a long one to its end, from a whole character, saying what it left out', async () => {
    const file = logFile();
    expect(await readLastBytes(file, 10)).toEqual({ text: '', skipped: 0 });
    fs.writeFileSync(file, 'short\n');
    expect(await readLastBytes(file, 10)).toEqual({ text: 'short\n', skipped: 0 });
    // 200,000 bytes: several pieces of 64 KiB; the cut falls inside a 3-byte character.
    const body = 'é'.repeat(1) + 'x'.repeat(100_000 - 2) + '€' + 'y'.repeat(100_000 - 3);
    fs.writeFileSync(file, body);
    const { text, skipped } = await readLastBytes(file, 100_000 - 1);
    expect(skipped).toBe(100_001);
    expect(text).toBe('y'.repeat(100_000 - 3)); // the € cut in two is left out whole
    expect((await readLastBytes(file, 1e9)).text).toBe(body);
  });
});
