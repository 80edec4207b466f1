/**
 * The plain-data messages between Serve's controller, proxies, routers and replicas (they cross
 * threads and nodes inside actor calls), and the HTTP request/response forms.
 */
import type { ActorHandle, PortableFunction } from '@ray-ts/core';
import type { CompiledDeploymentOptions } from './options.js';

/** Marks a bound deployment inside constructor arguments; the replica puts a handle there. */
export const HANDLE_MARK = '__rayTsServeHandle';

/** A placeholder for a handle, inside constructor arguments. */
export interface HandlePlaceholder {
  [HANDLE_MARK]: { app: string; deployment: string };
}

/** What the controller needs to run one deployment. */
export interface DeploymentSpec {
  readonly name: string;
  readonly cls: PortableFunction;
  readonly isFunction: boolean;
  readonly initArgs: unknown[];
  readonly options: CompiledDeploymentOptions;
  /** Replicas restart when it changes. */
  readonly version: string;
}

/** An application, as `serve.run()` sends it to the controller. */
export interface AppSpec {
  readonly name: string;
  readonly routePrefix: string | null;
  readonly ingress: string;
  readonly deployments: DeploymentSpec[];
}

/** What a replica is built from. */
export interface ReplicaSpec {
  readonly app: string;
  readonly deployment: string;
  readonly replicaId: string;
  readonly cls: PortableFunction;
  readonly isFunction: boolean;
  readonly initArgs: unknown[];
  readonly userConfig: unknown;
  readonly maxOngoingRequests: number;
}

/** An HTTP request, as the proxy hands it to the ingress replica. */
export interface WireRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: [string, string][];
  readonly body: Uint8Array | undefined;
}

/** An HTTP response head, with the body when it is complete. */
export interface WireResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: [string, string][];
  /** Chunks of the body read so far. */
  readonly chunks: Uint8Array[];
  /** Set when the body goes on: pull the rest with `streamNext(stream)`. */
  readonly stream: string | undefined;
}

/** A request to a replica. */
export type ReplicaRequest =
  | {
      readonly kind: 'call';
      readonly method: string;
      readonly args: unknown[];
      readonly modelId: string;
      readonly stream: boolean;
      readonly requestId: string;
    }
  | {
      readonly kind: 'http';
      readonly request: WireRequest;
      readonly modelId: string;
      readonly requestId: string;
      readonly route: string;
    };

/** A replica's answer. */
export type ReplicaReply =
  | { readonly rejected: true }
  | { readonly rejected?: undefined; readonly value: unknown; readonly stream?: string }
  | { readonly rejected?: undefined; readonly http: WireResponse };

/** Chunks pulled from a streaming response. */
export interface StreamChunk {
  readonly items: unknown[];
  readonly done: boolean;
  readonly error?: { message: string; name: string };
}

/** A replica as routers see it. */
export interface RoutedReplica {
  readonly id: string;
  readonly actor: ActorHandle<ReplicaMethods>;
  readonly nodeId: string;
  readonly models: string[];
}

/** The methods routers and the controller call on a replica (see replica.ts). */
export interface ReplicaMethods {
  initialize(): Promise<{ nodeId: string }>;
  /** `callId` names the call for `cancelRequest` (unique per router, unlike `requestId`, which users may set). */
  handle(req: ReplicaRequest, callId: string): Promise<ReplicaReply>;
  /** The caller gave up on the call (its client left, or it timed out): abort its `request.signal`. */
  cancelRequest(callId: string, why: string): void;
  streamNext(id: string): Promise<StreamChunk>;
  streamCancel(id: string, why?: string): void;
  checkHealth(): Promise<void>;
  reconfigure(userConfig: unknown): Promise<void>;
  metrics(): { ongoing: number; models: string[] };
  drain(timeoutS: number, waitLoopS: number): Promise<void>;
}

/** Routes and replicas, as the controller publishes them to every router. */
export interface RoutingTable {
  readonly version: number;
  readonly apps: { readonly name: string; readonly routePrefix: string | null; readonly ingress: string }[];
  readonly deployments: Record<
    string,
    {
      readonly maxOngoingRequests: number;
      readonly maxQueuedRequests: number;
      readonly replicas: RoutedReplica[];
      /** Why requests cannot be served (the deployment failed and has no replica): routers fail at once. */
      readonly unavailable?: string;
    }
  >;
  /** Set once Serve shut down: routers stop. */
  readonly shutdown?: boolean;
}

/** `app#deployment`. */
export function deploymentKey(app: string, deployment: string): string {
  return `${app}#${deployment}`;
}
