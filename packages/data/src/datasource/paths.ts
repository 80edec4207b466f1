/**
 * Path expansion for the file readers: turns what a user passes to `readParquet('data/')` and
 * friends (files, directories, glob patterns) into the sorted list of files to read.
 *
 * Only the local filesystem is supported for now.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataInvalidArgumentError, DatasourceError } from '../errors.js';

/** Options of {@link expandPaths}. */
export interface ExpandPathsOptions {
  /**
   * Keep only files whose name ends with one of these (case-insensitive), e.g. `['parquet']` or
   * `['.csv', '.tsv']`. Applies to files found in directories and by patterns; a file named
   * explicitly is always kept.
   */
  readonly extensions?: readonly string[];
}

const GLOB_CHARS = /[*?[]/;
const URI_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

/**
 * Expands files, directories and glob patterns into the sorted, deduplicated absolute paths of the
 * files they name.
 *
 * - A file is kept as is (whatever its extension).
 * - A directory is walked recursively; files and directories whose names start with `.` or `_`
 *   are skipped (like Ray: `_SUCCESS`, `.crc` files, `_temporary/`), and only files ending with one
 *   of `extensions` are kept when given.
 * - A pattern may use `*` and `?` (within one path segment), `[abc]`, `[a-z]`, `[!abc]` and `**`
 *   (any number of directories). Wildcards never match names starting with `.` or `_`. A directory
 *   that a pattern matches is walked like a directory given directly. A path that exists as
 *   written is taken literally even if it contains glob characters.
 *
 * `file://` URIs are accepted; other URIs (`s3://`, `gs://`...) are rejected.
 *
 * @throws DatasourceError when a path does not exist, a URI is not local, or a directory or
 *   pattern matches no file.
 * @throws DataInvalidArgumentError when no path is given.
 */
export async function expandPaths(paths: string | readonly string[], opts: ExpandPathsOptions = {}): Promise<string[]> {
  const entries = typeof paths === 'string' ? [paths] : paths;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new DataInvalidArgumentError(
      'No path given: pass a file, a directory or a glob pattern (or a list of them).',
    );
  }
  const extensions = normalizeExtensions(opts.extensions);
  const found = new Set<string>();
  for (const entry of entries) {
    if (typeof entry !== 'string' || entry === '') {
      throw new DataInvalidArgumentError(`Invalid path ${JSON.stringify(entry)}: paths must be non-empty strings.`);
    }
    for (const file of await expandOne(entry, extensions)) found.add(file);
  }
  return [...found].sort();
}

async function expandOne(entry: string, extensions: readonly string[] | undefined): Promise<string[]> {
  const abs = toLocalPath(entry);
  const stats = await statOrNull(abs, entry);
  if (stats?.isFile()) return [abs];
  if (stats?.isDirectory()) {
    const files = await walkDirectory(abs, extensions, entry);
    if (files.length === 0) {
      throw new DatasourceError(
        `Directory ${abs} contains no ${describeWanted(extensions)}. ` +
          `Files and directories whose names start with '.' or '_' are skipped; check the directory or the file extensions.`,
        entry,
      );
    }
    return files;
  }
  if (stats) {
    throw new DatasourceError(
      `${abs} is neither a regular file nor a directory (a socket, device or FIFO?). Pass a file or a directory.`,
      entry,
    );
  }
  if (GLOB_CHARS.test(abs)) {
    const files = await expandPattern(abs, extensions, entry);
    if (files.length === 0) {
      throw new DatasourceError(
        `Pattern ${entry} matched no ${describeWanted(extensions)}` +
          (entry === abs ? '' : ` (resolved to ${abs})`) +
          `. Wildcards do not match names starting with '.' or '_'; check the pattern.`,
        entry,
      );
    }
    return files;
  }
  throw new DatasourceError(
    `No such file or directory: ${entry}. Check the path; relative paths resolve from ${process.cwd()}.`,
    entry,
  );
}

/** Resolves an entry to an absolute local path; rejects non-local URIs. */
function toLocalPath(entry: string): string {
  if (entry.startsWith('file://')) {
    try {
      return fileURLToPath(entry);
    } catch (cause) {
      throw new DatasourceError(
        `Invalid file URI ${entry}: ${(cause as Error).message}. Use file:///absolute/path or a plain path.`,
        entry,
        { cause },
      );
    }
  }
  if (URI_SCHEME.test(entry)) {
    throw new DatasourceError(
      `Only local paths are supported for now: cannot read ${entry}. Copy the data to the local filesystem (or a shared mount) and pass that path.`,
      entry,
    );
  }
  return path.resolve(entry);
}

function normalizeExtensions(extensions: readonly string[] | undefined): readonly string[] | undefined {
  if (extensions === undefined || extensions.length === 0) return undefined;
  return extensions.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase());
}

function describeWanted(extensions: readonly string[] | undefined): string {
  return extensions ? `file ending with ${extensions.join(', ')}` : 'file';
}

function wanted(name: string, extensions: readonly string[] | undefined): boolean {
  if (!extensions) return true;
  const lower = name.toLowerCase();
  return extensions.some((e) => lower.endsWith(e));
}

function isHidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

/** `fs.stat` (following links), or null when nothing is there. Other errors become DatasourceErrors. */
async function statOrNull(p: string, entry: string): Promise<Stats | null> {
  try {
    return await fs.stat(p);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new DatasourceError(`Cannot access ${p}: ${(cause as Error).message}. Check its permissions.`, entry, {
      cause,
    });
  }
}

async function readDir(dir: string, entry: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (cause) {
    throw new DatasourceError(
      `Cannot list directory ${dir}: ${(cause as Error).message}. Check its permissions.`,
      entry,
      { cause },
    );
  }
}

/**
 * All wanted, non-hidden files under `dir`, recursively. Symbolic links are followed; a directory
 * reached twice (a link cycle) is walked once.
 */
async function walkDirectory(
  dir: string,
  extensions: readonly string[] | undefined,
  entry: string,
  seen = new Set<string>(),
): Promise<string[]> {
  const real = await fs.realpath(dir).catch(() => dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const out: string[] = [];
  for (const name of (await readDir(dir, entry)).sort()) {
    if (isHidden(name)) continue;
    const child = path.join(dir, name);
    const stats = await statOrNull(child, entry);
    if (stats?.isDirectory()) out.push(...(await walkDirectory(child, extensions, entry, seen)));
    else if (stats?.isFile() && wanted(name, extensions)) out.push(child);
  }
  return out;
}

/** Files matching an absolute glob pattern, walking from its longest literal directory prefix. */
async function expandPattern(
  pattern: string,
  extensions: readonly string[] | undefined,
  entry: string,
): Promise<string[]> {
  const { root } = path.parse(pattern);
  const segments = pattern
    .slice(root.length)
    .split(path.sep)
    .filter((s) => s !== '');
  let firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
  if (firstGlob < 0) firstGlob = segments.length;
  const base = path.join(root, ...segments.slice(0, firstGlob));
  const baseStats = await statOrNull(base, entry);
  if (!baseStats?.isDirectory()) return [];
  const matchers = segments.slice(firstGlob).map(segmentMatcher);
  const out = new Set<string>();
  await matchFrom(base, matchers, 0, extensions, entry, out, new Set());
  return [...out];
}

type SegmentMatcher =
  { kind: 'globstar' } | { kind: 'literal'; name: string } | { kind: 'pattern'; re: RegExp; allowHidden: boolean };

function segmentMatcher(segment: string): SegmentMatcher {
  if (segment === '**') return { kind: 'globstar' };
  if (!GLOB_CHARS.test(segment)) return { kind: 'literal', name: segment };
  return { kind: 'pattern', re: globSegmentToRegExp(segment), allowHidden: isHidden(segment) };
}

/**
 * Converts one path segment of a glob to an anchored RegExp: `*` → any run of characters, `?` → one
 * character, `[...]` → a character class (`[!...]` or `[^...]` negates). Other characters match
 * themselves; an unclosed `[` matches itself.
 */
export function globSegmentToRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') {
      while (segment[i + 1] === '*') i++;
      re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 's');
}

async function matchFrom(
  dir: string,
  matchers: readonly SegmentMatcher[],
  index: number,
  extensions: readonly string[] | undefined,
  entry: string,
  out: Set<string>,
  seen: Set<string>,
): Promise<void> {
  // Every segment matched: `dir` itself is a match (a file, or a directory to walk).
  if (index === matchers.length) {
    const stats = await statOrNull(dir, entry);
    if (stats?.isFile()) {
      if (wanted(path.basename(dir), extensions)) out.add(dir);
    } else if (stats?.isDirectory()) {
      for (const f of await walkDirectory(dir, extensions, entry)) out.add(f);
    }
    return;
  }
  const m = matchers[index];
  if (m.kind === 'literal') {
    const child = path.join(dir, m.name);
    if (await statOrNull(child, entry)) await matchFrom(child, matchers, index + 1, extensions, entry, out, seen);
    return;
  }
  const stats = await statOrNull(dir, entry);
  if (!stats?.isDirectory()) return;
  if (m.kind === 'globstar') {
    // `**` as the last segment: every file below (the walk skips hidden names).
    if (index === matchers.length - 1) {
      for (const f of await walkDirectory(dir, extensions, entry)) out.add(f);
      return;
    }
    const real = await fs.realpath(dir).catch(() => dir);
    const key = `${real}\u0000${index}`;
    if (seen.has(key)) return;
    seen.add(key);
    // Zero directories, then one more directory and `**` again.
    await matchFrom(dir, matchers, index + 1, extensions, entry, out, seen);
    for (const name of (await readDir(dir, entry)).sort()) {
      if (isHidden(name)) continue;
      const child = path.join(dir, name);
      if ((await statOrNull(child, entry))?.isDirectory())
        await matchFrom(child, matchers, index, extensions, entry, out, seen);
    }
    return;
  }
  for (const name of (await readDir(dir, entry)).sort()) {
    if (isHidden(name) && !m.allowHidden) continue;
    if (m.re.test(name)) await matchFrom(path.join(dir, name), matchers, index + 1, extensions, entry, out, seen);
  }
}
