"""Ray Tune (Python) baseline for the ray-ts Tune benchmark: the same workloads as ray-ts-bench.mjs.

Run through the shared baseline wrapper (venv with Ray 2.58), alone on the machine:

    ../shared/tools/ray-baseline.sh python packages/tune/bench/ray_tune_bench.py \\
        [--only trivial,asha] [--variants reuse,fresh] [--trials 200] [--asha-trials 64] [--seed 42] [--cpus 2]
        [--warmup-trials 2]

Workloads (names for --only):
    trivial  numSamples trials (--trials), x ~ uniform(0, 1); the function trainable reports
             {"score": x * i} for i = 1..10 with tune.report, nothing else.
    asha     --asha-trials trials, a ~ uniform(0, 1), b ~ uniform(0, 1); reports
             score = a * (1 - exp(-t / (10 + 40 b))) for t = 1..100; metric score, mode max,
             ASHAScheduler(time_attr="training_iteration", max_t=100, grace_period=1, reduction_factor=4).
Variants (--variants): fresh = TuneConfig's default reuse_actors=False (an actor per trial);
reuse = reuse_actors=True.

Ray runs as a fresh local instance (ray.init(num_cpus=2)); each trial takes 1 CPU (the default),
so 2 run at once. Random search is BasicVariantGenerator(random_state=--seed); storage is a temp
dir; RunConfig(verbose=0). Only tuner.fit() is timed: not ray.init, nor a warm-up run of
--warmup-trials trivial trials on reused actors that loads Tune in the driver and the workers.
Prints one JSON line per run on stdout (Tune's own banners go to stderr):
    {"side": "ray", "name", "variant", "reuseActors", "wallS", "trials", "trialsPerS",
     "overheadMsPerTrial", "stoppedEarly", "errors", "iterations"}
Everything else goes to stderr.
"""

import argparse
import contextlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import time

MAX_T = 100


def log(msg):
    print(f"[ray] {msg}", file=sys.stderr, flush=True)


def trivial(config):
    from ray import tune

    for i in range(1, 11):
        tune.report({"score": config["x"] * i})


def curve(config):
    from ray import tune

    tau = 10 + 40 * config["b"]
    for t in range(1, MAX_T + 1):
        tune.report({"score": config["a"] * (1 - math.exp(-t / tau))})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="trivial,asha")
    p.add_argument("--variants", default="reuse,fresh")
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--asha-trials", type=int, default=64)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--warmup-trials", type=int, default=2)
    args = p.parse_args()

    names = args.only.split(",")
    variants = args.variants.split(",")
    for n in names:
        if n not in ("trivial", "asha"):
            sys.exit(f"ray_tune_bench: unknown workload {n!r}; choose from trivial, asha")
    for v in variants:
        if v not in ("fresh", "reuse"):
            sys.exit(f"ray_tune_bench: unknown variant {v!r}; choose from fresh, reuse")

    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator

    t0 = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    log(f"ray {ray.__version__}, {ray.cluster_resources().get('CPU')} CPUs; ray.init: {time.perf_counter() - t0:.2f} s")
    storage = tempfile.mkdtemp(prefix="ray-tune-bench-")
    parallelism = args.cpus  # 1 CPU per trial
    status = 0
    try:
        if args.warmup_trials > 0:
            # Untimed: loads Tune's modules in the driver and the workers, as ray-ts-bench.mjs does.
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(sys.stderr):
                tune.Tuner(
                    trivial,
                    param_space={"x": tune.uniform(0, 1)},
                    tune_config=tune.TuneConfig(num_samples=args.warmup_trials, reuse_actors=True),
                    run_config=tune.RunConfig(name="warmup", storage_path=storage, verbose=0),
                ).fit()
            log(f"warm-up ({args.warmup_trials} trivial trials, reused actors, not timed): {time.perf_counter() - t0:.2f} s")
        for name in names:
            for variant in variants:
                reuse = variant == "reuse"
                if name == "trivial":
                    trainable, samples, space, extra, expect = trivial, args.trials, {"x": tune.uniform(0, 1)}, {}, 10
                else:
                    trainable, samples, expect = curve, args.asha_trials, MAX_T
                    space = {"a": tune.uniform(0, 1), "b": tune.uniform(0, 1)}
                    extra = {
                        "metric": "score",
                        "mode": "max",
                        "scheduler": ASHAScheduler(time_attr="training_iteration", max_t=MAX_T, grace_period=1, reduction_factor=4),
                    }
                try:
                    tuner = tune.Tuner(
                        trainable,
                        param_space=space,
                        tune_config=tune.TuneConfig(
                            num_samples=samples,
                            search_alg=BasicVariantGenerator(random_state=args.seed),
                            reuse_actors=reuse,
                            **extra,
                        ),
                        run_config=tune.RunConfig(name=f"{name}-{variant}", storage_path=storage, verbose=0),
                    )
                    t0 = time.perf_counter()
                    with contextlib.redirect_stdout(sys.stderr):  # Tune's banner; stdout is for JSON lines
                        grid = tuner.fit()
                    wall = time.perf_counter() - t0
                    iters = [(r.metrics or {}).get("training_iteration", 0) for r in grid]
                    errors = grid.num_errors
                    line = {
                        "side": "ray",
                        "name": name,
                        "variant": variant,
                        "reuseActors": reuse,
                        "wallS": wall,
                        "trials": len(grid),
                        "trialsPerS": len(grid) / wall,
                        "overheadMsPerTrial": wall * parallelism * 1000 / len(grid),
                        "stoppedEarly": sum(1 for n in iters if n < expect),
                        "errors": errors,
                        "iterations": sum(iters),
                    }
                    if name == "asha":
                        line["best"] = grid.get_best_result().config
                    log(f"{name} {variant}: {wall:.2f} s, {len(grid)} trials, {line['stoppedEarly']} stopped early, {errors} errors")
                    if errors:
                        log(f"first error: {grid.errors[0]}")
                        status = 1
                    print(json.dumps(line), flush=True)
                except Exception as e:  # one failed run does not stop the others
                    log(f"{name} {variant} failed: {e!r}")
                    status = 1
    finally:
        ray.shutdown()
        shutil.rmtree(storage, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
