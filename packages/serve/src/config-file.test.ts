import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOverrides, buildFromImportPath, loadServeConfig, parseServeConfig } from './config-file.js';
import { Application, deployment } from './deployment.js';
import { ServeInvalidArgumentError } from './errors.js';

const Leaf = deployment({ name: 'Leaf' })(
  class Leaf {
    value(): number {
      return 1;
    }
  },
);
const Other = deployment({ name: 'Other', numReplicas: 3 })(
  class Other {
    value(): number {
      return 2;
    }
  },
);
const Root = deployment({ name: 'Root', maxOngoingRequests: 7 })(
  class Root {
    constructor(
      readonly deps: unknown,
      readonly more: unknown,
    ) {}
  },
);

function parseError(text: string): string {
  try {
    parseServeConfig(text, { source: 'serve.yaml' });
  } catch (err) {
    expect(err).toBeInstanceOf(ServeInvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error('expected parseServeConfig to throw');
}

describe('parseServeConfig', () => {
  it("converts Ray Serve's snake_case config into start options and applications", () => {
    const config = parseServeConfig(
      `
proxy_location: HeadOnly
http_options: { host: 0.0.0.0, port: 8123, request_timeout_s: 30, max_request_body_bytes: 1048576 }
grpc_options: { port: 9001, proto_files: [./protos/x.proto], include_dirs: [protos] }
applications:
  - name: app1
    route_prefix: /app1
    import_path: ./module.ts:app
    args: { model_path: /models/a, top_k: 3 }
    deployments:
      - name: Model
        num_replicas: 2
        max_ongoing_requests: 10
        max_queued_requests: 20
        user_config: { threshold: 0.5, snake_key: keep_me }
        ray_actor_options: { num_cpus: 1, num_gpus: 0.5, memory: 1000, resources: { my_accel: 1 } }
        health_check_period_s: 10
        health_check_timeout_s: 5
        graceful_shutdown_timeout_s: 20
        graceful_shutdown_wait_loop_s: 1
      - name: Scaled
        autoscaling_config:
          min_replicas: 1
          max_replicas: 5
          initial_replicas: 2
          target_ongoing_requests: 4
          upscale_delay_s: 1
          downscale_delay_s: 60
          look_back_period_s: 10
          metrics_interval_s: 0.5
`,
      { source: 'serve.yaml', baseDir: '/srv/config' },
    );
    expect(config.start).toEqual({
      http: { host: '0.0.0.0', port: 8123, requestTimeoutS: 30, maxRequestBodyBytes: 1048576, location: 'HeadOnly' },
      grpc: { port: 9001, protoFiles: ['/srv/config/protos/x.proto'], includeDirs: ['/srv/config/protos'] },
    });
    expect(config.applications).toEqual([
      {
        name: 'app1',
        routePrefix: '/app1',
        importPath: './module.ts:app',
        args: { model_path: '/models/a', top_k: 3 }, // the builder's own keys stay as written
        deployments: [
          {
            name: 'Model',
            numReplicas: 2,
            maxOngoingRequests: 10,
            maxQueuedRequests: 20,
            userConfig: { threshold: 0.5, snake_key: 'keep_me' },
            rayActorOptions: { numCpus: 1, numGpus: 0.5, memory: 1000, resources: { my_accel: 1 } },
            healthCheckPeriodS: 10,
            healthCheckTimeoutS: 5,
            gracefulShutdownTimeoutS: 20,
            gracefulShutdownWaitLoopS: 1,
          },
          {
            name: 'Scaled',
            autoscalingConfig: {
              minReplicas: 1,
              maxReplicas: 5,
              initialReplicas: 2,
              targetOngoingRequests: 4,
              upscaleDelayS: 1,
              downscaleDelayS: 60,
              lookBackPeriodS: 10,
              metricsIntervalS: 0.5,
            },
          },
        ],
      },
    ]);
  });

  it("fills Ray's defaults: app name default, route prefix /, no server options; route_prefix null means no HTTP route", () => {
    const config = parseServeConfig(`
applications:
  - import_path: a.ts:app
  - name: internal
    route_prefix: null
    import_path: b.ts:app
    deployments:
`);
    expect(config.start).toEqual({});
    expect(config.applications.map((a) => [a.name, a.routePrefix, a.deployments])).toEqual([
      ['default', '/', []],
      ['internal', null, []],
    ]);
  });

  it('names an unknown key, where it is and the known keys', () => {
    const top = parseError('http_option: { port: 1 }\napplications: []\n');
    expect(top).toMatch(/^serve\.yaml:1: unknown key 'http_option' in the top level\. Did you mean 'http_options'\?/);
    expect(top).toContain('Known keys: proxy_location, http_options, grpc_options, applications.');

    const dep = parseError(`
applications:
  - name: a
    import_path: a.ts:app
    deployments:
      - name: Model
        num_replica: 2
`);
    expect(dep).toMatch(
      /^serve\.yaml:7: unknown key 'num_replica' in applications\[0\]\.deployments\[0\]\. Did you mean 'num_replicas'\?/,
    );
    expect(dep).toContain('Known keys: name, num_replicas, autoscaling_config, max_ongoing_requests');

    const nested = parseError(`
applications:
  - import_path: a.ts:app
    deployments:
      - name: Model
        ray_actor_options: { numCpus: 1 }
`);
    expect(nested).toMatch(
      /^serve\.yaml:6: unknown key 'numCpus' in applications\[0\]\.deployments\[0\]\.ray_actor_options\. Did you mean 'num_cpus'\? \(config files use Ray's snake_case keys\)/,
    );
    expect(nested).toContain('Known keys: num_cpus, num_gpus, memory, resources.');

    const http = parseError('http_options: { port: 8000, keep_alive_timeout_s: 5 }\n');
    expect(http).toMatch(
      /unknown key 'keep_alive_timeout_s' in http_options\. Known keys: host, port, request_timeout_s, max_request_body_bytes, proxies_per_node\./,
    );
    const app = parseError('applications:\n  - import_path: a.ts:app\n    runtime_env: {}\n');
    expect(app).toMatch(
      /^serve\.yaml:3: unknown key 'runtime_env' in applications\[0\]\. Known keys: name, route_prefix, import_path, args, deployments\./,
    );
  });

  it('rejects bad YAML, wrong shapes and invalid values with the line', () => {
    expect(parseError('applications: [\n')).toMatch(/^serve\.yaml:\d+: invalid YAML/);
    expect(parseError('')).toMatch(/the file is empty/);
    expect(parseError('- a\n- b\n')).toMatch(
      /the top level must be a mapping of proxy_location, http_options, grpc_options, applications; got a list/,
    );
    expect(parseError('applications: { name: a }\n')).toMatch(/applications must be a list; got a mapping/);
    expect(parseError('proxy_location: Everywhere\n')).toMatch(
      /^serve\.yaml:1: invalid proxy_location "Everywhere": use EveryNode, HeadOnly or Disabled/,
    );
    expect(parseError('http_options:\n  port: -1\n')).toMatch(/^serve\.yaml:2: Invalid http\.port/);
    expect(parseError('applications:\n  - name: a\n')).toMatch(/application 'a' needs an import_path/);
    expect(parseError('applications:\n  - import_path: a.ts:x\n    args: [1]\n')).toMatch(
      /args of application 'default' must be a mapping/,
    );
    expect(
      parseError(`
applications:
  - import_path: a.ts:app
    deployments:
      - name: Model
        num_replicas: -1
`),
    ).toMatch(/^serve\.yaml:5: Invalid numReplicas for deployment 'Model' of application 'default'/);
    expect(
      parseError(`
applications:
  - import_path: a.ts:app
    deployments:
      - num_replicas: 1
`),
    ).toMatch(/applications\[0\]\.deployments\[0\] needs the name of the deployment it overrides/);
  });

  it('rejects two apps with one name or one route prefix, and one deployment listed twice', () => {
    expect(
      parseError(
        'applications:\n  - { name: a, import_path: x.ts:a, route_prefix: /a }\n  - { name: a, import_path: x.ts:b, route_prefix: /b }\n',
      ),
    ).toMatch(/^serve\.yaml:3: two applications are named 'a'/);
    expect(
      parseError('applications:\n  - { name: a, import_path: x.ts:a }\n  - { name: b, import_path: x.ts:b }\n'),
    ).toMatch(/applications 'a' and 'b' both have route_prefix '\/'/);
    expect(parseError('applications:\n  - import_path: x.ts:a\n    deployments: [{ name: M }, { name: M }]\n')).toMatch(
      /deployment 'M' of application 'default' is listed twice/,
    );
  });
});

describe('applyOverrides', () => {
  it('rebinds the deployments of that name anywhere in the graph, inside arrays and plain objects, keeping shared nodes shared', () => {
    const leaf = Leaf.bind();
    const root = Root.bind([leaf, Other.bind()], { nested: { leaf }, n: 5 });
    const out = applyOverrides(root, [
      { name: 'Leaf', numReplicas: 4, userConfig: { a: 1 } },
      { name: 'Root', autoscalingConfig: { minReplicas: 1, maxReplicas: 2 } },
    ]);
    expect(out).toBeInstanceOf(Application);
    expect(out.deployment.compiled.autoscaling).toMatchObject({ minReplicas: 1, maxReplicas: 2 });
    expect(out.deployment.compiled.maxOngoingRequests).toBe(7); // the deployment's own options stay
    const [list, obj] = out.args as [Application[], { nested: { leaf: Application }; n: number }];
    expect(list[0].deployment.compiled).toMatchObject({ numReplicas: 4, userConfig: { a: 1 } });
    expect(obj.nested.leaf).toBe(list[0]);
    expect(obj.n).toBe(5);
    expect(list[1].deployment.compiled.numReplicas).toBe(3); // not overridden
    expect(root.args[0]).toEqual([leaf, expect.any(Application)]); // the original graph is untouched
    expect(leaf.deployment.compiled.numReplicas).toBe(1);
  });

  it('fails on an override of a deployment that is not in the graph, listing those that are', () => {
    expect(() => applyOverrides(Root.bind([Leaf.bind()], {}), [{ name: 'Modle', numReplicas: 2 }], 'app1')).toThrow(
      /Application 'app1' has no deployment named 'Modle' to override\. Its deployments: Root, Leaf\./,
    );
  });

  it('reports invalid override values for the deployment', () => {
    expect(() =>
      applyOverrides(Leaf.bind(), [{ name: 'Leaf', autoscalingConfig: { minReplicas: 3, maxReplicas: 2 } }]),
    ).toThrow(/maxReplicas \(2\) is below minReplicas \(3\)/);
  });
});

describe('import paths and config files', () => {
  let dir: string;
  const shared = globalThis as unknown as { __serveConfigTest: Record<string, unknown> };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-config-test-'));
    // The module hands out objects made here, so they are of this copy of Application and Deployment.
    shared.__serveConfigTest = { app: Root.bind([Leaf.bind()], {}), dep: Leaf, seen: [] };
    fs.writeFileSync(
      path.join(dir, 'apps.mjs'),
      `
const t = globalThis.__serveConfigTest;
export const app = t.app;
export const dep = t.dep;
export default t.app;
export const number = 42;
export function builder(args) { t.seen.push(args); return t.app; }
export function badBuilder() { return { not: 'an app' }; }
export class Plain {}
`,
    );
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.writeFileSync(
      path.join(dir, 'conf', 'serve.yaml'),
      `
http_options: { port: 8111 }
applications:
  - name: one
    route_prefix: /one
    import_path: ../apps.mjs:builder
    args: { size: small }
    deployments: [{ name: Leaf, num_replicas: 2 }]
  - name: two
    route_prefix: /two
    import_path: ../apps.mjs:dep
`,
    );
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes an application as is, binds a deployment, calls a builder with its args, and uses the default export', async () => {
    expect(await buildFromImportPath('./apps.mjs:app', dir)).toBe(shared.__serveConfigTest.app);
    const bound = await buildFromImportPath(`${dir}/apps.mjs:dep`, '/elsewhere');
    expect(bound.deployment).toBe(Leaf);
    expect(bound.args).toEqual([]);
    expect(await buildFromImportPath('apps.mjs:builder', dir, { k: 'v' })).toBe(shared.__serveConfigTest.app);
    expect(shared.__serveConfigTest.seen).toContainEqual({ k: 'v' });
    expect(await buildFromImportPath('./apps.mjs', dir)).toBe(shared.__serveConfigTest.app);
  });

  it('explains a missing module or export, args for a non-builder, and exports that are no app', async () => {
    await expect(buildFromImportPath('./nope.mjs:app', dir)).rejects.toThrow(
      /Cannot find the module of import path '\.\/nope\.mjs:app': no file .*nope\.mjs/,
    );
    await expect(buildFromImportPath('./apps.mjs:ap', dir)).rejects.toThrow(
      /has no export 'ap'.*Its exports that could be an app: .*app.*builder/,
    );
    await expect(buildFromImportPath('./apps.mjs:app', dir, { k: 1 })).rejects.toThrow(
      /it is an application, not an app builder/,
    );
    await expect(buildFromImportPath('./apps.mjs:number', dir)).rejects.toThrow(
      /'number' of .* is number 42: import_path must name an application/,
    );
    await expect(buildFromImportPath('./apps.mjs:badBuilder', dir)).rejects.toThrow(
      /The app builder 'badBuilder' .* returned a mapping/,
    );
    await expect(buildFromImportPath('./apps.mjs:Plain', dir)).rejects.toThrow(
      /is a plain class: make it a deployment with serve\.deployment\(\)/,
    );
  });

  it('loads a config file: modules relative to it, builder args, overrides', async () => {
    const { start, apps } = await loadServeConfig(path.join(dir, 'conf', 'serve.yaml'));
    expect(start).toEqual({ http: { port: 8111 } });
    expect(apps.map((a) => [a.name, a.routePrefix])).toEqual([
      ['one', '/one'],
      ['two', '/two'],
    ]);
    expect(shared.__serveConfigTest.seen).toContainEqual({ size: 'small' });
    const leaf = (apps[0].app.args[0] as Application[])[0];
    expect(leaf.deployment.compiled.numReplicas).toBe(2);
    expect(apps[1].app.deployment).toBe(Leaf);
  });

  it('names the file and the application when loading fails', async () => {
    const file = path.join(dir, 'conf', 'missing.yaml');
    fs.writeFileSync(
      file,
      'applications:\n  - name: x\n    import_path: ../apps.mjs:app\n    deployments: [{ name: Nope, num_replicas: 2 }]\n',
    );
    await expect(loadServeConfig(file)).rejects.toThrow(
      `${file}: Application 'x' has no deployment named 'Nope' to override. Its deployments: Root, Leaf.`,
    );
    fs.writeFileSync(file, 'applications:\n  - name: x\n    import_path: ../gone.mjs:app\n');
    await expect(loadServeConfig(file)).rejects.toThrow(`${file}: application 'x': Cannot find the module`);
    await expect(loadServeConfig(path.join(dir, 'none.yaml'))).rejects.toThrow(
      /Cannot read the config file .*none\.yaml/,
    );
  });
});
