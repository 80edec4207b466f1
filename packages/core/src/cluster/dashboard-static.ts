/**
 * The dashboard's page on the head's HTTP port: the static bundle built into core's
 * `dist/dashboard/` (index.html, app.js, app.css), served without the token (it holds no data: the
 * page asks for the token and sends it with every data request) under a strict
 * Content-Security-Policy. `/assets/<file>` are the bundle's files; every other path outside
 * `/api/` is a page of the single-page app: index.html.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError } from '../errors.js';

/** The headers of every static answer: no inline script or style, no framing, no referrer. */
export const STATIC_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // The bundle's names carry no hash: a browser asks again (and gets 304) after each build.
  'cache-control': 'no-cache',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** A bundle file name: one path segment of safe characters with a known extension (no `..`, no folders). */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * Where the bundle is: `RAY_TS_DASHBOARD_DIR` (config.ts's `dashboardDir`) when set, else the
 * `dist/dashboard` of the @ray-ts/core package this module was loaded from (found by walking up
 * to its package.json: the module may be a bundle chunk or a compiled file). Undefined: none built.
 */
export function dashboardDir(configured: string, from: string = fileURLToPath(import.meta.url)): string | undefined {
  if (configured) return configured;
  let dir = path.dirname(from);
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === '@ray-ts/core')
          return path.join(dir, 'dist', 'dashboard');
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * Answers a request for the dashboard's page (a path outside `/api/`): GET or HEAD only (405
 * otherwise), 404 for an asset that is not there, 503 when no bundle was built.
 */
export async function serveStatic(
  dir: string | undefined,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}: the dashboard's page is read with GET`);
  const asset = url.pathname.startsWith('/assets/') ? url.pathname.slice('/assets/'.length) : undefined;
  if (asset !== undefined && (!FILE_NAME.test(asset) || !TYPES[path.extname(asset)]))
    throw new HttpError(404, `no asset ${url.pathname}`);
  const file = dir ? path.join(dir, asset ?? 'index.html') : undefined;
  let body: Buffer;
  try {
    if (!file) throw Object.assign(new Error('no bundle'), { code: 'ENOENT' });
    body = await fs.promises.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (asset !== undefined) throw new HttpError(404, `no asset ${url.pathname}`);
    res.writeHead(503, { ...STATIC_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    res.end(
      `The ray-ts dashboard's page is not built (looked in ${dir ?? "@ray-ts/core's dist/dashboard"}): ` +
        `build @ray-ts/core (npm run build), or set RAY_TS_DASHBOARD_DIR. The data API under /api/ works without it.\n`,
    );
    return;
  }
  const etag = `"${body.length.toString(36)}-${hash(body)}"`;
  const headers = { ...STATIC_HEADERS, 'content-type': TYPES[path.extname(file!)], etag };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A cheap content hash for the ETag (FNV-1a over the bytes). */
function hash(b: Buffer): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(36);
}
