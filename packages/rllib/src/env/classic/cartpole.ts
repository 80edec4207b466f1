/**
 * CartPole-v1, exactly as Gymnasium's `CartPoleEnv` (Barto, Sutton & Anderson): a pole on a cart,
 * pushed left (action 0) or right (action 1) with 10 N, Euler-integrated every 0.02 s in float64.
 * Reward 1 per step, the terminating step included. Terminates when |x| > 2.4 or
 * |theta| > 12 degrees; truncated after 500 steps.
 */
import { Box, Discrete } from '../spaces.js';
import { type ClassicControlConfig, ClassicControlEnv, checkDiscreteAction, resetBounds } from './base.js';

const GRAVITY = 9.8;
const MASSCART = 1.0;
const MASSPOLE = 0.1;
const TOTAL_MASS = MASSPOLE + MASSCART;
const LENGTH = 0.5; // half the pole's length
const POLEMASS_LENGTH = MASSPOLE * LENGTH;
const FORCE_MAG = 10.0;
const TAU = 0.02;
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
const X_THRESHOLD = 2.4;

/**
 * CartPole-v1. Observation `Box([-4.8, -inf, -0.419, -inf], [4.8, inf, 0.419, inf])`:
 * `[x, xDot, theta, thetaDot]`; action `Discrete(2)`. Start state uniform in [-0.05, 0.05]^4.
 *
 * @example
 * ```ts
 * const env = new CartPoleEnv();
 * let { obs } = env.reset({ seed: 0 });
 * const { reward, terminated, truncated } = env.step(1);
 * ```
 */
export class CartPoleEnv extends ClassicControlEnv<number> {
  readonly observationSpace = new Box(
    [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD * 2, Infinity].map((v) => -v),
    [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD * 2, Infinity],
  );
  readonly actionSpace = new Discrete(2);

  /** @param config - `maxEpisodeSteps` (default 500). */
  constructor(config: ClassicControlConfig = {}) {
    super('CartPole-v1', ['x', 'xDot', 'theta', 'thetaDot'], 500, config);
  }

  protected sampleState(options: Record<string, unknown> | undefined): Float64Array {
    const [low, high] = resetBounds(this.id, options, -0.05, 0.05);
    return Float64Array.from({ length: 4 }, () => this.rng.uniform(low, high));
  }

  protected checkAction(action: unknown): asserts action is number {
    checkDiscreteAction(this.id, 2, action);
  }

  protected dynamics(action: number): { reward: number; terminated: boolean } {
    const s = this.state!;
    let x = s[0];
    let xDot = s[1];
    let theta = s[2];
    let thetaDot = s[3];
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const costheta = Math.cos(theta);
    const sintheta = Math.sin(theta);
    // The same operations in the same order as Gymnasium, so float64 results match bit for bit
    // (up to the last bit of the platform's sin/cos).
    const temp = (force + POLEMASS_LENGTH * (thetaDot * thetaDot) * sintheta) / TOTAL_MASS;
    const thetaacc =
      (GRAVITY * sintheta - costheta * temp) / (LENGTH * (4.0 / 3.0 - (MASSPOLE * (costheta * costheta)) / TOTAL_MASS));
    const xacc = temp - (POLEMASS_LENGTH * thetaacc * costheta) / TOTAL_MASS;
    x = x + TAU * xDot;
    xDot = xDot + TAU * xacc;
    theta = theta + TAU * thetaDot;
    thetaDot = thetaDot + TAU * thetaacc;
    s[0] = x;
    s[1] = xDot;
    s[2] = theta;
    s[3] = thetaDot;
    const terminated = x < -X_THRESHOLD || x > X_THRESHOLD || theta < -THETA_THRESHOLD || theta > THETA_THRESHOLD;
    return { reward: 1.0, terminated };
  }

  protected observe(): Float32Array {
    return Float32Array.from(this.state!);
  }
}
