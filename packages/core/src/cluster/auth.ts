/**
 * The cluster token on gRPC: a server interceptor that refuses every call of every service whose
 * metadata lacks `authorization: Bearer <token>` (status UNAUTHENTICATED, with a message that
 * says what to set), and a client interceptor that adds it. Interceptors rather than call
 * credentials: grpc-js refuses call credentials on insecure channels.
 */
import * as grpc from '@grpc/grpc-js';
import { AuthenticationError } from '../errors.js';
import { checkBearer, refusalMessage, type ClusterAuth } from './auth-token.js';
import { ignored } from '../log.js';

/** The metadata key of the token (HTTP/2 headers are lower case). */
export const AUTHORIZATION_KEY = 'authorization';

/**
 * Refuses, before its handler runs, every call whose token is not `auth`'s (none at all when
 * `auth` holds no token: then every call passes).
 */
export function serverAuthInterceptor(auth: ClusterAuth): grpc.ServerInterceptor {
  return (method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const given = metadata.get(AUTHORIZATION_KEY)[0];
        const check = checkBearer(auth, typeof given === 'string' ? given : undefined);
        if (check === 'ok') return next(metadata);
        ignored('a gRPC call without the cluster token, refused with UNAUTHENTICATED')(
          new Error(`${method.path} from ${call.getPeer()}: token ${check}`),
        );
        call.sendStatus({
          code: grpc.status.UNAUTHENTICATED,
          details: refusalMessage(check),
          metadata: new grpc.Metadata(),
        });
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

/** Adds `auth`'s token to the metadata of every call (nothing when it holds none). */
export function clientAuthInterceptor(auth: ClusterAuth): grpc.Interceptor {
  const value = auth.kind === 'token' ? `Bearer ${auth.token}` : undefined;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        if (value) metadata.set(AUTHORIZATION_KEY, value);
        next(metadata, listener);
      },
    });
}

/**
 * An AuthenticationError for a call the cluster at `address` refused for its token (undefined for
 * any other failure), saying what to set.
 */
export function authErrorOf(err: unknown, address: string): AuthenticationError | undefined {
  const e = err as grpc.ServiceError;
  if (e?.code !== grpc.status.UNAUTHENTICATED) return undefined;
  return new AuthenticationError(`The ray-ts cluster at ${address} refused this process: ${e.details}`, {
    cause: err,
  });
}
