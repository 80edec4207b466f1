/**
 * The env registry: names to creators, as RLlib's `tune.register_env` and `gymnasium.make`.
 *
 * The built-in envs ('CartPole-v1', 'MountainCar-v0', 'Acrobot-v1', 'Pendulum-v1',
 * 'MultiAgentCartPole') are registered when this module loads, so they exist in every thread.
 * The registry is per thread: a creator registered on the driver does not exist in worker
 * threads. Call `registerEnv` at the top level of a module that the workers import too (for
 * example the module that defines the env class), not inside the driver's `main`.
 */
import { AcrobotEnv } from './classic/acrobot.js';
import { CartPoleEnv } from './classic/cartpole.js';
import { MountainCarEnv } from './classic/mountain-car.js';
import { PendulumEnv } from './classic/pendulum.js';
import type { PendulumConfig } from './classic/pendulum.js';
import type { ClassicControlConfig } from './classic/base.js';
import { RLlibInvalidArgumentError } from './errors.js';
import { MultiAgentCartPole, isMultiAgentEnv } from './multi-agent.js';
import type { MultiAgentCartPoleConfig, MultiAgentEnv } from './multi-agent.js';
import type { Env } from './types.js';

/** Makes a single- or multi-agent env from its config. */
export type AnyEnvCreator = (config: Record<string, unknown>) => Env | MultiAgentEnv;

const registry = new Map<string, AnyEnvCreator>();

/**
 * Registers `creator` under `name`, for {@link makeEnv} (and algorithm configs that name an env).
 * Registering a name again replaces its creator. Run this at the top level of a module that
 * worker threads import too: the registry is per thread.
 *
 * @throws RLlibInvalidArgumentError when `name` is empty or `creator` is not a function.
 *
 * @example
 * ```ts
 * // my-env.ts
 * export class MyEnv implements Env<Float32Array, number> { ... }
 * registerEnv('MyEnv', (config) => new MyEnv(config));
 * ```
 */
export function registerEnv(name: string, creator: AnyEnvCreator): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new RLlibInvalidArgumentError(`registerEnv: name must be a non-empty string, got ${JSON.stringify(name)}.`);
  }
  if (typeof creator !== 'function') {
    throw new RLlibInvalidArgumentError(
      `registerEnv('${name}'): creator must be a function (config) => Env, got ${typeof creator}. ` +
        `For a class, pass (config) => new MyEnv(config).`,
    );
  }
  registry.set(name, creator);
}

/** The registered env names (built-ins included), sorted. */
export function registeredEnvs(): string[] {
  return [...registry.keys()].sort();
}

/** Whether `name` is registered in this thread. */
export function isEnvRegistered(name: string): boolean {
  return registry.has(name);
}

/**
 * Makes the env registered under `name`, passing it `config` (default `{}`). Built-in envs take
 * `{ maxEpisodeSteps }` (Pendulum also `g`; MultiAgentCartPole `numAgents`). The type parameter
 * only casts: pass `makeEnv<MultiAgentEnv>(...)` for a multi-agent env, or
 * `makeEnv<Env | MultiAgentEnv>(...)` and narrow with `isMultiAgentEnv`.
 *
 * @throws RLlibInvalidArgumentError when `name` is not registered (the message lists the
 *   registered names), or the creator returned something that is not an env.
 *
 * @example
 * ```ts
 * const env = makeEnv('CartPole-v1');
 * const { obs } = env.reset({ seed: 0 });
 * ```
 */
export function makeEnv<E extends Env | MultiAgentEnv = Env>(name: string, config: Record<string, unknown> = {}): E {
  const creator = registry.get(name);
  if (creator === undefined) {
    throw new RLlibInvalidArgumentError(
      `Unknown env '${name}'. Registered envs: ${registeredEnvs().join(', ')}. ` +
        `Call registerEnv('${name}', (config) => new YourEnv(config)) first, at the top level of a module ` +
        `that worker threads also import (the registry is per thread).`,
    );
  }
  const env = creator(config);
  const single =
    typeof env === 'object' &&
    env !== null &&
    typeof (env as Env).reset === 'function' &&
    typeof (env as Env).step === 'function';
  if (!single && !isMultiAgentEnv(env)) {
    throw new RLlibInvalidArgumentError(
      `The creator registered for env '${name}' returned ${env === null ? 'null' : typeof env}, not an env. ` +
        `It must return an object with reset(), step(), observationSpace and actionSpace.`,
    );
  }
  return env as E;
}

registerEnv('CartPole-v1', (config) => new CartPoleEnv(config as ClassicControlConfig));
registerEnv('MountainCar-v0', (config) => new MountainCarEnv(config as ClassicControlConfig));
registerEnv('Acrobot-v1', (config) => new AcrobotEnv(config as ClassicControlConfig));
registerEnv('Pendulum-v1', (config) => new PendulumEnv(config as PendulumConfig));
registerEnv('MultiAgentCartPole', (config) => new MultiAgentCartPole(config as MultiAgentCartPoleConfig));
