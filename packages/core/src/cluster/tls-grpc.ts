/**
 * TLS on gRPC (tls.ts has the settings): mutual TLS credentials for every server and client
 * (a server requires a client certificate signed by the cluster's CA, as Ray's `RAY_USE_TLS`
 * does), which name a server's certificate must carry, and what a failed connection means. grpc-js
 * reports every failed handshake as UNAVAILABLE, often as a bare "Failed to connect"; so when a
 * connection fails, `tlsErrorOf` makes one handshake of its own (`probeTls`) to say which side
 * lacks TLS or refuses which certificate, and what to set.
 */
import net from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { TlsError } from '../errors.js';
import { HOW_TO_SET_TLS, TLS_CA_ENV, TLS_CERT_ENV, TLS_SERVER_NAME_ENV, USE_TLS_ENV, type ClusterTls } from './tls.js';

/**
 * The name sent in the handshake (SNI) to a server reached by IP address when
 * `RAY_TS_TLS_SERVER_NAME` is not set: TLS does not allow an address there (Node warns), and
 * ray-ts servers ignore it; the certificate is still checked against the address.
 */
const IP_SNI = 'ray-ts';

/** Credentials of a gRPC server: mutual TLS with `tls` (a client certificate is required), else none. */
export function serverCredentials(t: ClusterTls | undefined): grpc.ServerCredentials {
  if (!t) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(t.ca, [{ cert_chain: t.cert, private_key: t.key }], true);
}

/** HOST and PORT of HOST:PORT (or [V6]:PORT). */
function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

/**
 * How a server at `host` is recognized: the SNI name to send, and the check of its certificate:
 * against `RAY_TS_TLS_SERVER_NAME` when set, else against `host` (an IP address is matched
 * against the certificate's `IP:` subjectAltNames).
 */
function identity(host: string, t: ClusterTls): { servername: string; check: typeof tls.checkServerIdentity } {
  const name = t.serverName ?? host;
  return {
    servername: t.serverName ?? (net.isIP(host) ? IP_SNI : host),
    check: (_sent, cert) => tls.checkServerIdentity(name, cert),
  };
}

/** Channel credentials by TLS settings and host: channels to one host share them (and so their connections). */
const channelCreds = new WeakMap<ClusterTls, Map<string, grpc.ChannelCredentials>>();

/**
 * Credentials and channel options of a client of `address`: mutual TLS with `tls` (this process's
 * certificate presented, the server's checked against the CA and its name), else none.
 */
export function clientSecurity(
  address: string,
  t: ClusterTls | undefined,
): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  if (!t) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const { host } = splitAddress(address);
  const { servername, check } = identity(host, t);
  let byHost = channelCreds.get(t);
  if (!byHost) channelCreds.set(t, (byHost = new Map()));
  let credentials = byHost.get(host);
  if (!credentials)
    byHost.set(host, (credentials = grpc.credentials.createSsl(t.ca, t.key, t.cert, { checkServerIdentity: check })));
  // grpc-js sends the override as SNI, and checks it with our `check` (which ignores it).
  return { credentials, options: { 'grpc.ssl_target_name_override': servername } };
}

/** What one handshake with a server found. */
export type TlsProbe =
  /** The server took this process's certificate (or, without TLS settings, it speaks TLS). */
  | { readonly kind: 'ok' }
  /** The server does not speak TLS. */
  | { readonly kind: 'plain' }
  /** This process does not accept the server's certificate (`code`: Node's, e.g. ERR_TLS_CERT_ALTNAME_INVALID). */
  | { readonly kind: 'untrusted'; readonly reason: string; readonly code?: string }
  /** The server refused this process's certificate. */
  | { readonly kind: 'refused'; readonly reason: string }
  /** No connection, or no answer in time. */
  | { readonly kind: 'unreachable'; readonly reason: string };

// The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server that accepted the handshake answers with its SETTINGS.
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

const NOT_TLS = /wrong version number|packet length too long|unknown protocol|http request|record layer failure/i;

/**
 * One TLS handshake with the server at `address`, as a client of this process with `tls` would
 * make it (without `tls`: a handshake that presents no certificate and trusts any, to learn
 * whether the server speaks TLS at all).
 */
export function probeTls(address: string, t: ClusterTls | undefined, timeoutMs = 3_000): Promise<TlsProbe> {
  const { host, port } = splitAddress(address);
  const who = t ? identity(host, t) : undefined;
  return new Promise((resolve) => {
    let handshaken = false;
    let settled = false;
    const socket = tls.connect({
      host,
      port,
      ALPNProtocols: ['h2'],
      ...(t && who
        ? { ca: t.ca, cert: t.cert, key: t.key, servername: who.servername, checkServerIdentity: who.check }
        : { rejectUnauthorized: false, servername: net.isIP(host) ? IP_SNI : host }),
    });
    const done = (r: TlsProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ kind: 'unreachable', reason: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('secureConnect', () => {
      handshaken = true;
      if (!t) return done({ kind: 'ok' });
      socket.write(H2_PREFACE);
    });
    socket.on('data', () => done({ kind: 'ok' }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const reason = err.message
        .split('\n')[0]
        .replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:/, '')
        .replace(/[\s:]+$/, '');
      if (handshaken) return done({ kind: 'refused', reason });
      if (NOT_TLS.test(err.message) || err.code === 'ECONNRESET') return done({ kind: 'plain' });
      // An alert during the handshake: the server speaks TLS, and refused the certificate (or its absence).
      if (/alert/i.test(err.message)) return done(t ? { kind: 'refused', reason } : { kind: 'ok' });
      if (err.code && /^(E[A-Z]+)$/.test(err.code)) return done({ kind: 'unreachable', reason: err.message });
      done({ kind: 'untrusted', reason, code: err.code });
    });
    socket.once('close', () =>
      done(handshaken ? { kind: 'refused', reason: 'the server closed the connection' } : { kind: 'plain' }),
    );
  });
}

/** What to say about a probe that failed (undefined: TLS is not why the connection failed). */
export function tlsTrouble(address: string, t: ClusterTls | undefined, p: TlsProbe): string | undefined {
  if (!t)
    return p.kind === 'ok'
      ? `the ray-ts process at ${address} uses TLS and this one does not: ${HOW_TO_SET_TLS}`
      : undefined;
  const { host } = splitAddress(address);
  switch (p.kind) {
    case 'plain':
      return (
        `the ray-ts process at ${address} does not use TLS and this one does (${USE_TLS_ENV}=1): ` +
        `start every process of the cluster with ${USE_TLS_ENV}=1 and the same CA, or unset ${USE_TLS_ENV} here`
      );
    case 'untrusted':
      return p.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? `the certificate of the ray-ts process at ${address} does not name ${t.serverName ?? host} (${p.reason}): ` +
            (t.serverName
              ? `make every certificate with 'subjectAltName=DNS:${t.serverName}', or unset ${TLS_SERVER_NAME_ENV}`
              : `make each node's certificate with its address in subjectAltName ('IP:${host}'), or make them all ` +
                `with one name ('DNS:NAME') and set ${TLS_SERVER_NAME_ENV}=NAME on every process`)
        : `the ray-ts process at ${address} presented a certificate that the CA in ${TLS_CA_ENV}=${t.files.ca} ` +
            `does not vouch for (${p.reason}): every process of a cluster must use certificates signed by the same CA`;
    case 'refused':
      return (
        `the ray-ts process at ${address} refused this process's certificate (${TLS_CERT_ENV}=${t.files.cert}; ${p.reason}): ` +
        `it must be signed by the cluster's CA (the one in ${TLS_CA_ENV} on the cluster's nodes)`
      );
    default:
      return undefined;
  }
}

/**
 * A TlsError for a gRPC call to `address` that failed because this process and the server there
 * disagree on TLS (one uses it, the other not; a certificate one side does not accept), saying
 * what to set; undefined for any other failure. Makes one handshake of its own to tell.
 */
export async function tlsErrorOf(
  err: unknown,
  address: string,
  t: ClusterTls | undefined,
): Promise<TlsError | undefined> {
  if ((err as grpc.ServiceError)?.code !== grpc.status.UNAVAILABLE) return undefined;
  const trouble = tlsTrouble(address, t, await probeTls(address, t));
  return trouble ? new TlsError(`${trouble[0].toUpperCase()}${trouble.slice(1)}.`, { cause: err }) : undefined;
}
