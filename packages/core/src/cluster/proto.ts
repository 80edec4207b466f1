/**
 * Loads the gRPC services of proto/*.proto (the one definition of every message between ray-ts
 * processes) with the same options the generated types in ./generated were made with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as GcsProto } from './generated/gcs.js';
import type { ProtoGrpcType as NodeProto } from './generated/node.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import type { NodeClient } from './generated/raytscore/Node.js';
import { clientAuthInterceptor, serverAuthInterceptor } from './auth.js';
import type { ClusterAuth } from './auth-token.js';
import { clientSecurity, serverCredentials } from './tls-grpc.js';
import { clientIdentityInterceptor, type MemberIdentity } from './identity.js';
import { loadConfig } from '../config.js';
import { clientMessageOptions, messageLimitInterceptor, serverMessageOptions } from './message-limits.js';

/**
 * The version every node and driver of a cluster must share. `RAY_TS_VERSION_OVERRIDE` makes a
 * process claim another one (to try a mixed-version cluster's error).
 */
export const VERSION = process.env.RAY_TS_VERSION_OVERRIDE || '0.1.0';

/** proto/ of this package, from src/cluster (sources) or dist/bundle (the bundle). */
function protoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = path.join(dir, 'proto');
    if (fs.existsSync(path.join(p, 'node.proto'))) return p;
    dir = path.dirname(dir);
  }
  throw new Error(`ray-ts: cannot find the proto/ directory of @ray-ts/core above ${fileURLToPath(import.meta.url)}`);
}

let loaded: { gcs: GcsProto['raytscore']; node: NodeProto['raytscore'] } | undefined;

export function protos(): { gcs: GcsProto['raytscore']; node: NodeProto['raytscore'] } {
  if (loaded) return loaded;
  const dir = protoDir();
  const opts: protoLoader.Options = { longs: Number, defaults: true, oneofs: true, includeDirs: [dir] };
  const gcs = grpc.loadPackageDefinition(protoLoader.loadSync('gcs.proto', opts)) as unknown as GcsProto;
  const node = grpc.loadPackageDefinition(protoLoader.loadSync('node.proto', opts)) as unknown as NodeProto;
  loaded = { gcs: gcs.raytscore, node: node.raytscore };
  return loaded;
}

/**
 * Channel options for every client and server: keepalive, no proxy. Message size limits are
 * added per side from config.ts (see message-limits.ts).
 */
export const channelOptions: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.enable_http_proxy': 0,
  // A head that restarts is found again within a second or two, not after grpc's 2-minute backoff.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // Object transfer streams big chunks: an 8 MiB HTTP/2 window (the bound on bytes in flight per
  // stream) instead of 64 KiB keeps the pipe full on fast links.
  'grpc-node.flow_control_window': 8 * 1024 * 1024,
};

/**
/**
 * A gRPC server whose every service requires `auth`'s token (see auth.ts), refuses requests over
 * their method's bound (add services with message-limits.ts's limitService), then passes the
 * `after` interceptors (a member's identity, identity.ts); bound by `bindServer` with `auth`'s
 * TLS, when it has some.
 */
export function newServer(auth: ClusterAuth, config = loadConfig(), after: grpc.ServerInterceptor[] = []): grpc.Server {
  return new grpc.Server({
    ...channelOptions,
    ...serverMessageOptions(config),
    interceptors: [serverAuthInterceptor(auth), messageLimitInterceptor(), ...after],
  });
}

/** Client options: the channel options, and `auth`'s token on every call (and `identity`, a member's). */
export function clientOptions(auth: ClusterAuth, identity?: MemberIdentity): grpc.ClientOptions {
  const interceptors = [clientAuthInterceptor(auth)];
  if (identity) interceptors.push(clientIdentityInterceptor(identity));
  return { ...channelOptions, ...clientMessageOptions(loadConfig()), interceptors };
}

/**
 * A client of the GCS at `address` that presents `auth`'s token (over mutual TLS with `auth.tls`),
 * and `identity`, a member's.
 */
export function gcsClient(address: string, auth: ClusterAuth, identity?: MemberIdentity): GcsClient {
  const { credentials, options } = clientSecurity(address, auth.tls);
  return new (protos().gcs.Gcs)(address, credentials, { ...clientOptions(auth, identity), ...options });
}

/**
 * A client of the node service at `address` that presents `auth`'s token (over mutual TLS with
 * `auth.tls`), and `identity`, a member's.
 */
export function nodeClient(address: string, auth: ClusterAuth, identity?: MemberIdentity): NodeClient {
  const { credentials, options } = clientSecurity(address, auth.tls);
  return new (protos().node.Node)(address, credentials, { ...clientOptions(auth, identity), ...options });
}

/**
 * Starts a gRPC server on host:port (port 0: a free one), with mutual TLS when `auth` has TLS
 * settings (a client must present a certificate signed by the cluster's CA); resolves with the
 * bound port.
 */
export function bindServer(server: grpc.Server, host: string, port: number, auth: ClusterAuth): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, serverCredentials(auth.tls), (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  });
}

/** Promise form of a unary call on a grpc-js client. */
export function unary<Req, Res>(client: grpc.Client, method: string, req: Req, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      client as unknown as Record<
        string,
        (r: Req, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void
      >
    )[method];
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}
