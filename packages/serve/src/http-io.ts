/**
 * The HTTP proxy's reading and writing, bounded: request bodies are read up to a limit (413
 * past it, reading no further), response streams are written no faster than the client reads
 * (waiting for 'drain'), and Serve's own errors are answered as JSON.
 */
import type http from 'node:http';
import type net from 'node:net';
import { drained, type Cancellation } from './cancellation.js';
import { RequestBodyTooLargeError, RequestCancelledError } from './errors.js';

/** Answers an error Serve produced itself: `{"error": name, "message": text}`. */
export function sendError(
  res: http.ServerResponse,
  status: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    // Part of the answer is out: cutting the connection is the only way left to say it failed.
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const body = Buffer.from(JSON.stringify({ error, message }));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, ...headers });
  res.end(body);
}

function tooLarge(limit: number, what: string): RequestBodyTooLargeError {
  return new RequestBodyTooLargeError(
    `The request body is larger than ${limit} bytes (${what}). Send a smaller body, or raise http.maxRequestBodyBytes in serve.start().`,
    limit,
  );
}

/** The error for a request whose `Content-Length` already says it is too large; undefined otherwise. */
export function declaredTooLarge(req: http.IncomingMessage, limit: number): RequestBodyTooLargeError | undefined {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > limit
    ? tooLarge(limit, `its Content-Length is ${declared}`)
    : undefined;
}

/**
 * Reads a request's body, up to `limit` bytes. Past it, rejects with RequestBodyTooLargeError and
 * buffers nothing more: the rest is discarded as it arrives until the connection closes (the
 * caller answers 413 with `Connection: close`). Rejects too when the client goes away first.
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array> {
  const early = declaredTooLarge(req, limit);
  if (early) return Promise.reject(early);
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) {
        chunks.push(c);
        return;
      }
      cleanup();
      chunks.length = 0;
      req.on('data', discard);
      reject(tooLarge(limit, `more than that arrived`));
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const gone = (cause?: Error) => {
      cleanup();
      reject(
        new RequestCancelledError('the client disconnected before its request body was complete', {
          ...(cause ? { cause } : {}),
        }),
      );
    };
    const onError = (err: Error) => gone(err);
    const onClose = () => gone();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function discard(): void {
  // The bytes of a refused body: dropped as they come, until the connection closes.
}

/**
 * Makes the `Connection: close` answer to a refused request reach its client. Node closes such a
 * socket as soon as the answer is written; closing with bytes of the body still unread sends a
 * reset, and a client still sending (most send the whole body before they read) may lose the
 * answer. Instead the socket is half-closed (the client reads the answer, then the end) and what
 * still arrives is dropped, until the client closes too or `lingerMs` passed (as nginx's
 * lingering close).
 */
export function closeLingering(res: http.ServerResponse, lingerMs: number): void {
  const socket = res.socket as (net.Socket & { destroySoon?: () => void }) | null;
  if (!socket) return;
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('end', () => socket.destroy());
  };
}

/**
 * Writes chunks to a response, waiting for 'drain' whenever the socket's buffer is over its
 * high-water mark, so a slow client holds back the stream instead of filling memory. Rejects
 * with the cancellation's reason when it comes (the client left, or the request timed out).
 */
export async function writeAll(res: http.ServerResponse, chunks: unknown[], cancel: Cancellation): Promise<void> {
  for (const c of chunks) {
    cancel.throwIfCancelled();
    if (!res.write(c as Uint8Array)) await drained(res, cancel);
  }
}

/** The symbol of undici's internal state of a Response (Node's fetch), once found. */
let responseState: symbol | null | undefined;

/**
 * The body of a Response made from text or bytes (`Response.json()`, `new Response('...')`),
 * taken as is: reading it through its ReadableStream costs each request tens of µs. Relies on
 * undici keeping the body's source in its state; undefined whenever that does not hold (another
 * runtime, a stream body, a body already read), and the body is then read as a stream.
 */
export function wholeBody(response: Response): Uint8Array[] | undefined {
  if (responseState === undefined)
    responseState = Object.getOwnPropertySymbols(response).find((s) => s.description === 'state') ?? null;
  if (!responseState || response.bodyUsed) return undefined;
  const body = (response as unknown as Record<symbol, { body?: { source?: unknown; stream?: ReadableStream } }>)[
    responseState
  ]?.body;
  if (!body) return response.body === null ? [] : undefined;
  if (body.stream?.locked) return undefined;
  const src = body.source;
  if (typeof src === 'string') return [Buffer.from(src)];
  if (src instanceof Uint8Array) return [src];
  return undefined;
}
