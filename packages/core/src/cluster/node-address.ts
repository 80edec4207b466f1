/**
 * Which address a node (or a driver's node) binds and which it advertises, as Ray's
 * `--node-ip-address` and `get_node_ip_address`: a process joining a cluster advertises the local
 * address of the interface that routes to the head, so that the head and its peers can reach it;
 * `--host` picks the interface to bind (`0.0.0.0`: all of them, still advertising the routable
 * address, never `0.0.0.0`). The head defaults to loopback unless told otherwise.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { InvalidArgumentError } from '../errors.js';

const ANY = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The local address the kernel would send from to reach `host` (no packet is sent: a UDP socket
 * is connected there, and its local address read). Loopback for loopback targets, and when no
 * route is found.
 */
export function routableAddressTo(host: string): Promise<string> {
  if (host === 'localhost' || host.startsWith('127.') || host === '::1') return Promise.resolve('127.0.0.1');
  return new Promise((resolve) => {
    const family = net.isIPv6(host) ? 'udp6' : 'udp4';
    const s = dgram.createSocket(family);
    const done = (address: string) => {
      s.close();
      resolve(address);
    };
    s.once('error', () => done('127.0.0.1'));
    s.connect(9, host, () => {
      const a = s.address().address;
      done(ANY.has(a) ? '127.0.0.1' : a);
    });
  });
}

export interface AddressOptions {
  /** The interface to bind (`0.0.0.0` for all). */
  host?: string;
  /** The address to advertise to the cluster. */
  nodeIpAddress?: string;
  /** HOST:PORT of the head, for a process that joins a cluster. */
  gcsAddress?: string;
}

/** The address to bind and the one to advertise. */
export async function nodeAddresses(o: AddressOptions): Promise<{ bind: string; advertise: string }> {
  if (o.nodeIpAddress !== undefined && (ANY.has(o.nodeIpAddress) || !o.nodeIpAddress)) {
    throw new InvalidArgumentError(
      `Invalid node IP address '${o.nodeIpAddress}': give an address other hosts reach this one by (e.g. 10.0.0.5); ` +
        `to listen on every interface, pass host '0.0.0.0' instead.`,
    );
  }
  const host = o.host || undefined;
  const explicit = o.nodeIpAddress ?? (host && !ANY.has(host) ? host : undefined);
  const headHost = o.gcsAddress ? o.gcsAddress.slice(0, o.gcsAddress.lastIndexOf(':')) : undefined;
  const advertise =
    explicit ??
    (headHost !== undefined ? await routableAddressTo(headHost) : host ? await defaultRouteAddress() : '127.0.0.1');
  return { bind: host ?? advertise, advertise };
}

/** The address of the interface of the default route (a head told to listen on every interface). */
function defaultRouteAddress(): Promise<string> {
  // The documentation prefix: never contacted, only the routing table is read.
  return routableAddressTo('192.0.2.1');
}

/** Resolves true if a TCP connection to HOST:PORT opens within `timeoutMs`. */
export function canConnect(address: string, timeoutMs: number): Promise<boolean> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
