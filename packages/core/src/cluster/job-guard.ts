/**
 * What the job API checks before it acts on a request (as Ray's dashboard head does, stricter):
 * the cluster's token on every route (401), no requests from browsers (403: a web page could
 * otherwise make one, DNS rebinding included) except the dashboard's own reads (GETs of the same
 * origin, to a Host that DNS rebinding cannot forge: {@link browserMayRead}), bodies of the right type only (415: a browser's
 * `text/plain` or form POST needs no preflight) and of bounded size (413), and submission ids of
 * a safe form (400).
 */
import type http from 'node:http';
import { HttpError } from '../errors.js';
import { checkBearer, refusalMessage, type ClusterAuth } from './auth-token.js';

/** Headers only browsers send (Ray's `is_browser_request`): where a request comes from, and CORS. */
const BROWSER_HEADERS = [
  'origin',
  'referer',
  'sec-fetch-site',
  'sec-fetch-dest',
  'sec-fetch-user',
  'access-control-request-method',
  'access-control-request-headers',
] as const;

/**
 * Whether a request looks made by a browser: its user agent, a header that only browsers send, or
 * a `Sec-Fetch-Mode` other than `cors`. Unlike Ray's check, `Sec-Fetch-Mode: cors` alone passes:
 * Node's own `fetch` sends it (with no `Sec-Fetch-Site`), while a browser sends it along with
 * `Sec-Fetch-Site`, and with `Origin` on every cross-origin request.
 */
export function isBrowserRequest(headers: http.IncomingHttpHeaders): boolean {
  const mode = headers['sec-fetch-mode'];
  return (
    (headers['user-agent'] ?? '').startsWith('Mozilla') ||
    BROWSER_HEADERS.some((h) => headers[h] !== undefined) ||
    (mode !== undefined && mode !== 'cors')
  );
}

/** What a browser's request may read: its method, and the head's own host names (besides IP literals and localhost). */
export interface BrowserReads {
  readonly method: string | undefined;
  /** The names the head is reached by (its advertised host): a Host header may name these. */
  readonly hostNames: readonly string[];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The host of a Host header (without its port; an IPv6 literal without its brackets), lower case. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : undefined;
  }
  return h.replace(/:\d*$/, '');
}

/**
 * Whether a browser's request may be served (the dashboard's page reading the cluster): a GET (or
 * HEAD) sent by a page of the same origin (`Sec-Fetch-Site: same-origin`, or a browser too old to
 * send it, and an `Origin`, if any, of this Host), to a Host that is an IP literal, `localhost` or one of `hostNames`. DNS rebinding makes
 * a browser send a page's own name as Host (`evil.example`), so any other name is refused. Every
 * other method stays refused: nothing a browser sends changes the cluster.
 */
export function browserMayRead(headers: http.IncomingHttpHeaders, reads: BrowserReads): boolean {
  if (reads.method !== 'GET' && reads.method !== 'HEAD') return false;
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const host = hostOf(headers.host);
  if (!host) return false;
  // A browser sends Origin on a GET only across origins (or from an old page): it must be this one.
  const origin = headers.origin;
  if (origin !== undefined && origin !== `http://${headers.host}` && origin !== `https://${headers.host}`) return false;
  return (
    IPV4.test(host) ||
    host.includes(':') || // an IPv6 literal
    host === 'localhost' ||
    reads.hostNames.some((n) => n.toLowerCase() === host)
  );
}

/**
 * Why a request may not be served at all (undefined: it may): 401 without the cluster's token
 * (`Authorization: Bearer <token>`), 403 from a browser, unless `reads` is given and the request
 * is one a browser may make ({@link browserMayRead}). Every route, the websocket too.
 */
export function refuseRequest(
  headers: http.IncomingHttpHeaders,
  auth: ClusterAuth,
  reads?: BrowserReads,
): HttpError | undefined {
  const check = checkBearer(auth, headers.authorization);
  if (check !== 'ok') return new HttpError(401, refusalMessage(check));
  if (isBrowserRequest(headers) && !(reads && browserMayRead(headers, reads)))
    return new HttpError(
      403,
      "the ray-ts job API refuses requests from browsers (a web page could make them), but for the dashboard's " +
        "reads: GETs from its own page (Sec-Fetch-Site: same-origin), at an IP address, localhost or the head's " +
        "own host name. Use ray-ts job, Ray's JobSubmissionClient, or curl for the rest",
    );
  return undefined;
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;
/** What an uploaded package may be sent as (Ray's client sends none). */
const PACKAGE_TYPE = /^application\/(octet-stream|zip|x-zip-compressed)\s*(;|$)/i;

const hasBody = (req: http.IncomingMessage) =>
  Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

/**
 * Checks a request's body before it is read: a package upload (`package`) is sent as bytes, every
 * other body as JSON (415 otherwise; a body-less POST or DELETE is fine); a declared length above
 * `maxBytes` is 413.
 */
export function checkBody(req: http.IncomingMessage, kind: 'json' | 'package', maxBytes: number): void {
  const type = req.headers['content-type'];
  if (kind === 'package') {
    if (type !== undefined && !PACKAGE_TYPE.test(type))
      throw new HttpError(415, `a package is uploaded as application/octet-stream (or no content type), not ${type}`);
  } else if ((type !== undefined || hasBody(req)) && !JSON_TYPE.test(type ?? '')) {
    throw new HttpError(
      415,
      `the job API takes JSON bodies only, sent with 'Content-Type: application/json' (got ${type ?? 'no content type'})`,
    );
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpError(413, `the body is ${declared} bytes, over this head's ${maxBytes}`);
}

/** The body of `req`, at most `maxBytes` of it (413 beyond, whatever it declared). */
export async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `the body is over this head's ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A JSON body (checked with {@link checkBody} first): 400 when it does not parse. */
export async function readJson(req: http.IncomingMessage, maxBytes: number, example: string): Promise<unknown> {
  checkBody(req, 'json', maxBytes);
  const text = (await readBody(req, maxBytes)).toString('utf8');
  try {
    return JSON.parse(text || '{}') as unknown;
  } catch {
    throw new HttpError(400, `the body must be JSON: ${example}`);
  }
}

const SUBMISSION_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Checks a submission id given by a client (400 with what is allowed). */
export function checkSubmissionId(id: unknown): string {
  if (typeof id === 'string' && SUBMISSION_ID.test(id)) return id;
  const shown = typeof id === 'string' ? `'${id.slice(0, 80)}${id.length > 80 ? '...' : ''}'` : typeof id;
  throw new HttpError(
    400,
    `submission_id ${shown} is not valid: use 1 to 128 letters, digits, '_', '-' and '.', not starting with '.' or '-'`,
  );
}
