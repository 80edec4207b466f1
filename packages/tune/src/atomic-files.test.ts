import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  makeTempDir,
  recoverDir,
  removeDir,
  removeLeftovers,
  writeDirAtomic,
  writeFileAtomic,
  writeFileAtomicAsync,
} from './atomic-files.js';

let root = '';
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-atomic-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

const read = (p: string) => fs.readFileSync(p, 'utf8');
const names = () => fs.readdirSync(root).sort();

/** Writes files `a` and `b` holding `v` into `dir`. */
function both(v: string) {
  return (dir: string) => {
    fs.writeFileSync(path.join(dir, 'a'), v);
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'b'), v);
  };
}

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an existing one, leaving no temporary file', () => {
    const f = path.join(root, 'state.json');
    writeFileAtomic(f, '{"v":1}');
    writeFileAtomic(f, Buffer.from('{"v":2}'));
    expect(read(f)).toBe('{"v":2}');
    expect(names()).toEqual(['state.json']);
  });

  it('keeps the previous file whole when the write fails midway, and removes its temporary file', () => {
    const f = path.join(root, 'state.json');
    writeFileAtomic(f, 'old');
    vi.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    expect(() => writeFileAtomic(f, 'new and longer')).toThrow(/EIO/);
    expect(read(f)).toBe('old');
    expect(names()).toEqual(['state.json']);
  });

  it('flushes the file before the rename and the folder after it', () => {
    const f = path.join(root, 'state.json');
    const order: string[] = [];
    const fsync = fs.fsyncSync;
    vi.spyOn(fs, 'fsyncSync').mockImplementation((fd) => {
      order.push(fs.fstatSync(fd).isDirectory() ? 'fsync folder' : 'fsync file');
      fsync(fd);
    });
    const rename = fs.renameSync;
    vi.spyOn(fs, 'renameSync').mockImplementation((a, b) => {
      order.push('rename');
      rename(a, b);
    });
    writeFileAtomic(f, 'x');
    expect(order).toEqual(['fsync file', 'rename', 'fsync folder']);
  });

  it('uses a new temporary name for each write (a fixed one would be shared by two writers)', () => {
    const f = path.join(root, 'state.json');
    const tmps = new Set<string>();
    const rename = fs.renameSync;
    vi.spyOn(fs, 'renameSync').mockImplementation((a, b) => {
      tmps.add(path.basename(String(a)));
      rename(a, b);
    });
    for (let i = 0; i < 5; i++) writeFileAtomic(f, String(i));
    expect(tmps.size).toBe(5);
    for (const t of tmps) expect(t).toMatch(/^\.state\.json\.tmp-\d+-[0-9a-f]+$/);
  });
});

describe('writeFileAtomicAsync', () => {
  it('writes and replaces a file off the event loop, leaving no temporary file', async () => {
    const f = path.join(root, 'state.json');
    await writeFileAtomicAsync(f, '{"v":1}');
    await Promise.all([writeFileAtomicAsync(f, '{"v":2}'), writeFileAtomicAsync(f, '{"v":3}')]);
    expect(['{"v":2}', '{"v":3}']).toContain(read(f));
    expect(names()).toEqual(['state.json']);
  });

  it('keeps the previous file when the write fails, and removes its temporary file', async () => {
    const f = path.join(root, 'state.json');
    await writeFileAtomicAsync(f, 'old');
    vi.spyOn(fs.promises, 'rename').mockRejectedValueOnce(Object.assign(new Error('EIO: rename'), { code: 'EIO' }));
    await expect(writeFileAtomicAsync(f, 'new')).rejects.toThrow(/EIO/);
    expect(read(f)).toBe('old');
    expect(names()).toEqual(['state.json']);
  });
});

describe('writeDirAtomic', () => {
  it('writes a folder whole under its name', () => {
    const d = path.join(root, 'checkpoint_000001');
    expect(writeDirAtomic(d, both('1'))).toBe(d);
    expect(read(path.join(d, 'a'))).toBe('1');
    expect(read(path.join(d, 'sub', 'b'))).toBe('1');
    expect(names()).toEqual(['checkpoint_000001']);
  });

  it('replaces an existing folder (a rerun at the same iteration) once the new one is whole', () => {
    const d = path.join(root, 'checkpoint_000001');
    writeDirAtomic(d, both('first'));
    fs.writeFileSync(path.join(d, 'only-in-first'), 'x');
    writeDirAtomic(d, (tmp) => {
      // While the new one is written, the previous one is still there, whole.
      expect(read(path.join(d, 'a'))).toBe('first');
      both('second')(tmp);
    });
    expect(read(path.join(d, 'a'))).toBe('second');
    expect(read(path.join(d, 'sub', 'b'))).toBe('second');
    expect(fs.existsSync(path.join(d, 'only-in-first'))).toBe(false);
    expect(names()).toEqual(['checkpoint_000001']);
  });

  it('keeps the previous folder intact when the write fails midway, and removes the temporary one', () => {
    const d = path.join(root, 'checkpoint_000001');
    writeDirAtomic(d, both('first'));
    expect(() =>
      writeDirAtomic(d, (tmp) => {
        fs.writeFileSync(path.join(tmp, 'a'), 'second');
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }),
    ).toThrow(/ENOSPC/);
    expect(read(path.join(d, 'a'))).toBe('first');
    expect(read(path.join(d, 'sub', 'b'))).toBe('first');
    expect(names()).toEqual(['checkpoint_000001']);
  });

  it('keeps the previous folder when a flush fails', () => {
    const d = path.join(root, 'checkpoint_000001');
    writeDirAtomic(d, both('first'));
    vi.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    expect(() => writeDirAtomic(d, both('second'))).toThrow(/EIO/);
    expect(read(path.join(d, 'a'))).toBe('first');
    expect(names()).toEqual(['checkpoint_000001']);
  });

  it('puts the previous folder back when the final rename fails', () => {
    const d = path.join(root, 'checkpoint_000001');
    writeDirAtomic(d, both('first'));
    const rename = fs.renameSync;
    let calls = 0;
    vi.spyOn(fs, 'renameSync').mockImplementation((a, b) => {
      // The first rename moves the previous one aside; the second (the new one into place) fails.
      if (++calls === 2) throw Object.assign(new Error('EXDEV: rename'), { code: 'EXDEV' });
      rename(a, b);
    });
    expect(() => writeDirAtomic(d, both('second'))).toThrow(/EXDEV/);
    expect(read(path.join(d, 'a'))).toBe('first');
    expect(names()).toEqual(['checkpoint_000001']);
  });
});

describe('after a crash', () => {
  it('recoverDir puts back a previous version moved aside when the process died before the swap', () => {
    const d = path.join(root, 'checkpoint_000003');
    writeDirAtomic(d, both('previous'));
    // What a SIGKILL between the two renames leaves: the old one aside, the new one whole but hidden.
    fs.renameSync(d, path.join(root, '.checkpoint_000003.old-123-abcdef'));
    const tmp = path.join(root, '.checkpoint_000003.tmp-123-abcdef');
    fs.mkdirSync(tmp);
    both('next')(tmp);
    expect(recoverDir(d)).toBe(true);
    expect(read(path.join(d, 'a'))).toBe('previous');
    expect(recoverDir(path.join(root, 'checkpoint_000009'))).toBe(false);
  });

  it('removeLeftovers deletes temporary files and folders and superseded old versions, and keeps the rest', () => {
    writeDirAtomic(path.join(root, 'checkpoint_000001'), both('1'));
    writeDirAtomic(path.join(root, 'checkpoint_000002'), both('2'));
    writeFileAtomic(path.join(root, 'experiment_state.json'), '{}');
    // A folder write cut short, a file write cut short, an old version whose swap completed.
    fs.mkdirSync(path.join(root, '.checkpoint_000003.tmp-42-00ff'));
    fs.writeFileSync(path.join(root, '.checkpoint_000003.tmp-42-00ff', 'a'), 'half');
    fs.writeFileSync(path.join(root, '.experiment_state.json.tmp-42-0a0b'), '{"trials":[');
    fs.mkdirSync(path.join(root, '.checkpoint_000002.old-41-abcd'));
    // A removal cut short: half a folder, never brought back.
    fs.mkdirSync(path.join(root, '.checkpoint_000000.del-40-0123'));
    // An old version whose swap never happened comes back.
    fs.renameSync(path.join(root, 'checkpoint_000001'), path.join(root, '.checkpoint_000001.old-43-beef'));
    fs.writeFileSync(path.join(root, '.hidden-user-file'), 'mine');
    const removed = removeLeftovers(root);
    expect(removed.sort()).toEqual([
      '.checkpoint_000000.del-40-0123',
      '.checkpoint_000002.old-41-abcd',
      '.checkpoint_000003.tmp-42-00ff',
      '.experiment_state.json.tmp-42-0a0b',
    ]);
    expect(names()).toEqual(['.hidden-user-file', 'checkpoint_000001', 'checkpoint_000002', 'experiment_state.json']);
    expect(read(path.join(root, 'checkpoint_000001', 'a'))).toBe('1');
    expect(removeLeftovers(path.join(root, 'missing'))).toEqual([]);
  });

  it('removeDir takes a folder away from its name before deleting it', () => {
    const d = path.join(root, 'checkpoint_000001');
    writeDirAtomic(d, both('1'));
    const rm = fs.rmSync;
    vi.spyOn(fs, 'rmSync').mockImplementation((p, o) => {
      // Whatever is left of it while it is deleted is not under its name.
      expect(fs.existsSync(d)).toBe(false);
      expect(path.basename(String(p))).toMatch(/^\.checkpoint_000001\.del-/);
      rm(p, o);
    });
    removeDir(d);
    removeDir(d); // gone already: nothing to do
    expect(names()).toEqual([]);
  });

  it('makeTempDir makes scratch folders that removeLeftovers cleans', () => {
    const a = makeTempDir(path.join(root, 'scratch'));
    const b = makeTempDir(path.join(root, 'scratch'));
    expect(a).not.toBe(b);
    expect(fs.readdirSync(a)).toEqual([]);
    removeLeftovers(root);
    expect(names()).toEqual([]);
  });
});
