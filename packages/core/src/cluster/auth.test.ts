// The interceptors over fake calls (no sockets): what reaches the handler, what is refused, and
// what a client adds. The same interceptors on real servers: packages/core/test/auth.test.ts.
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../errors.js';
import { authErrorOf, clientAuthInterceptor, serverAuthInterceptor } from './auth.js';
import type { ClusterAuth } from './auth-token.js';

const auth: ClusterAuth = { kind: 'token', token: 'secret-token', from: 'test' };
const method = { path: '/raytscore.Gcs/KvPut' } as grpc.ServerMethodDefinition<unknown, unknown>;

/** Runs a call with `md` through the server interceptor: what the handler saw, and the status sent. */
function serve(a: ClusterAuth, md: grpc.Metadata) {
  let inner: grpc.ServerInterceptingCallInterface['start'] extends (l: infer L) => void ? L : never;
  const sent: Partial<grpc.StatusObject>[] = [];
  const fakeCall = {
    start: (l: typeof inner) => (inner = l),
    sendStatus: (s: Partial<grpc.StatusObject>) => sent.push(s),
    getPeer: () => 'ipv4:10.0.0.9:4242',
  } as unknown as grpc.ServerInterceptingCallInterface;
  const seen: string[] = [];
  const call = serverAuthInterceptor(a)(method, fakeCall);
  call.start({
    onReceiveMetadata: () => seen.push('metadata'),
    onReceiveMessage: (m: unknown) => seen.push(`message ${JSON.stringify(m)}`),
    onReceiveHalfClose: () => seen.push('halfClose'),
    onCancel: () => seen.push('cancel'),
  });
  inner!.onReceiveMetadata(md);
  inner!.onReceiveMessage({ key: 'k' });
  inner!.onReceiveHalfClose();
  return { seen, sent };
}

const withAuthorization = (value?: string) => {
  const md = new grpc.Metadata();
  if (value !== undefined) md.set('authorization', value);
  return md;
};

describe('serverAuthInterceptor', () => {
  it('passes a call with the token to its handler, metadata, message and all', () => {
    const { seen, sent } = serve(auth, withAuthorization('Bearer secret-token'));
    expect(seen).toEqual(['metadata', 'message {"key":"k"}', 'halfClose']);
    expect(sent).toEqual([]);
  });

  it('refuses a call without the token, or with another, before its handler sees anything', () => {
    for (const [md, says] of [
      [withAuthorization(), /carried none: set RAY_TS_AUTH_TOKEN/],
      [withAuthorization('Bearer not-it'), /is not this cluster's: set RAY_TS_AUTH_TOKEN/],
    ] as const) {
      const { seen, sent } = serve(auth, md);
      expect(seen).toEqual([]);
      expect(sent).toHaveLength(1);
      expect(sent[0].code).toBe(grpc.status.UNAUTHENTICATED);
      expect(sent[0].details).toMatch(says);
      expect(sent[0].details).not.toContain('secret-token');
    }
  });

  it('passes everything when authentication is disabled', () => {
    expect(serve({ kind: 'disabled' }, withAuthorization()).seen).toEqual([
      'metadata',
      'message {"key":"k"}',
      'halfClose',
    ]);
  });
});

describe('clientAuthInterceptor', () => {
  /** The metadata a call started through the client interceptor goes out with. */
  function outgoing(a: ClusterAuth): grpc.Metadata {
    let sent: grpc.Metadata | undefined;
    const next = (() => ({
      start: (md: grpc.Metadata) => (sent = md),
    })) as unknown as grpc.NextCall;
    const call = clientAuthInterceptor(a)({} as grpc.InterceptorOptions, next);
    call.start(new grpc.Metadata(), {});
    return sent!;
  }

  it("adds the token to every call's metadata", () => {
    expect(outgoing(auth).get('authorization')).toEqual(['Bearer secret-token']);
  });

  it('adds nothing without a token', () => {
    expect(outgoing({ kind: 'disabled' }).get('authorization')).toEqual([]);
    expect(outgoing({ kind: 'none', looked: 'x' }).get('authorization')).toEqual([]);
  });
});

describe('authErrorOf', () => {
  it('makes an UNAUTHENTICATED status an AuthenticationError naming the cluster, and nothing else', () => {
    const refused = Object.assign(new Error('16 UNAUTHENTICATED'), {
      code: grpc.status.UNAUTHENTICATED,
      details: "the token the request carried is not this cluster's: set RAY_TS_AUTH_TOKEN ...",
    });
    const e = authErrorOf(refused, '10.0.0.5:6380');
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e!.message).toBe(
      "The ray-ts cluster at 10.0.0.5:6380 refused this process: the token the request carried is not this cluster's: set RAY_TS_AUTH_TOKEN ...",
    );
    expect(authErrorOf(Object.assign(new Error('x'), { code: grpc.status.UNAVAILABLE }), 'a:1')).toBeUndefined();
  });
});
