/**
 * @ray-ts/serve: scalable model serving on ray-ts actors, as Ray Serve is for Python.
 * Deployments are groups of replica actors behind an HTTP (and gRPC) ingress that runs on every
 * core of every node; they compose through handles, batch requests, multiplex models, scale on
 * load and roll over to new code without dropping requests.
 *
 * @example
 * import * as serve from '@ray-ts/serve';
 * const Hello = serve.deployment({ numReplicas: 2 })(class Hello {
 *   fetch(request: Request) { return Response.json({ hello: 'world' }); }
 * });
 * await serve.start({ http: { port: 8000 } });
 * await serve.run(Hello.bind());            // curl http://127.0.0.1:8000/
 *
 * @packageDocumentation
 */
export { deployment, Deployment, Application } from './deployment.js';
export { start, run, status, delete, shutdown, getAppHandle, getDeploymentHandle } from './api.js';
export type { RunOptions } from './api.js';
export { DeploymentResponse, DeploymentResponseGenerator } from './handle.js';
export type { DeploymentHandle, HandleMethod, HandleOptions, Servable } from './handle.js';
export type { Target } from './deployment.js';
export { batch } from './batch.js';
export type { BatchOptions } from './batch.js';
export { onnxDeployment } from './onnx.js';
export type { OnnxDeploymentOptions, OnnxModel, OnnxModelMetadata, OnnxBatchStats } from './onnx.js';
export { multiplexed } from './multiplex.js';
export type { MultiplexedOptions } from './multiplex.js';
export { getReplicaContext, getMultiplexedModelId } from './context.js';
export type { ReplicaContext } from './context.js';
export type {
  DeploymentOptions,
  AutoscalingConfig,
  RayActorOptions,
  StartOptions,
  HttpOptions,
  GrpcOptions,
  ProxyLocation,
} from './options.js';
export type { ServeStatus, ApplicationStatus, DeploymentStatus, ReplicaState } from './controller-api.js';
export {
  ServeInvalidArgumentError,
  DeploymentMethodNotFoundError,
  BackPressureError,
  RequestTimeoutError,
  RequestCancelledError,
  RequestBodyTooLargeError,
  ReplicaDiedError,
  DeployFailedError,
  ServeNotRunningError,
} from './errors.js';
