/**
 * The controller's methods as its callers see them (the actor class is in controller.ts), and
 * the status it reports.
 */
import type { CompiledStartOptions } from './options.js';
import type { AppSpec, RoutingTable } from './wire.js';

/** Status of an application. */
export type ApplicationStatus = 'NOT_STARTED' | 'DEPLOYING' | 'RUNNING' | 'DEPLOY_FAILED' | 'DELETING' | 'UNHEALTHY';
/** Status of a deployment. */
export type DeploymentStatus = 'UPDATING' | 'HEALTHY' | 'UNHEALTHY' | 'UPSCALING' | 'DOWNSCALING' | 'DEPLOY_FAILED';
/** State of one replica. */
export type ReplicaState = 'STARTING' | 'RUNNING' | 'STOPPING';

/** What `serve.status()` returns. */
export interface ServeStatus {
  /** Proxies by node id: their state and the ports they listen on. */
  proxies: Record<
    string,
    {
      status: 'STARTING' | 'HEALTHY' | 'UNHEALTHY';
      httpPort: number | undefined;
      grpcPort: number | undefined;
      threads: number;
    }
  >;
  applications: Record<
    string,
    {
      status: ApplicationStatus;
      message: string;
      routePrefix: string | null;
      deployments: Record<
        string,
        {
          status: DeploymentStatus;
          message: string;
          targetReplicas: number;
          replicaStates: Partial<Record<ReplicaState, number>>;
          /** Requests ongoing in its replicas at the last sample. */
          ongoingRequests: number;
          /** Requests waiting in callers' queues (proxies, handles) for a replica, as last reported. */
          queuedRequests: number;
        }
      >;
    }
  >;
}

/** @internal */
export interface ControllerMethods {
  start(opts: CompiledStartOptions): Promise<ServeStatus['proxies']>;
  deployApps(apps: AppSpec[]): Promise<void>;
  deleteApps(names: string[]): Promise<void>;
  waitApps(names: string[], timeoutMs: number): Promise<Record<string, { status: ApplicationStatus; message: string }>>;
  status(): ServeStatus;
  listen(sinceVersion: number): Promise<RoutingTable>;
  recordQueued(routerId: string, queued: Record<string, number>): void;
  shutdown(): Promise<void>;
  startOptions(): CompiledStartOptions | undefined;
}
