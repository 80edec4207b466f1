#!/usr/bin/env python3
"""Record reference trajectories of Gymnasium's classic-control envs for @ray-ts/rllib's tests.

For each env and a few seeds: `gymnasium.make(env_id)` (so the TimeLimit wrapper is on), reset
with the seed, record the exact start state (`env.unwrapped.state`, float64), then play an action
sequence until termination, truncation or a step cap, recording per step the action, the
observation (float32, written with the fewest digits that round-trip in float32), the reward,
`terminated`, `truncated` and (for the first STATE_STEPS steps) the float64 state after the step,
so tests can also check one step at a time from an exact state. Actions come from numpy's PCG64 seeded with `seed + 1000`
('random'), or from a simple deterministic controller of the observation ('heuristic', used to
reach termination or the time limit); either way they are stored in the fixture.

Usage (needs gymnasium and numpy; writes packages/rllib/test/fixtures/gym/<env>.json):

    python3 -m venv /tmp/gymvenv && /tmp/gymvenv/bin/pip install gymnasium
    /tmp/gymvenv/bin/python packages/rllib/tools/record_gym_fixtures.py
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

# States are kept for the first STATE_STEPS steps only, to keep each fixture under 100 KB.
STATE_STEPS = 150
OUT_DIR = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "gym"


def f32(x) -> float:
    """The float32 value as the shortest decimal that reads back to the same float32."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def state_of(env) -> list[float]:
    return [float(v) for v in np.asarray(env.unwrapped.state, dtype=np.float64)]


def cartpole_balance(obs) -> int:
    # Push toward the side the pole falls to, with a little cart centring: balances for 500 steps.
    x, x_dot, theta, theta_dot = (float(v) for v in obs)
    return 1 if theta + 0.5 * theta_dot + 0.01 * x + 0.1 * x_dot > 0 else 0


def mountain_car_energy(obs) -> int:
    # Push along the velocity: builds up energy and reaches the flag well before 200 steps.
    return 2 if float(obs[1]) >= 0 else 0


def acrobot_pump(obs) -> int:
    # Torque along the second joint's angular velocity: pumps energy until the tip swings up
    # (terminates in 65 to 125 steps for these seeds).
    return 2 if float(obs[5]) > 0 else 0


ENVS = {
    "CartPole-v1": {
        "random": lambda rng, obs: int(rng.integers(0, 2)),
        "heuristic": lambda rng, obs: cartpole_balance(obs),
        "runs": [(0, "random", 200), (1, "random", 200), (2, "random", 200), (3, "heuristic", 500)],
    },
    "MountainCar-v0": {
        "random": lambda rng, obs: int(rng.integers(0, 3)),
        "heuristic": lambda rng, obs: mountain_car_energy(obs),
        "runs": [(0, "random", 200), (1, "heuristic", 200), (2, "heuristic", 200)],
    },
    "Acrobot-v1": {
        "random": lambda rng, obs: int(rng.integers(0, 3)),
        "heuristic": lambda rng, obs: acrobot_pump(obs),
        "runs": [(0, "random", 120), (1, "random", 120), (2, "heuristic", 500), (3, "heuristic", 500)],
    },
    "Pendulum-v1": {
        # Torques beyond [-2, 2] on purpose, to check the clipping.
        "random": lambda rng, obs: np.array([rng.uniform(-2.5, 2.5)], dtype=np.float32),
        "heuristic": None,
        "runs": [(0, "random", 200), (1, "random", 60), (2, "random", 60)],
    },
}


def action_to_json(a):
    if isinstance(a, np.ndarray):
        return [f32(v) for v in a]
    return int(a)


def record(env_id: str, seed: int, policy: str, cap: int) -> dict:
    spec = ENVS[env_id]
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    traj = {
        "seed": seed,
        "policy": policy,
        "startState": state_of(env),
        "initialObs": [f32(v) for v in obs],
        "actions": [],
        "obs": [],
        "rewards": [],
        "terminated": [],
        "truncated": [],
        "states": [],
    }
    rng = np.random.default_rng(seed + 1000)
    act = spec[policy]
    for _ in range(cap):
        a = act(rng, obs)
        obs, reward, terminated, truncated, _ = env.step(a)
        traj["actions"].append(action_to_json(a))
        traj["obs"].append([f32(v) for v in obs])
        traj["rewards"].append(float(reward))
        traj["terminated"].append(bool(terminated))
        traj["truncated"].append(bool(truncated))
        if len(traj["states"]) < STATE_STEPS:
            traj["states"].append(state_of(env))
        if terminated or truncated:
            break
    env.close()
    return traj


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for env_id, spec in ENVS.items():
        env = gym.make(env_id)
        fixture = {
            "env": env_id,
            "gymnasium": gym.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "maxEpisodeSteps": env.spec.max_episode_steps,
            "recordedBy": "packages/rllib/tools/record_gym_fixtures.py",
            "trajectories": [record(env_id, seed, policy, cap) for seed, policy, cap in spec["runs"]],
        }
        env.close()
        path = OUT_DIR / f"{env_id}.json"
        path.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
        ends = [
            "terminated" if t["terminated"][-1] else "truncated" if t["truncated"][-1] else "capped"
            for t in fixture["trajectories"]
        ]
        lens = [len(t["actions"]) for t in fixture["trajectories"]]
        print(f"{path.name}: {path.stat().st_size} bytes, lengths {lens}, ends {ends}", file=sys.stderr)


if __name__ == "__main__":
    main()
