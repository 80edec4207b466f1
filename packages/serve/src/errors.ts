/**
 * Errors of @ray-ts/serve. All derive from core's `RayError`, so one `instanceof RayError`
 * catches every ray-ts failure.
 */
import { RayError } from '@ray-ts/core';

/** Thrown when a Serve API call gets an invalid argument or option (a bad replica count, an unknown app...). */
export class ServeInvalidArgumentError extends RayError {
  override readonly name: string = 'ServeInvalidArgumentError';
}

/**
 * Thrown when a call names a method the deployment's class does not have (a handle call of
 * `handle.<method>.remote()`, or a gRPC RPC, which the gRPC proxy answers with UNIMPLEMENTED).
 */
export class DeploymentMethodNotFoundError extends ServeInvalidArgumentError {
  override readonly name: string = 'DeploymentMethodNotFoundError';
  /** The deployment's name. */
  readonly deployment: string;
  /** The method that was called. */
  readonly method: string;
  constructor(message: string, deployment: string, method: string) {
    super(message);
    this.deployment = deployment;
    this.method = method;
  }
}

/**
 * Thrown by a handle call (and answered with HTTP 503 by the proxy) when a deployment is
 * overloaded: every replica has `maxOngoingRequests` requests and `maxQueuedRequests` more wait.
 */
export class BackPressureError extends RayError {
  override readonly name: string = 'BackPressureError';
  /** `app/deployment` that refused the request. */
  readonly deployment: string;
  constructor(message: string, deployment: string) {
    super(message);
    this.deployment = deployment;
  }
}

/** Thrown when a request does not finish within its timeout (HTTP 408 at the proxy). */
export class RequestTimeoutError extends RayError {
  override readonly name: string = 'RequestTimeoutError';
}

/**
 * Thrown when a request is cancelled before it finished: its HTTP client disconnected, its gRPC
 * client cancelled, or it timed out. Inside a replica it is the reason of the request's
 * `request.signal`; a handler that sees the signal abort should stop its work.
 */
export class RequestCancelledError extends RayError {
  override readonly name: string = 'RequestCancelledError';
}

/**
 * Thrown when an HTTP request's body is larger than `http.maxRequestBodyBytes` (HTTP 413 at the
 * proxy, which stops reading the body and closes the connection).
 */
export class RequestBodyTooLargeError extends RayError {
  override readonly name: string = 'RequestBodyTooLargeError';
  /** The limit that was passed, in bytes. */
  readonly limitBytes: number;
  constructor(message: string, limitBytes: number) {
    super(message);
    this.limitBytes = limitBytes;
  }
}

/**
 * Thrown when the replica handling a request died and the request could not be retried safely
 * (HTTP 502 at the proxy): it may have run already, in part. Inside the controller, a replica's
 * calls (health check, metrics...) also reject with it when the replica's actor died; `cause` is
 * the core error that said so.
 */
export class ReplicaDiedError extends RayError {
  override readonly name: string = 'ReplicaDiedError';
}

/** Thrown when an application fails to deploy: a constructor threw, a replica cannot be scheduled. */
export class DeployFailedError extends RayError {
  override readonly name: string = 'DeployFailedError';
  /** The application's name. */
  readonly app: string;
  constructor(message: string, app: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.app = app;
  }
}

/** Thrown when Serve is used before it started (no controller in the cluster), or after shutdown. */
export class ServeNotRunningError extends RayError {
  override readonly name: string = 'ServeNotRunningError';
}
