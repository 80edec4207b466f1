/**
 * Acrobot-v1, exactly as Gymnasium's `AcrobotEnv` (Sutton & Barto's book dynamics,
 * `book_or_nips = 'book'`, no torque noise): two links hanging down, torque -1, 0 or +1 on the
 * joint between them, integrated with one RK4 step of 0.2 s in float64. Reward -1 per step and 0
 * on the terminating step; terminates when the free end swings above the bar
 * (`-cos(theta1) - cos(theta1 + theta2) > 1`); truncated after 500 steps.
 */
import { Box, Discrete } from '../spaces.js';
import { type ClassicControlConfig, ClassicControlEnv, checkDiscreteAction, resetBounds } from './base.js';

const DT = 0.2;
const LINK_LENGTH_1 = 1.0;
const LINK_MASS_1 = 1.0;
const LINK_MASS_2 = 1.0;
const LINK_COM_POS_1 = 0.5;
const LINK_COM_POS_2 = 0.5;
const LINK_MOI = 1.0;
const MAX_VEL_1 = 4 * Math.PI;
const MAX_VEL_2 = 9 * Math.PI;
const AVAIL_TORQUE = [-1.0, 0.0, 1.0] as const;
const PI = Math.PI;

/** Gymnasium's `_dsdt` with the book's equations; `s` = [theta1, theta2, dtheta1, dtheta2]. */
function dsdt(s: readonly number[], a: number): [number, number, number, number] {
  const m1 = LINK_MASS_1;
  const m2 = LINK_MASS_2;
  const l1 = LINK_LENGTH_1;
  const lc1 = LINK_COM_POS_1;
  const lc2 = LINK_COM_POS_2;
  const I1 = LINK_MOI;
  const I2 = LINK_MOI;
  const g = 9.8;
  const theta1 = s[0];
  const theta2 = s[1];
  const dtheta1 = s[2];
  const dtheta2 = s[3];
  // Same operations, same order as Gymnasium (x ** 2 written x * x).
  const d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * Math.cos(theta2)) + I1 + I2;
  const d2 = m2 * (lc2 * lc2 + l1 * lc2 * Math.cos(theta2)) + I2;
  const phi2 = m2 * lc2 * g * Math.cos(theta1 + theta2 - PI / 2.0);
  const phi1 =
    -m2 * l1 * lc2 * (dtheta2 * dtheta2) * Math.sin(theta2) -
    2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Math.sin(theta2) +
    (m1 * lc1 + m2 * l1) * g * Math.cos(theta1 - PI / 2) +
    phi2;
  const ddtheta2 =
    (a + (d2 / d1) * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * Math.sin(theta2) - phi2) /
    (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return [dtheta1, dtheta2, ddtheta1, ddtheta2];
}

/** One step of Gymnasium's `rk4` over [0, DT] (the torque is the constant fifth component). */
function rk4(y0: readonly number[], a: number): number[] {
  const dt = DT - 0;
  const dt2 = dt / 2.0;
  const k1 = dsdt(y0, a);
  const k2 = dsdt(
    y0.map((y, i) => y + dt2 * k1[i]),
    a,
  );
  const k3 = dsdt(
    y0.map((y, i) => y + dt2 * k2[i]),
    a,
  );
  const k4 = dsdt(
    y0.map((y, i) => y + dt * k3[i]),
    a,
  );
  return y0.map((y, i) => y + (dt / 6.0) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
}

function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  while (x > M) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}

function bound(x: number, m: number, M: number): number {
  return Math.min(Math.max(x, m), M);
}

/**
 * Acrobot-v1. Observation `Box([-1, -1, -1, -1, -4 pi, -9 pi], [1, 1, 1, 1, 4 pi, 9 pi])`:
 * `[cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2]`; action `Discrete(3)`
 * (torque -1, 0, +1). Start state uniform in [-0.1, 0.1]^4, rounded to float32 as Gymnasium does.
 */
export class AcrobotEnv extends ClassicControlEnv<number> {
  readonly observationSpace = new Box([-1, -1, -1, -1, -MAX_VEL_1, -MAX_VEL_2], [1, 1, 1, 1, MAX_VEL_1, MAX_VEL_2]);
  readonly actionSpace = new Discrete(3);

  /** @param config - `maxEpisodeSteps` (default 500). */
  constructor(config: ClassicControlConfig = {}) {
    super('Acrobot-v1', ['theta1', 'theta2', 'dtheta1', 'dtheta2'], 500, config);
  }

  protected sampleState(options: Record<string, unknown> | undefined): Float64Array {
    const [low, high] = resetBounds(this.id, options, -0.1, 0.1);
    return Float64Array.from({ length: 4 }, () => Math.fround(this.rng.uniform(low, high)));
  }

  protected checkAction(action: unknown): asserts action is number {
    checkDiscreteAction(this.id, 3, action);
  }

  protected dynamics(action: number): { reward: number; terminated: boolean } {
    const s = this.state!;
    const ns = rk4(Array.from(s), AVAIL_TORQUE[action]);
    s[0] = wrap(ns[0], -PI, PI);
    s[1] = wrap(ns[1], -PI, PI);
    s[2] = bound(ns[2], -MAX_VEL_1, MAX_VEL_1);
    s[3] = bound(ns[3], -MAX_VEL_2, MAX_VEL_2);
    const terminated = -Math.cos(s[0]) - Math.cos(s[1] + s[0]) > 1.0;
    return { reward: terminated ? 0.0 : -1.0, terminated };
  }

  protected observe(): Float32Array {
    const s = this.state!;
    return Float32Array.of(Math.cos(s[0]), Math.sin(s[0]), Math.cos(s[1]), Math.sin(s[1]), s[2], s[3]);
  }
}
