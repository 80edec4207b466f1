import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, get, getRuntimeContext, init, remote, shutdown } from '@ray-ts/core';
import * as f from './fixtures/util.js';

const VAR = 'RAY_TS_TEST_RUNTIME_ENV';
const OTHER = 'RAY_TS_TEST_RUNTIME_ENV_2';

describe('runtimeEnv', () => {
  beforeAll(async () => {
    await init({ numCpus: 2, namespace: 'runtime-env-test', runtimeEnv: { envVars: { RAY_TS_TEST_JOB_ENV: 'job' } } });
  });
  afterAll(async () => {
    await shutdown();
  });

  it('sets envVars in the worker of a task, and only there', async () => {
    const [withEnv, without, again] = await get([
      f.readEnv.options({ runtimeEnv: { envVars: { [VAR]: 'a' } } }).remote(VAR),
      f.readEnv.remote(VAR),
      f.readEnv.options({ runtimeEnv: { envVars: { [VAR]: 'b' } } }).remote(VAR),
    ]);
    expect(withEnv.value).toBe('a');
    expect(withEnv.runtimeEnv).toEqual({ envVars: { RAY_TS_TEST_JOB_ENV: 'job', [VAR]: 'a' } });
    expect(without.value).toBeNull();
    expect(again.value).toBe('b');
    expect(process.env[VAR]).toBeUndefined();
  });

  it("gives every task the job's runtimeEnv from init(), and the driver reports it", async () => {
    expect((await get(f.readEnv.remote('RAY_TS_TEST_JOB_ENV'))).value).toBe('job');
    expect(getRuntimeContext().runtimeEnv).toEqual({ envVars: { RAY_TS_TEST_JOB_ENV: 'job' } });
  });

  it("merges a child's envVars over its parent's", async () => {
    const r = await get(f.readEnvInChild.options({ runtimeEnv: { envVars: { [VAR]: 'parent' } } }).remote(VAR, OTHER));
    expect(r).toEqual({ parent: 'parent', child: 'parent', otherInChild: 'child' });
  });

  it('runs process workers and actors with their envVars; tasks of an actor inherit them', async () => {
    expect(
      (await get(f.readEnv.options({ isolation: 'process', runtimeEnv: { envVars: { [VAR]: 'proc' } } }).remote(VAR)))
        .value,
    ).toBe('proc');
    const a = f.EnvReaderActor.options({ runtimeEnv: { envVars: { [VAR]: 'actor' } } }).remote();
    const plain = f.EnvReaderActor.remote();
    expect(await get(a.read.remote(VAR))).toBe('actor');
    expect(await get(a.readInTask.remote(VAR))).toBe('actor');
    expect(await get(plain.read.remote(VAR))).toBeNull();
  });

  it('refuses what it does not support, saying what to do', () => {
    const fn = remote((x: number) => x);
    expect(() => fn.options({ runtimeEnv: { workingDir: '/tmp' } })).toThrow(
      /workingDir .* is the local folder '\/tmp'.*init\(\{ runtimeEnv \}\).*gcs:\/\/_ray_pkg_/,
    );
    expect(() => fn.options({ runtimeEnv: { modules: ['gcs://x.zip'] } })).toThrow(/local folder 'gcs:\/\/x\.zip'/);
    expect(() => fn.options({ runtimeEnv: { working_dir: '.' } as never })).toThrow(/spelled 'workingDir'/);
    expect(() => fn.options({ runtimeEnv: { py_modules: [] } as never })).toThrow(/spelled 'modules'/);
    expect(() => fn.options({ runtimeEnv: { envVars: { RAY_TS_WORKING_DIR: 'x' } } })).toThrow(/set that instead/);
    expect(() => fn.options({ runtimeEnv: { pip: ['numpy'] } as never })).toThrow(/npm install/);
    expect(() => fn.options({ runtimeEnv: { env_vars: {} } as never })).toThrow(/spelled 'envVars'/);
    expect(() => fn.options({ runtimeEnv: { envVars: { N: 3 } } as never })).toThrow(/values must be strings/);
    expect(() => fn.options({ runtimeEnv: { envVars: { 'A=B': 'x' } } })).toThrow(InvalidArgumentError);
    expect(() => f.EnvReaderActor.options({ runtimeEnv: 'x' as never })).toThrow(/expected an object/);
  });
});
