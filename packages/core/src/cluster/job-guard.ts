/**
 * What the job API checks before it acts on a request (as Ray's dashboard head does, stricter):
 * the cluster's token on every route (401), no requests from browsers (403: a web page could
 * otherwise make one, DNS rebinding included), bodies of the right type only (415: a browser's
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

/**
 * Why a request may not be served at all (undefined: it may): 401 without the cluster's token
 * (`Authorization: Bearer <token>`), 403 from a browser. Every route, the websocket too.
 */
export function refuseRequest(headers: http.IncomingHttpHeaders, auth: ClusterAuth): HttpError | undefined {
  const check = checkBearer(auth, headers.authorization);
  if (check !== 'ok') return new HttpError(401, refusalMessage(check));
  if (isBrowserRequest(headers))
    return new HttpError(
      403,
      'the ray-ts job API refuses requests from browsers (a web page could make them): use ray-ts job, ' +
        "Ray's JobSubmissionClient, or curl",
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
