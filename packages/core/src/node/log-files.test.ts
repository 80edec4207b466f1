import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { piecesOf, RotatingFile } from './log-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'log-files-test-'));
  dirs.push(d);
  return d;
}
const read = (p: string) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined);

describe('RotatingFile', () => {
  it('writes what is appended in one turn with one write, after the turn', async () => {
    const file = path.join(tmp(), 'a.out');
    const f = new RotatingFile(file, { maxBytes: 1024, backupCount: 2 });
    f.append('one\n');
    f.append('two\n');
    expect(read(file)).toBeUndefined();
    await f.flush();
    expect(read(file)).toBe('one\ntwo\n');
  });

  it('rotates by size into file.1 ... file.N, keeping N, never splitting an append', async () => {
    const file = path.join(tmp(), 'w.out');
    const f = new RotatingFile(file, { maxBytes: 10, backupCount: 2 });
    for (const line of ['aaaa\n', 'bbbb\n', 'cccc\n', 'dddd\n', 'eeee\n', 'ffff\n', 'gggggggggggggg\n']) {
      f.append(line);
      await f.flush();
    }
    expect(read(file)).toBe('gggggggggggggg\n');
    expect(read(`${file}.1`)).toBe('eeee\nffff\n');
    expect(read(`${file}.2`)).toBe('cccc\ndddd\n');
    expect(read(`${file}.3`)).toBeUndefined();
    expect(f.starts).toEqual([30, 20, 10]);
  });

  it('rotates within one turn too', async () => {
    const file = path.join(tmp(), 'w.out');
    const f = new RotatingFile(file, { maxBytes: 10, backupCount: 1 });
    for (const line of ['aaaa\n', 'bbbb\n', 'cccc\n']) f.append(line);
    await f.flush();
    expect(read(file)).toBe('cccc\n');
    expect(read(`${file}.1`)).toBe('aaaa\nbbbb\n');
  });
});

describe('piecesOf', () => {
  it('finds a range of the history in the kept files, oldest first', () => {
    // current starts at 30, .1 at 20, .2 at 10
    expect(piecesOf([30, 20, 10], 12, 15)).toEqual({ pieces: [{ suffix: 2, from: 2, to: 5 }], lostBytes: 0 });
    expect(piecesOf([30, 20, 10], 15, 35)).toEqual({
      pieces: [
        { suffix: 2, from: 5, to: 10 },
        { suffix: 1, from: 0, to: 10 },
        { suffix: 0, from: 0, to: 5 },
      ],
      lostBytes: 0,
    });
  });

  it('counts what was rotated away', () => {
    expect(piecesOf([30, 20], 5, 25)).toEqual({ pieces: [{ suffix: 1, from: 0, to: 5 }], lostBytes: 15 });
    expect(piecesOf([30], 0, 10)).toEqual({ pieces: [], lostBytes: 10 });
  });
});
