/**
 * Following a job's log as it is written (Ray's `tail_job_logs`, `ray job logs --follow`): the
 * head reads the log file in bounded chunks while the job runs and once more after it ended, so
 * that a follower gets all of it and then the end. Served on the job API's own HTTP server as
 * Ray's websocket (`GET /api/jobs/<id>/logs/tail` upgraded: one text frame per chunk, then a
 * normal close) and, to a plain GET (curl), as one streamed text response.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { HttpError } from '../errors.js';
import { ignored } from '../log.js';
import type { ClusterAuth } from './auth-token.js';
import { refuseRequest } from './job-guard.js';

/** The most bytes read at a time (a chunk is at most this, plus the rest of a character cut by the read before). */
export const TAIL_CHUNK_BYTES = 64 * 1024;

export interface TailOptions {
  /** True once nothing more will be written (the job ended); the file is then read to its end. */
  readonly ended: () => boolean;
  /** How long to wait before looking again when nothing new was written. */
  readonly pollMs: number;
  /** Ends the tail early (the follower went away). */
  readonly signal?: AbortSignal;
  /** The most bytes read at a time (default {@link TAIL_CHUNK_BYTES}). */
  readonly chunkBytes?: number;
}

/**
 * The text of the file at `file` from its start, chunk by chunk as it grows, until `ended()` and
 * all of it was given. A missing file reads as empty (the job has not started writing). Chunks
 * never split a UTF-8 character.
 */
export async function* tailFile(file: string, opts: TailOptions): AsyncGenerator<string> {
  const buf = Buffer.alloc(opts.chunkBytes ?? TAIL_CHUNK_BYTES);
  const decoder = new StringDecoder('utf8');
  let fh: fs.FileHandle | undefined;
  let pos = 0;
  let last = false; // ended() was seen: the next empty read is the end
  try {
    while (!opts.signal?.aborted) {
      fh ??= (await fs.open(file, 'r').catch(ignored('the job has written no log yet; looked for again'))) ?? undefined;
      const n = fh ? (await fh.read(buf, 0, buf.length, pos)).bytesRead : 0;
      if (n > 0) {
        pos += n;
        const text = decoder.write(buf.subarray(0, n));
        if (text) yield text;
        continue;
      }
      if (last) {
        const rest = decoder.end();
        if (rest) yield rest;
        return;
      }
      // Whatever was written before the job ended is in the file now: read once more, to the end.
      if (opts.ended()) last = true;
      else
        await sleep(opts.pollMs, undefined, { signal: opts.signal }).catch(
          ignored('a log tail was aborted while waiting; the loop ends on the abort'),
        );
    }
  } finally {
    await fh?.close();
  }
}

/**
 * The last `maxBytes` of the file at `file` (all of it when shorter), read in pieces of
 * {@link TAIL_CHUNK_BYTES}, never whole: its text, and how many bytes before it were left out. A
 * missing file reads as empty. The text starts at a whole UTF-8 character.
 */
export async function readLastBytes(file: string, maxBytes: number): Promise<{ text: string; skipped: number }> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    ignored('a job log that does not exist yet reads as empty')(err);
    return { text: '', skipped: 0 };
  }
  try {
    const size = (await fh.stat()).size;
    let pos = Math.max(0, size - maxBytes);
    const skipped = pos;
    const buf = Buffer.alloc(Math.min(TAIL_CHUNK_BYTES, Math.max(1, size - pos)));
    const decoder = new StringDecoder('utf8');
    const parts: string[] = [];
    let first = skipped > 0;
    while (pos < size) {
      const n = (await fh.read(buf, 0, Math.min(buf.length, size - pos), pos)).bytesRead;
      if (n === 0) break;
      let piece = buf.subarray(0, n);
      pos += n;
      if (first) {
        // Cut in the middle of a character: start at the next one.
        let i = 0;
        while (i < piece.length && i < 3 && (piece[i] & 0xc0) === 0x80) i++;
        piece = piece.subarray(i);
        first = false;
      }
      parts.push(decoder.write(piece));
    }
    parts.push(decoder.end());
    return { text: parts.join(''), skipped };
  } finally {
    await fh.close();
  }
}

/** What {@link attachLogTail} follows: a job's log chunks; throws HttpError (404) for no such job. */
export interface LogTailSource {
  tailLogs(id: string, signal: AbortSignal): AsyncIterable<string>;
}

/** `<id>` of `/api/jobs/<id>/logs/tail` (undefined: another path, or one that is not a URL's). */
function tailPathId(url: string | undefined): string | undefined {
  try {
    const parts = new URL(url ?? '/', 'http://x').pathname.split('/').filter(Boolean);
    if (parts.length !== 5 || parts[0] !== 'api' || parts[1] !== 'jobs' || parts[3] !== 'logs' || parts[4] !== 'tail')
      return undefined;
    return decodeURIComponent(parts[2]);
  } catch (err) {
    ignored('a websocket request for a path that is not a URL; answered as no such path')(err);
    return undefined;
  }
}

/** Answers an upgrade request with an HTTP error instead (as Ray's head: 404 for no such job). */
function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Serves Ray's log tail websocket on `server` (the job API's): `GET /api/jobs/<id>/logs/tail`
 * with an upgrade gets one text frame per chunk of the job's log, then a close with code 1000
 * once the job ended and all was sent. A request without the cluster's token (`auth`) or from a
 * browser, an unknown job or path, is answered with an HTTP error instead. Returns a function that closes the followers still connected (code 1001: the head is going
 * away), which `server.close()` alone leaves open.
 */
export function attachLogTail(server: http.Server, jobs: LogTailSource, auth: ClusterAuth): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', ignored('a log tail connection failed; its follower reconnects or gives up'));
    // The token and the browser check, as on every other route, before anything is looked up.
    const refused = refuseRequest(req.headers, auth);
    if (refused) return refuse(socket, refused.status, refused.message);
    const id = tailPathId(req.url);
    if (id === undefined)
      return refuse(socket, 404, `no websocket at ${req.url}: follow a job's log at /api/jobs/<id>/logs/tail`);
    const abort = new AbortController();
    let chunks: AsyncIterable<string>;
    try {
      chunks = jobs.tailLogs(id, abort.signal);
    } catch (err) {
      return refuse(socket, err instanceof HttpError ? err.status : 500, (err as Error).message);
    }
    wss.handleUpgrade(req, socket, head, (ws) => void sendTail(ws, chunks, abort));
  });
  return () => {
    for (const ws of wss.clients) ws.close(1001, 'the head is stopping');
    wss.close();
  };
}

async function sendTail(ws: WebSocket, chunks: AsyncIterable<string>, abort: AbortController): Promise<void> {
  ws.on('close', () => abort.abort());
  ws.on('error', ignored('a log tail websocket failed; its follower reconnects or gives up'));
  try {
    for await (const text of chunks) {
      if (ws.readyState !== ws.OPEN) return;
      // Waits until the frame is written: a slow follower slows the reads, not the head's memory.
      await new Promise<void>((resolve, reject) => ws.send(text, (err) => (err ? reject(err) : resolve())));
    }
    ws.close(1000, 'the job ended');
  } catch (err) {
    ignored('following a job log failed; its follower sees close code 1011')(err);
    if (ws.readyState === ws.OPEN) ws.close(1011, "reading the job's log failed");
  }
}

/** The same chunks as one streamed text response, to a plain GET (curl) of the tail path. */
export async function sendTailOverHttp(
  res: http.ServerResponse,
  tail: (signal: AbortSignal) => AsyncIterable<string>,
): Promise<void> {
  const abort = new AbortController();
  const chunks = tail(abort.signal); // throws (404) before anything is sent
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.on('close', () => abort.abort());
  for await (const text of chunks) {
    if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  res.end();
}
