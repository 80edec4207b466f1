/**
 * Pendulum-v1, exactly as Gymnasium's `PendulumEnv`: swing a pendulum up and hold it upright with
 * a continuous torque in [-2, 2]. Reward `-(theta^2 + 0.1 thetaDot^2 + 0.001 u^2)` with theta
 * normalised to [-pi, pi); never terminates; truncated after 200 steps.
 */
import { RLlibInvalidArgumentError } from '../errors.js';
import { Box } from '../spaces.js';
import type { BoxValue } from '../spaces.js';
import { type ClassicControlConfig, ClassicControlEnv, clip } from './base.js';

const MAX_SPEED = 8;
const MAX_TORQUE = 2.0;
const DT = 0.05;
const M = 1.0;
const L = 1.0;
const F32_0_001 = Math.fround(0.001);
const F32_3_OVER_ML2 = Math.fround(3.0 / (M * L * L));

/** numpy's `%` on float64 (floor modulo: the result takes the divisor's sign). */
function npMod(a: number, b: number): number {
  let m = a % b;
  if (m !== 0) {
    if (b < 0 !== m < 0) m += b;
  } else {
    m = b < 0 ? -0 : 0;
  }
  return m;
}

/** Gymnasium's `angle_normalize`: an angle mapped to [-pi, pi). */
export function angleNormalize(x: number): number {
  return npMod(x + Math.PI, 2 * Math.PI) - Math.PI;
}

/** Config of {@link PendulumEnv}. */
export interface PendulumConfig extends ClassicControlConfig {
  /** Gravity (default 10.0, Gymnasium's `g`). */
  g?: number;
}

/**
 * Pendulum-v1. Observation `Box([-1, -1, -8], [1, 1, 8])`: `[cos theta, sin theta, thetaDot]`;
 * action `Box(-2, 2, [1])` (a Float32Array of one torque, clipped to [-2, 2]; a plain number is
 * accepted too). Start: theta uniform in [-pi, pi], thetaDot in [-1, 1].
 */
export class PendulumEnv extends ClassicControlEnv<BoxValue | number> {
  readonly observationSpace = new Box([-1.0, -1.0, -MAX_SPEED], [1.0, 1.0, MAX_SPEED]);
  readonly actionSpace = new Box(-MAX_TORQUE, MAX_TORQUE, [1]);
  /** Gravity. */
  readonly g: number;

  /** @param config - `maxEpisodeSteps` (default 200), `g` (default 10). */
  constructor(config: PendulumConfig = {}) {
    super('Pendulum-v1', ['theta', 'thetaDot'], 200, config);
    this.g = config.g ?? 10.0;
    if (!Number.isFinite(this.g))
      throw new RLlibInvalidArgumentError(`Pendulum-v1: g must be a finite number, got ${String(config.g)}.`);
  }

  protected sampleState(options: Record<string, unknown> | undefined): Float64Array {
    const read = (key: string, def: number): number => {
      if (options === undefined || !(key in options)) return def;
      const v = Number(options[key]);
      if (!Number.isFinite(v))
        throw new RLlibInvalidArgumentError(
          `Pendulum-v1: reset option ${key} = ${String(options[key])} is not a finite number.`,
        );
      return v;
    };
    const x = read('x_init', Math.PI);
    const y = read('y_init', 1.0);
    return Float64Array.of(this.rng.uniform(-x, x), this.rng.uniform(-y, y));
  }

  protected checkAction(action: unknown): asserts action is BoxValue | number {
    const u =
      typeof action === 'number'
        ? action
        : ArrayBuffer.isView(action) || Array.isArray(action)
          ? (action as ArrayLike<unknown>)[0]
          : undefined;
    const len =
      typeof action === 'number'
        ? 1
        : ArrayBuffer.isView(action) || Array.isArray(action)
          ? (action as ArrayLike<unknown>).length
          : 0;
    if (len !== 1 || typeof u !== 'number' || Number.isNaN(u)) {
      throw new RLlibInvalidArgumentError(
        `Pendulum-v1: action ${String(action)} is not a torque; pass a Float32Array of one number (clipped to [-2, 2]).`,
      );
    }
  }

  protected dynamics(action: BoxValue | number): { reward: number; terminated: boolean } {
    const s = this.state!;
    const th = s[0];
    const thdot = s[1];
    // The action is float32, so Gymnasium (NumPy 2 promotion rules) computes every product with u
    // in float32 and promotes to float64 when adding; Math.fround reproduces that.
    const u = clip(Math.fround(typeof action === 'number' ? action : action[0]), -MAX_TORQUE, MAX_TORQUE);
    const an = angleNormalize(th);
    const uCost = Math.fround(F32_0_001 * Math.fround(u * u));
    const costs = an * an + 0.1 * (thdot * thdot) + uCost;
    let newthdot = thdot + (((3 * this.g) / (2 * L)) * Math.sin(th) + Math.fround(F32_3_OVER_ML2 * u)) * DT;
    newthdot = clip(newthdot, -MAX_SPEED, MAX_SPEED);
    const newth = th + newthdot * DT;
    s[0] = newth;
    s[1] = newthdot;
    return { reward: -costs, terminated: false };
  }

  protected observe(): Float32Array {
    const s = this.state!;
    return Float32Array.of(Math.cos(s[0]), Math.sin(s[0]), s[1]);
  }
}
