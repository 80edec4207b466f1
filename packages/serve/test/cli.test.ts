// `ray-ts serve run|deploy|status|shutdown`, as a user runs them: the core CLI's bin in child
// processes, config files in a temp dir that name test/fixtures/cli-app.ts by a relative path.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { waitFor } from '@ray-ts/core/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const cli = path.join(repo, 'packages', 'core', 'bin', 'ray-ts.mjs'); // the `ray-ts` bin
const fixture = path.join(here, 'fixtures', 'cli-app.ts');
const execFileP = promisify(execFile);

let tmp: string;
let env: NodeJS.ProcessEnv;
const children = new Set<ChildProcess>();

/** Runs `ray-ts ...` to the end; resolves with its output and exit code (never rejects on a non-zero exit). */
async function ray(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [cli, ...args], { env, cwd: repo, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: `${e.stderr ?? ''}${typeof e.code === 'string' ? e.code : ''}`,
    };
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Writes a config file into the temp dir; `{app}` stands for the fixture's path relative to it. */
function writeConfig(name: string, yaml: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, yaml.replaceAll('{app}', path.relative(tmp, fixture)));
  return file;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  return res.status === 200 ? res.json() : undefined;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-serve-cli-'));
  // A session of its own (the head's address file), and no cluster inherited from the environment.
  env = { ...process.env, RAY_TS_SESSION_DIR: path.join(tmp, 'session'), RAY_TS_ADDRESS: '' };
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await ray('stop', '--force');
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ray-ts serve run', () => {
  it('serves a config file on a cluster of its own until SIGINT, then exits 0', async () => {
    const port = await freePort();
    const config = writeConfig(
      'run.yaml',
      `
proxy_location: EveryNode
http_options: { host: 127.0.0.1, port: ${port}, request_timeout_s: 30 }
applications:
  - name: cli
    route_prefix: /cli
    import_path: {app}:app
    deployments:
      - name: Greeter
        user_config: { threshold: 0.5 }
`,
    );
    const child = spawn(process.execPath, [cli, 'serve', 'run', config], {
      env,
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const died = exited.then((code) => {
      throw new Error(`serve run exited early (code ${code}):\n${out}`);
    });
    died.catch(() => undefined); // only awaited through the race below

    const body = await Promise.race([
      waitFor(() => getJson(`http://127.0.0.1:${port}/cli/hello`), {
        timeoutMs: 90_000,
        intervalMs: 200,
        what: 'the app answering over HTTP',
      }),
      died,
    ]);
    expect(body).toEqual({ app: 'cli-app', path: '/cli/hello', config: { threshold: 0.5 } });
    await Promise.race([
      waitFor(() => out.includes(`Serving app 'cli' at http://127.0.0.1:${port}/cli`), { what: 'the address printed' }),
      died,
    ]);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('shutting down Serve');
    await expect(fetch(`http://127.0.0.1:${port}/cli/hello`)).rejects.toThrow(); // nothing listens any more
  }, 150_000);

  it('fails with exit code 1 and says why, for a bad config or import path', async () => {
    const missing = writeConfig(
      'missing.yaml',
      `
applications:
  - name: cli
    import_path: {app}:app
    deployments: [{ name: Model, num_replicas: 2 }]
`,
    );
    const r1 = await ray('serve', 'run', missing);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(
      `${missing}: Application 'cli' has no deployment named 'Model' to override. Its deployments: Greeter.`,
    );

    const typo = writeConfig('typo.yaml', 'applications:\n  - import_path: {app}:app\n    rout_prefix: /x\n');
    const r2 = await ray('serve', 'run', typo);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(
      /typo\.yaml:3: unknown key 'rout_prefix' in applications\[0\]\. Did you mean 'route_prefix'\? Known keys: name, route_prefix/,
    );

    const r3 = await ray('serve', 'run', `${path.relative(repo, fixture)}:nothing`);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/has no export 'nothing'.*Its exports that could be an app: .*app/);
  }, 120_000);
});

describe('ray-ts serve deploy, status and shutdown on a running cluster', () => {
  let port: number;

  beforeAll(async () => {
    const head = await ray(
      'start',
      '--head',
      '--port',
      String(await freePort()),
      '--num-cpus',
      '2',
      '--dashboard-port',
      '0',
    );
    expect(head.code, head.stderr).toBe(0);
    port = await freePort();
  }, 90_000);

  it('deploys a config to the head started here, which keeps serving after the command exits', async () => {
    const config = writeConfig(
      'deploy.yaml',
      `
http_options: { host: 127.0.0.1, port: ${port} }
applications:
  - name: built
    route_prefix: /built
    import_path: {app}:builder
    args: { greeting: hi }
  - name: plain
    route_prefix: /plain
    import_path: {app}:app
    deployments:
      - name: Greeter
        user_config: { threshold: 0.9 }
`,
    );
    const r = await ray('serve', 'deploy', config); // no --address: the session's head.json
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Serving app 'built' at http://127.0.0.1:${port}/built`);
    const printed = YAML.parse(r.stdout) as { applications: Record<string, { status: string }> };
    expect(printed.applications.built.status).toBe('RUNNING');
    expect(printed.applications.plain.status).toBe('RUNNING');

    expect(
      await waitFor(() => getJson(`http://127.0.0.1:${port}/built/x`), { timeoutMs: 30_000, what: 'built over HTTP' }),
    ).toEqual({ app: 'cli-app', path: '/built/x', config: { greeting: 'hi' } });
    expect(
      await waitFor(() => getJson(`http://127.0.0.1:${port}/plain`), { timeoutMs: 30_000, what: 'plain over HTTP' }),
    ).toEqual({ app: 'cli-app', path: '/plain', config: { threshold: 0.9 } });

    const st = await ray('serve', 'status');
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain('RUNNING');
    const status = YAML.parse(st.stdout) as {
      proxies: Record<string, { httpPort: number }>;
      applications: Record<
        string,
        { status: string; deployments: Record<string, { replicaStates: Record<string, number> }> }
      >;
    };
    expect(Object.values(status.proxies).map((p) => p.httpPort)).toEqual([port]);
    expect(status.applications.plain.deployments.Greeter.replicaStates).toEqual({ RUNNING: 1 });
  }, 150_000);

  it('treats the config as the whole desired state: updates what it names, deletes what it does not', async () => {
    const config = writeConfig(
      'deploy2.yaml',
      `
http_options: { host: 127.0.0.1, port: ${port} }
applications:
  - name: plain
    route_prefix: /plain
    import_path: {app}:app
    deployments:
      - name: Greeter
        user_config: { threshold: 0.1 }
`,
    );
    const r = await ray(
      'serve',
      'deploy',
      config,
      '--address',
      JSON.parse(fs.readFileSync(path.join(tmp, 'session', 'head.json'), 'utf8')).address,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Deleting app 'built': it is not in ${config}.`);
    expect(Object.keys((YAML.parse(r.stdout) as { applications: object }).applications)).toEqual(['plain']);
    await waitFor(
      async () =>
        ((await getJson(`http://127.0.0.1:${port}/plain`)) as { config?: { threshold: number } })?.config?.threshold ===
        0.1,
      { timeoutMs: 30_000, what: 'the new user_config served' },
    );
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/built/x`)).status === 404, {
      timeoutMs: 30_000,
      what: "the deleted app's route gone",
    });
  }, 150_000);

  it('fails a deploy with exit code 1 and the reason', async () => {
    const bad = writeConfig(
      'bad.yaml',
      `applications:\n  - import_path: {app}:builder\n    deployments: [{ name: Greeter, num_replicas: -2 }]\n`,
    );
    const r = await ray('serve', 'deploy', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:3: Invalid numReplicas for deployment 'Greeter'/);
  }, 60_000);

  it('shuts Serve down on the cluster', async () => {
    const refused = await ray('serve', 'shutdown'); // stdin is no terminal: it will not ask
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pass --yes');
    const r = await ray('serve', 'shutdown', '--yes');
    expect(r.code, r.stderr).toBe(0);
    const st = await ray('serve', 'status');
    expect(YAML.parse(st.stdout)).toEqual({ proxies: {}, applications: {} });
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/plain`).then(
          () => false,
          () => true,
        ),
      { timeoutMs: 30_000, what: 'the proxy closed' },
    );
    const stop = await ray('stop');
    expect(stop.stdout).toContain('Stopped 1');
  }, 90_000);
});
