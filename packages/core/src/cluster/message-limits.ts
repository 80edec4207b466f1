/**
 * Bounds on the gRPC messages each service accepts, per method (grpc-js has only a limit per
 * channel or server): a request over its method's bound is refused with RESOURCE_EXHAUSTED and a
 * message that names the setting to raise, before it is decoded. The server's channel limit is
 * the largest of them (grpc-js refuses anything beyond it, also with RESOURCE_EXHAUSTED), and a
 * client's send limit the largest of its service's, so a caller learns of a too-large message at
 * once instead of waiting on a call that cannot succeed.
 */
import * as grpc from '@grpc/grpc-js';
import type { RuntimeConfig } from '../config.js';

export type MessageLimitsConfig = Pick<
  RuntimeConfig,
  | 'gcsRequestMaxBytes'
  | 'gcsKvRequestMaxBytes'
  | 'nodeRequestMaxBytes'
  | 'peerBatchMaxBytes'
  | 'peerMessageMaxBytes'
  | 'grpcReplyMaxBytes'
>;

/** Room for what the size estimate of peer messages (peer-link.ts) leaves out: ids, names, fields. */
const PEER_SLACK_BYTES = 16 * 1024 * 1024;

/** The largest request a method of a service accepts, and the setting that bounds it. */
export function requestLimit(c: MessageLimitsConfig, service: string, method: string): [number, string] {
  if (service === 'Gcs')
    return method === 'KvPut'
      ? [c.gcsKvRequestMaxBytes, 'gcsKvRequestMaxBytes']
      : [c.gcsRequestMaxBytes, 'gcsRequestMaxBytes'];
  if (method === 'Peer')
    return [Math.max(c.peerMessageMaxBytes, c.peerBatchMaxBytes) + PEER_SLACK_BYTES, 'peerMessageMaxBytes'];
  return [c.nodeRequestMaxBytes, 'nodeRequestMaxBytes'];
}

/** What a too-large request decodes to: the interceptor answers it, the handler never sees it. */
class TooLarge {
  constructor(readonly details: string) {}
}

/** `def` with each method's requests checked against its bound before they are decoded. */
export function limitService(
  def: grpc.ServiceDefinition,
  service: 'Gcs' | 'Node',
  c: MessageLimitsConfig,
): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [method, m] of Object.entries(def) as [string, grpc.MethodDefinition<unknown, unknown>][]) {
    const [max, setting] = requestLimit(c, service, method);
    const env = 'RAY_TS_' + setting.replace(/[A-Z]/g, (ch) => '_' + ch).toUpperCase();
    out[method] = {
      ...m,
      requestDeserialize: (buf: Buffer) =>
        buf.length > max
          ? new TooLarge(
              `${service}.${method} refused a message of ${buf.length} bytes: it accepts at most ${max} ` +
                `(${setting}; raise ${env} on every process of the cluster)`,
            )
          : m.requestDeserialize(buf),
    };
  }
  return out;
}

/** Answers the requests limitService() refused with RESOURCE_EXHAUSTED (on every server). */
export function messageLimitInterceptor(): grpc.ServerInterceptor {
  return (_method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMessage((msg, next) => {
        if (!(msg instanceof TooLarge)) return next(msg);
        call.sendStatus({ code: grpc.status.RESOURCE_EXHAUSTED, details: msg.details, metadata: new grpc.Metadata() });
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

function largestRequest(c: MessageLimitsConfig): number {
  return Math.max(
    ...['KvPut', 'Heartbeat'].map((m) => requestLimit(c, 'Gcs', m)[0]),
    requestLimit(c, 'Node', 'Peer')[0],
  );
}

/** A server's channel limits: requests up to the largest any method takes, replies up to grpcReplyMaxBytes. */
export function serverMessageOptions(c: MessageLimitsConfig): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': largestRequest(c),
    'grpc.max_send_message_length': c.grpcReplyMaxBytes,
  };
}

/** A client's channel limits: requests up to the largest any method takes, replies up to grpcReplyMaxBytes. */
export function clientMessageOptions(c: MessageLimitsConfig): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': c.grpcReplyMaxBytes,
    'grpc.max_send_message_length': largestRequest(c),
  };
}
