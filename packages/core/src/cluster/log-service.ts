/**
 * A node's logs over gRPC (the Node service's ListLogs and StreamLog, which only the head calls):
 * the handlers that serve a {@link NodeLogReader}, and the {@link LogSource} the head reads a
 * remote node's logs through. Errors cross as status codes and come back typed: NOT_FOUND as
 * LogNotFoundError, INVALID_ARGUMENT as LogPathError.
 */
import * as grpc from '@grpc/grpc-js';
import { LogNotFoundError, LogPathError, RayError } from '../errors.js';
import { ignored } from '../log.js';
import type { NodeClient, NodeHandlers } from './generated/raytscore/Node.js';
import type { LogChunk__Output } from './generated/raytscore/LogChunk.js';
import type { ListLogsReply__Output } from './generated/raytscore/ListLogsReply.js';
import { unary } from './proto.js';
import type { LogFileInfo, LogRequest, LogSource, OpenedLog } from './node-logs.js';

function statusOf(err: unknown): grpc.status {
  if (err instanceof LogNotFoundError) return grpc.status.NOT_FOUND;
  if (err instanceof LogPathError) return grpc.status.INVALID_ARGUMENT;
  return grpc.status.INTERNAL;
}

/** The Node service's log methods, served from `logs` (undefined: a node without a log directory). */
export function logHandlers(logs: LogSource | undefined): Pick<NodeHandlers, 'ListLogs' | 'StreamLog'> {
  return {
    ListLogs: (call, cb) => {
      if (!logs) return cb(null, { files: [] });
      logs.list(call.request.glob).then(
        (files) => cb(null, { files }),
        (err: Error) => cb({ code: statusOf(err), details: err.message }),
      );
    },
    StreamLog: (call) => {
      const r = call.request;
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      call.on('close', () => ac.abort());
      const req: LogRequest = {
        filename: r.filename || undefined,
        actorId: r.actorId || undefined,
        taskId: r.taskId || undefined,
        pid: r.pid || undefined,
        err: r.err,
        lines: r.lines,
        follow: r.follow,
        offset: r.hasOffset ? Number(r.offset) : undefined,
      };
      void (async () => {
        try {
          if (!logs)
            throw new LogNotFoundError('This node keeps no log files (it was started without a log directory).');
          const opened = await logs.open(req, ac.signal);
          call.write({ data: '', filename: opened.filename });
          for await (const data of opened.chunks) {
            if (ac.signal.aborted) break;
            // Flow control: a slow reader (the head relaying to a slow client) holds the node back.
            if (!call.write({ data }))
              await new Promise((resolve) => {
                call.once('drain', resolve);
                ac.signal.addEventListener('abort', resolve, { once: true });
              });
          }
          call.end();
        } catch (err) {
          if (ac.signal.aborted) return;
          call.emit('error', { code: statusOf(err), details: (err as Error).message });
        }
      })();
    },
  };
}

function typed(err: unknown): Error {
  const e = err as grpc.ServiceError;
  if (e.code === grpc.status.NOT_FOUND) return new LogNotFoundError(e.details);
  if (e.code === grpc.status.INVALID_ARGUMENT) return new LogPathError(e.details);
  return new RayError(`Reading a log failed: ${e.details ?? e.message}`, { cause: err });
}

/** The logs of the node that `client` calls. */
export function remoteLogSource(client: NodeClient, timeoutMs = 10_000): LogSource {
  return {
    async list(glob = ''): Promise<LogFileInfo[]> {
      try {
        const r = await unary<unknown, ListLogsReply__Output>(client, 'ListLogs', { glob }, timeoutMs);
        return r.files.map((f) => ({
          name: f.name,
          sizeBytes: Number(f.sizeBytes),
          mtimeMs: f.mtimeMs,
          category: f.category as LogFileInfo['category'],
        }));
      } catch (err) {
        throw typed(err);
      }
    },
    open(req: LogRequest, signal: AbortSignal): Promise<OpenedLog> {
      const call = client.StreamLog({
        filename: req.filename ?? '',
        actorId: req.actorId ?? '',
        taskId: req.taskId ?? '',
        pid: req.pid ?? 0,
        err: req.err ?? false,
        lines: req.lines ?? 0,
        follow: req.follow ?? false,
        hasOffset: req.offset !== undefined,
        offset: req.offset ?? 0,
      });
      const cancel = () => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      const it = (call as AsyncIterable<LogChunk__Output>)[Symbol.asyncIterator]();
      return (async () => {
        let header: IteratorResult<LogChunk__Output>;
        try {
          header = await it.next();
        } catch (err) {
          signal.removeEventListener('abort', cancel);
          throw typed(err);
        }
        async function* chunks(): AsyncGenerator<string> {
          try {
            for (;;) {
              const n = await it.next();
              if (n.done) return;
              if (n.value.data) yield n.value.data;
            }
          } catch (err) {
            if (signal.aborted) return ignored('the reader went away: the stream was cancelled')(err);
            throw typed(err);
          } finally {
            signal.removeEventListener('abort', cancel);
            call.cancel();
          }
        }
        return { filename: header.done ? '' : header.value.filename, chunks: chunks() };
      })();
    },
  };
}
