/**
 * MountainCar-v0, exactly as Gymnasium's `MountainCarEnv` (Moore 1990): an under-powered car in a
 * valley must rock back and forth to reach the flag at position 0.5. Actions: 0 push left,
 * 1 no push, 2 push right. Reward -1 per step; terminates at position >= 0.5 with velocity >= 0;
 * truncated after 200 steps.
 */
import { Box, Discrete } from '../spaces.js';
import { type ClassicControlConfig, ClassicControlEnv, checkDiscreteAction, clip, resetBounds } from './base.js';

const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
const GOAL_POSITION = 0.5;
const GOAL_VELOCITY = 0;
const FORCE = 0.001;
const GRAVITY = 0.0025;

/**
 * MountainCar-v0. Observation `Box([-1.2, -0.07], [0.6, 0.07])`: `[position, velocity]`; action
 * `Discrete(3)`. Start: position uniform in [-0.6, -0.4], velocity 0.
 */
export class MountainCarEnv extends ClassicControlEnv<number> {
  readonly observationSpace = new Box([MIN_POSITION, -MAX_SPEED], [MAX_POSITION, MAX_SPEED]);
  readonly actionSpace = new Discrete(3);

  /** @param config - `maxEpisodeSteps` (default 200). */
  constructor(config: ClassicControlConfig = {}) {
    super('MountainCar-v0', ['position', 'velocity'], 200, config);
  }

  protected sampleState(options: Record<string, unknown> | undefined): Float64Array {
    const [low, high] = resetBounds(this.id, options, -0.6, -0.4);
    return Float64Array.of(this.rng.uniform(low, high), 0);
  }

  protected checkAction(action: unknown): asserts action is number {
    checkDiscreteAction(this.id, 3, action);
  }

  protected dynamics(action: number): { reward: number; terminated: boolean } {
    const s = this.state!;
    let position = s[0];
    let velocity = s[1];
    velocity = velocity + ((action - 1) * FORCE + Math.cos(3 * position) * -GRAVITY);
    velocity = clip(velocity, -MAX_SPEED, MAX_SPEED);
    position = position + velocity;
    position = clip(position, MIN_POSITION, MAX_POSITION);
    if (position === MIN_POSITION && velocity < 0) velocity = 0;
    s[0] = position;
    s[1] = velocity;
    return { reward: -1.0, terminated: position >= GOAL_POSITION && velocity >= GOAL_VELOCITY };
  }

  protected observe(): Float32Array {
    return Float32Array.from(this.state!);
  }
}
