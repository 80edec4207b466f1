import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/architecture.md's map of core's files must match the tree: each module is named in the
// row of its folder (generated code and tests aside).
const src = path.dirname(fileURLToPath(import.meta.url));
const doc = fs.readFileSync(path.join(src, '../../../docs/architecture.md'), 'utf8');

function rowOf(folder: string): string {
  const head = folder ? `| \`${folder}/\` |` : '| top level |';
  const line = doc.split('\n').find((l) => l.startsWith(head));
  if (!line)
    throw new Error(`docs/architecture.md has no row for ${folder || 'the top level'} in its map of core's files`);
  return line;
}

function modules(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (e.name !== 'generated') out.push(...modules(path.join(dir, e.name), path.join(rel, e.name)));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(path.join(rel, e.name));
  }
  return out;
}

describe("docs/architecture.md's map of core's files", () => {
  it('names every module of packages/core/src in the row of its folder', () => {
    const missing = modules(src).filter(
      (m) => !rowOf(path.dirname(m) === '.' ? '' : path.dirname(m)).includes(`\`${path.basename(m)}\``),
    );
    expect(missing).toEqual([]);
  });

  it('names no module that is not there', () => {
    const present = new Set(modules(src));
    const rows = ['api', 'runtime', 'protocol', 'node', 'cluster', 'metrics', 'worker', ''];
    const stale: string[] = [];
    for (const folder of rows) {
      const row = rowOf(folder);
      const cells = row.split('|');
      const files = [...cells[3].matchAll(/`([\w-]+\.ts)`/g)].map((m) => m[1]);
      for (const f of files)
        if (!present.has(folder ? path.join(folder, f) : f)) stale.push(folder ? `${folder}/${f}` : f);
    }
    expect(stale).toEqual([]);
  });
});
