/**
 * What a node's gRPC server (the node service, and the GCS on the head) handled, per method, as
 * Ray's gRPC server metrics: requests started, finished, succeeded (status OK) and failed, and a
 * histogram of the time unary requests took (Ray's `grpc_server_req_process_time_ms`, its
 * buckets). One server interceptor counts; the node's `/metrics` renders the counts at scrape time
 * (metrics-latency.ts). Calls refused for their token are refused before it and not counted.
 */
import * as grpc from '@grpc/grpc-js';
import { LatencyHistogram } from '../metrics/latency-histogram.js';

/** Ray's `grpc_server_req_process_time_ms` bounds. */
export const GRPC_BUCKETS_MS: readonly number[] = [0.1, 1, 10, 100, 1000, 10000];

/** One method's figures. */
export interface GrpcMethodStats {
  started: number;
  succeeded: number;
  failed: number;
  /** Unary methods only: a stream's time is how long it stayed open, not a request's. */
  readonly latency: LatencyHistogram | undefined;
}

export class GrpcServerStats {
  /** By Ray's `Method` label: `Service.grpc_server.Method` (Ray's `NodeManagerService.grpc_server.X`). */
  readonly methods = new Map<string, GrpcMethodStats>();

  /** The figures of the method at `path` (`/package.Service/Method`), made on its first call. */
  method(path: string, unary: boolean): GrpcMethodStats {
    let m = this.methods.get(path);
    if (!m) {
      m = { started: 0, succeeded: 0, failed: 0, latency: unary ? new LatencyHistogram(GRPC_BUCKETS_MS) : undefined };
      this.methods.set(path, m);
    }
    return m;
  }

  /** Rows by Ray's `Method` label. */
  *rows(): Iterable<[string, GrpcMethodStats]> {
    for (const [path, m] of this.methods) yield [methodLabel(path), m];
  }
}

/** `/raytscore.Gcs/KvGet` -> `Gcs.grpc_server.KvGet`, as Ray names its handlers. */
export function methodLabel(path: string): string {
  const slash = path.lastIndexOf('/');
  const service = path.slice(path.lastIndexOf('.', slash) + 1, slash);
  return `${service}.grpc_server.${path.slice(slash + 1)}`;
}

/** A server interceptor that counts every call into `stats` (and times unary ones). */
export function grpcStatsInterceptor(stats: GrpcServerStats): grpc.ServerInterceptor {
  return (method, call) => {
    const m = stats.method(method.path, !method.requestStream && !method.responseStream);
    m.started++;
    const t0 = m.latency ? performance.now() : 0;
    let ended = false;
    const end = (ok: boolean) => {
      if (ended) return;
      ended = true;
      if (ok) m.succeeded++;
      else m.failed++;
      m.latency?.observe(performance.now() - t0);
    };
    const listener = new grpc.ServerListenerBuilder().withOnCancel(() => end(false)).build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder()
        .withStart((next) => next(listener))
        .withSendStatus((status, next) => {
          end(status.code === grpc.status.OK);
          next(status);
        })
        .build(),
    );
  };
}
