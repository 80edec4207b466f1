import { describe, expect, it } from 'vitest';
import { ServeInvalidArgumentError } from './errors.js';
import {
  checkRoutePrefix,
  compileAutoscaling,
  compileDeploymentOptions,
  compileStartOptions,
  type DeploymentOptions,
} from './options.js';

const W = "deployment 'Model'";

function deploymentError(given: unknown): string {
  try {
    compileDeploymentOptions(W, given as DeploymentOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(ServeInvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error('expected compileDeploymentOptions to throw');
}

describe('compileDeploymentOptions', () => {
  it("fills Ray Serve's defaults", () => {
    const o = compileDeploymentOptions(W, {});
    expect(o).toEqual({
      name: undefined,
      numReplicas: 1,
      autoscaling: undefined,
      maxOngoingRequests: 5,
      maxQueuedRequests: 100, // bounded by default (Ray's default is -1)
      rayActorOptions: { numCpus: 1 },
      userConfig: undefined,
      healthCheckPeriodS: 10,
      healthCheckTimeoutS: 30,
      gracefulShutdownTimeoutS: 20,
      gracefulShutdownWaitLoopS: 2,
      version: undefined,
    });
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.rayActorOptions)).toBe(true);
  });

  it('keeps the given values', () => {
    const o = compileDeploymentOptions(W, {
      name: 'm-1.v2',
      numReplicas: 3,
      maxOngoingRequests: 100,
      maxQueuedRequests: 10,
      rayActorOptions: { numCpus: 0.5, numGpus: 1, resources: { tpu: 2 }, memory: 1e9 },
      userConfig: { threshold: 0.5 },
      healthCheckPeriodS: 1,
      healthCheckTimeoutS: 2,
      gracefulShutdownTimeoutS: 0,
      gracefulShutdownWaitLoopS: 0,
      version: 'v7',
    });
    expect(o.name).toBe('m-1.v2');
    expect(o.numReplicas).toBe(3);
    expect(o.maxOngoingRequests).toBe(100);
    expect(o.maxQueuedRequests).toBe(10);
    expect(o.rayActorOptions).toEqual({ numCpus: 0.5, numGpus: 1, resources: { tpu: 2 }, memory: 1e9 });
    expect(o.userConfig).toEqual({ threshold: 0.5 });
    expect(o.gracefulShutdownTimeoutS).toBe(0);
    expect(o.version).toBe('v7');
    expect(compileDeploymentOptions(W, { numReplicas: 0 }).numReplicas).toBe(0);
    expect(compileDeploymentOptions(W, { rayActorOptions: { numCpus: 0 } }).rayActorOptions.numCpus).toBe(0);
  });

  it('autoscales with defaults for numReplicas: "auto"', () => {
    const o = compileDeploymentOptions(W, { numReplicas: 'auto' });
    expect(o.autoscaling).toMatchObject({
      minReplicas: 1,
      maxReplicas: 100,
      initialReplicas: 1,
      targetOngoingRequests: 2,
    });
    expect(o.numReplicas).toBe(1);
    const tuned = compileDeploymentOptions(W, { numReplicas: 'auto', autoscalingConfig: { maxReplicas: 4 } });
    expect(tuned.autoscaling?.maxReplicas).toBe(4);
  });

  it('starts an autoscaled deployment with initialReplicas', () => {
    const o = compileDeploymentOptions(W, {
      autoscalingConfig: { minReplicas: 1, maxReplicas: 8, initialReplicas: 3 },
    });
    expect(o.numReplicas).toBe(3);
    expect(o.autoscaling?.initialReplicas).toBe(3);
    expect(compileDeploymentOptions(W, { autoscalingConfig: { minReplicas: 2, maxReplicas: 4 } }).numReplicas).toBe(2);
  });

  it('refuses numReplicas together with autoscalingConfig', () => {
    expect(deploymentError({ numReplicas: 2, autoscalingConfig: { maxReplicas: 4 } })).toBe(
      `${W} has both numReplicas and autoscalingConfig: give one (numReplicas: 'auto' to autoscale with defaults).`,
    );
  });

  it("names the ray-ts option when given Ray's snake_case one", () => {
    expect(deploymentError({ num_replicas: 2 })).toBe(
      `Unknown option 'num_replicas' for ${W}. Did you mean 'numReplicas'?`,
    );
    expect(deploymentError({ max_concurrent_queries: 2 })).toMatch(/Did you mean 'maxOngoingRequests'\?/);
    expect(deploymentError({ rayActorOptions: { num_gpus: 1 } })).toBe(
      `Unknown option 'num_gpus' for ${W}.rayActorOptions. Did you mean 'numGpus'?`,
    );
    expect(deploymentError({ autoscalingConfig: { target_ongoing_requests: 1 } })).toMatch(
      /Unknown option 'target_ongoing_requests' for deployment 'Model'\.autoscalingConfig\. Did you mean 'targetOngoingRequests'\?/,
    );
  });

  it('lists the known options for an unknown one', () => {
    const msg = deploymentError({ replicas: 2 });
    expect(msg).toMatch(/^Unknown option 'replicas' for deployment 'Model'\. Known options: name, numReplicas, /);
    expect(msg).toContain('maxOngoingRequests');
  });

  it('rejects bad values with what to use instead', () => {
    expect(deploymentError({ numReplicas: -1 })).toBe(`Invalid numReplicas for ${W}: -1. Expected an integer >= 0.`);
    expect(deploymentError({ numReplicas: 1.5 })).toMatch(/Invalid numReplicas .*1\.5\. Expected an integer >= 0/);
    expect(deploymentError({ numReplicas: '2' })).toMatch(/Invalid numReplicas .*"2"/);
    expect(deploymentError({ maxOngoingRequests: 0 })).toMatch(/Invalid maxOngoingRequests .*Expected an integer >= 1/);
    expect(deploymentError({ maxQueuedRequests: -2 })).toMatch(/Invalid maxQueuedRequests .*Expected an integer >= -1/);
    expect(deploymentError({ healthCheckPeriodS: 0 })).toMatch(
      /Invalid healthCheckPeriodS .*Expected a number >= 0\.01/,
    );
    expect(deploymentError({ gracefulShutdownTimeoutS: Number.NaN })).toMatch(/Invalid gracefulShutdownTimeoutS/);
    expect(deploymentError({ rayActorOptions: { numCpus: -1 } })).toMatch(/Invalid rayActorOptions\.numCpus/);
    expect(deploymentError({ rayActorOptions: { resources: { tpu: -1 } } })).toMatch(
      /Invalid rayActorOptions\.resources\.tpu/,
    );
    expect(deploymentError({ rayActorOptions: [] })).toMatch(/Invalid rayActorOptions for .*expected an object/);
    expect(deploymentError({ autoscalingConfig: 'fast' })).toMatch(
      /Invalid autoscalingConfig for .*expected an object/,
    );
    expect(deploymentError({ name: 'my model' })).toMatch(/Invalid name .*"my model"\. Use letters, digits/);
    expect(deploymentError({ version: 3 })).toMatch(/Invalid version .*expected a string/);
    expect(deploymentError(null)).toBe(`Options of ${W} must be an object.`);
  });
});

describe('compileAutoscaling', () => {
  it("fills Ray Serve's defaults", () => {
    expect(compileAutoscaling(W, {})).toEqual({
      minReplicas: 1,
      maxReplicas: 1,
      initialReplicas: 1,
      targetOngoingRequests: 2,
      upscaleDelayS: 30,
      downscaleDelayS: 600,
      lookBackPeriodS: 30,
      metricsIntervalS: 0.5,
    });
    // maxReplicas defaults to minReplicas when that is larger.
    expect(compileAutoscaling(W, { minReplicas: 3 })).toMatchObject({
      minReplicas: 3,
      maxReplicas: 3,
      initialReplicas: 3,
    });
    expect(compileAutoscaling(W, { minReplicas: 0 })).toMatchObject({
      minReplicas: 0,
      maxReplicas: 1,
      initialReplicas: 0,
    });
  });

  it('rejects inconsistent bounds', () => {
    expect(() => compileAutoscaling(W, { minReplicas: 4, maxReplicas: 2 })).toThrow(
      `Invalid autoscalingConfig for ${W}: maxReplicas (2) is below minReplicas (4).`,
    );
    expect(() => compileAutoscaling(W, { minReplicas: 1, maxReplicas: 3, initialReplicas: 5 })).toThrow(
      /initialReplicas \(5\) must lie between minReplicas and maxReplicas/,
    );
    expect(() => compileAutoscaling(W, { minReplicas: 2, maxReplicas: 3, initialReplicas: 1 })).toThrow(
      /initialReplicas \(1\)/,
    );
  });

  it('rejects bad values', () => {
    expect(() => compileAutoscaling(W, { targetOngoingRequests: 0 })).toThrow(
      /targetOngoingRequests .*must be above 0/,
    );
    expect(() => compileAutoscaling(W, { maxReplicas: 0 })).toThrow(
      /Invalid autoscalingConfig\.maxReplicas .*integer >= 1/,
    );
    expect(() => compileAutoscaling(W, { minReplicas: -1 })).toThrow(/Invalid autoscalingConfig\.minReplicas/);
    expect(() => compileAutoscaling(W, { upscaleDelayS: -5 })).toThrow(/Invalid autoscalingConfig\.upscaleDelayS .*-5/);
    expect(() => compileAutoscaling(W, { metricsIntervalS: 0 })).toThrow(
      /Invalid autoscalingConfig\.metricsIntervalS .*>= 0\.01/,
    );
    expect(() => compileAutoscaling(W, { lookBackPeriodS: Number.POSITIVE_INFINITY })).toThrow(
      ServeInvalidArgumentError,
    );
  });
});

describe('compileStartOptions', () => {
  it('fills defaults: HTTP on 127.0.0.1:8000 on every node, no gRPC', () => {
    const o = compileStartOptions();
    expect(o).toEqual({
      http: {
        host: '127.0.0.1',
        port: 8000,
        requestTimeoutS: undefined,
        maxRequestBodyBytes: 10 * 1024 * 1024,
        proxiesPerNode: undefined,
        location: 'EveryNode',
      },
      grpc: undefined,
    });
    expect(Object.isFrozen(o.http)).toBe(true);
    expect(compileStartOptions({})).toEqual(o);
  });

  it('keeps the given HTTP and gRPC options, with gRPC defaults', () => {
    const o = compileStartOptions({
      http: {
        host: '0.0.0.0',
        port: 0,
        requestTimeoutS: 2.5,
        maxRequestBodyBytes: 1024,
        proxiesPerNode: 2,
        location: 'HeadOnly',
      },
      grpc: { port: 9001, protoFiles: ['a.proto'] },
    });
    expect(o.http).toEqual({
      host: '0.0.0.0',
      port: 0,
      requestTimeoutS: 2.5,
      maxRequestBodyBytes: 1024,
      proxiesPerNode: 2,
      location: 'HeadOnly',
    });
    expect(compileDeploymentOptions(W, { maxQueuedRequests: -1 }).maxQueuedRequests).toBe(-1);
    expect(o.grpc).toEqual({ host: '127.0.0.1', port: 9001, protoFiles: ['a.proto'], services: [], includeDirs: [] });
  });

  it('rejects bad values', () => {
    const bad = (given: unknown) => () => compileStartOptions(given as Parameters<typeof compileStartOptions>[0]);
    expect(bad({ http: { port: -1 } })).toThrow(/Invalid http\.port for serve\.start\(\): -1/);
    expect(bad({ http: { port: 80.5 } })).toThrow(/Invalid http\.port/);
    expect(bad({ http: { proxiesPerNode: 0 } })).toThrow(/Invalid http\.proxiesPerNode/);
    expect(bad({ http: { requestTimeoutS: 0 } })).toThrow(/Invalid http\.requestTimeoutS/);
    expect(bad({ http: { maxRequestBodyBytes: 1.5 } })).toThrow(
      /Invalid http\.maxRequestBodyBytes for serve\.start\(\): 1\.5\. Expected an integer >= 0/,
    );
    expect(bad({ http: { host: 8000 } })).toThrow(/Invalid http\.host: expected a string/);
    expect(bad({ http: { location: 'Everywhere' } })).toThrow(
      /Invalid http\.location: Everywhere\. Use 'EveryNode', 'HeadOnly' or 'Disabled'/,
    );
    expect(bad({ http: { timeout: 1 } })).toThrow(
      /Unknown option 'timeout' for serve\.start\(\) http\. Known options: host, port/,
    );
    expect(bad({ https: {} })).toThrow(/Unknown option 'https' for serve\.start\(\)/);
    expect(bad({ http: 8000 })).toThrow(/Invalid http for serve\.start\(\): expected an object/);
    expect(bad({ grpc: { port: 9000 } })).toThrow(/grpc needs protoFiles/);
    expect(bad({ grpc: { port: 9000, protoFiles: [] } })).toThrow(/grpc needs protoFiles/);
    expect(bad({ grpc: { port: 9000, protoFiles: 'a.proto' } })).toThrow(/grpc needs protoFiles/);
    expect(bad({ grpc: { port: 9000, protoFiles: ['a.proto'], proto_files: [] } })).toThrow(
      /Unknown option 'proto_files' for serve\.start\(\) grpc/,
    );
    expect(bad({ grpc: { port: -5, protoFiles: ['a.proto'] } })).toThrow(/Invalid grpc\.port/);
  });
});

describe('checkRoutePrefix', () => {
  it('accepts paths and null', () => {
    expect(checkRoutePrefix('/', 'app')).toBe('/');
    expect(checkRoutePrefix('/api', 'app')).toBe('/api');
    expect(checkRoutePrefix('/api/v2', 'app')).toBe('/api/v2');
    expect(checkRoutePrefix(null, 'app')).toBeNull();
  });

  it('rejects a missing leading slash, a trailing slash, spaces, braces and non-strings', () => {
    for (const bad of ['api', '/api/', '//', '/a b', '/{id}', '', 42, undefined]) {
      expect(() => checkRoutePrefix(bad, 'shop')).toThrow(ServeInvalidArgumentError);
    }
    expect(() => checkRoutePrefix('/api/', 'shop')).toThrow(
      `Invalid routePrefix for app 'shop': "/api/". Use a path like '/' or '/api' (no trailing slash), or null for no HTTP route.`,
    );
  });
});
