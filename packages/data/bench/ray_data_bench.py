"""Ray Data (Python) baseline for the ray-ts Data benchmark: the same five workloads.

Run through the shared baseline wrapper (venv with Ray 2.58), alone on the machine:

    node packages/data/bench/make-data.mjs --out DATA          # DATA/tabular, DATA/mlp
    node tools/make-mlp-onnx.mjs --out MODEL                     # MODEL/mlp.onnx, mlp-weights.json
    ../shared/tools/ray-baseline.sh python packages/data/bench/ray_data_bench.py \\
        --data DATA --model MODEL [--only NAME[,NAME]] [--repeat 1] [--check]

Workloads (names for --only):
    range_map_batches  ray.data.range(N).map_batches(id*2).count()          (N = --range-rows)
    groupby_mean       read_parquet(tabular).groupby("category").mean("x").take_all()
    sort               read_parquet(tabular).sort("x").materialize()
    random_shuffle     read_parquet(tabular).random_shuffle().materialize()
    batch_inference    read_parquet(mlp).map_batches(Predictor, concurrency=2 (ActorPoolStrategy(size=2)),
                           num_cpus=--actor-cpus (0.5), batch_size=1024).count()

Prints one JSON line per workload on stdout:
    {"name", "seconds", "rows_per_s", "rows", "runs": [...], ...}
where seconds is the median of --repeat runs, each timed from building the Dataset to its result
(ray.init and a small warm-up, which starts Ray's worker processes, are not timed). Ray runs as a
fresh local instance with 2 CPUs, as in /work/shared/BASELINES.md.

The predictor runs the ONNX model with onnxruntime when the venv has it (--engine auto), else the
same weights (mlp-weights.json) with numpy; --engine torch uses torch. --check compares a sum of
the predictions with numpy over the same features read directly with pyarrow (small data only).
"""

import argparse
import json
import logging
import os
import statistics
import sys
import time

import numpy as np

WORKLOADS = ["range_map_batches", "groupby_mean", "sort", "random_shuffle", "batch_inference"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def dataset_dir(data, name):
    """DATA/<name> as written by make-data.mjs; DATA itself if it holds the Parquet files directly."""
    sub = os.path.join(data, name)
    return sub if os.path.isdir(sub) else data


def parquet_rows(path):
    import pyarrow.dataset as pads

    return pads.dataset(path, format="parquet").count_rows()


# ---------------------------------------------------------------------------------------------
# Model: y = relu(x @ W1 + b1) @ W2 + b2, from tools/make-mlp-onnx.mjs


def load_weights(model_dir):
    with open(os.path.join(model_dir, "mlp-weights.json")) as f:
        j = json.load(f)
    t = {k: np.asarray(v["data"], dtype=np.float32).reshape(v["shape"]) for k, v in j["tensors"].items()}
    return t["W1"], t["b1"], t["W2"], t["b2"]


def numpy_mlp(weights, x):
    w1, b1, w2, b2 = weights
    h = x @ w1
    h += b1
    np.maximum(h, 0, out=h)
    y = h @ w2
    y += b2
    return y


def features_of(batch):
    """[rows, 64] float32 from a numpy batch: 64 columns f0..f63, or one fixed-size-list column."""
    if "features" in batch:
        col = batch["features"]
        return col.astype(np.float32, copy=False) if col.ndim == 2 else np.stack(col).astype(np.float32, copy=False)
    cols = [batch[f"f{j}"] for j in range(len(batch)) if f"f{j}" in batch]
    return np.stack(cols, axis=1)


def resolve_engine(engine):
    if engine != "auto":
        return engine
    try:
        import onnxruntime  # noqa: F401

        return "onnxruntime"
    except ImportError:
        return "numpy"


class Predictor:
    """Ray Data callable class: one model per actor, predictions `y` [rows, 10] per batch."""

    def __init__(self, model_dir, engine):
        self.engine = engine
        if engine == "onnxruntime":
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                os.path.join(model_dir, "mlp.onnx"), opts, providers=["CPUExecutionProvider"]
            )
        elif engine == "torch":
            import torch

            torch.set_num_threads(1)
            w1, b1, w2, b2 = (torch.from_numpy(a) for a in load_weights(model_dir))
            self.torch = torch
            self.model = lambda x: torch.relu(x @ w1 + b1) @ w2 + b2
        elif engine == "numpy":
            self.weights = load_weights(model_dir)
        else:
            raise ValueError(f"unknown engine {engine!r}: use auto, onnxruntime, numpy or torch")

    def __call__(self, batch):
        x = features_of(batch)
        if self.engine == "onnxruntime":
            y = self.session.run(["y"], {"x": x})[0]
        elif self.engine == "torch":
            with self.torch.inference_mode():
                y = self.model(self.torch.from_numpy(x)).numpy()
        else:
            y = numpy_mlp(self.weights, x)
        return {"y": y}


# ---------------------------------------------------------------------------------------------
# Workloads: each returns (rows processed, result for logging/checks)


def w_range_map_batches(ray, args):
    n = args.range_rows
    count = ray.data.range(n).map_batches(lambda b: {"id": b["id"] * 2}).count()
    assert count == n, (count, n)
    return n, {"count": count}


def w_groupby_mean(ray, args):
    path = dataset_dir(args.data, "tabular")
    rows = ray.data.read_parquet(path).groupby("category").mean("x").take_all()
    return args.tabular_rows, {"groups": len(rows)}


def w_sort(ray, args):
    path = dataset_dir(args.data, "tabular")
    ds = ray.data.read_parquet(path).sort("x").materialize()
    return args.tabular_rows, {"blocks": ds.num_blocks()}


def w_random_shuffle(ray, args):
    path = dataset_dir(args.data, "tabular")
    ds = ray.data.read_parquet(path).random_shuffle().materialize()
    return args.tabular_rows, {"blocks": ds.num_blocks()}


def w_batch_inference(ray, args):
    path = dataset_dir(args.data, "mlp")
    count = predict(ray, args, ray.data.read_parquet(path)).count()
    assert count == args.mlp_rows, (count, args.mlp_rows)
    return count, {"engine": args.engine, "actor_cpus": args.actor_cpus}


def predict(ray, args, ds):
    # Two predictor actors (concurrency=2). Each asks for --actor-cpus CPUs: with the default of
    # 1 CPU, the two actors hold both CPUs of the 2-CPU instance and the Parquet read tasks that
    # feed them never get one (the job hangs: Ray 2.58 does not fuse the read into the actors).
    return ds.map_batches(
        Predictor,
        fn_constructor_args=(args.model, args.engine),
        compute=ray.data.ActorPoolStrategy(size=2),
        num_cpus=args.actor_cpus,
        batch_size=1024,
        batch_format="numpy",
    )


RUNNERS = {
    "range_map_batches": w_range_map_batches,
    "groupby_mean": w_groupby_mean,
    "sort": w_sort,
    "random_shuffle": w_random_shuffle,
    "batch_inference": w_batch_inference,
}


# ---------------------------------------------------------------------------------------------
# Correctness checks (--check; small data: they read the data into this process)


def check(ray, name, args):
    import pyarrow.dataset as pads

    if name == "groupby_mean":
        path = dataset_dir(args.data, "tabular")
        got = {r["category"]: r["mean(x)"] for r in ray.data.read_parquet(path).groupby("category").mean("x").take_all()}
        t = pads.dataset(path, format="parquet").to_table(columns=["x", "category"])
        x, c = t.column("x").to_numpy(), t.column("category").to_numpy()
        want = {int(k): float(x[c == k].mean()) for k in np.unique(c)}
        err = max(abs(got[k] - want[k]) for k in want)
        ok = set(got) == set(want) and err < 1e-9
        return ok, f"{len(got)} groups, max |mean diff| {err:.2e}"
    if name == "sort":
        path = dataset_dir(args.data, "tabular")
        xs = np.concatenate([b["x"] for b in ray.data.read_parquet(path).sort("x").iter_batches(batch_format="numpy")])
        ok = len(xs) == args.tabular_rows and bool(np.all(xs[1:] >= xs[:-1]))
        return ok, f"{len(xs)} rows, ascending: {ok}"
    if name == "random_shuffle":
        path = dataset_dir(args.data, "tabular")
        ids = np.concatenate(
            [b["id"] for b in ray.data.read_parquet(path).random_shuffle().iter_batches(batch_format="numpy")]
        )
        same_set = np.array_equal(np.sort(ids), np.arange(args.tabular_rows))
        moved = float(np.mean(ids != np.arange(len(ids))))
        return same_set and moved > 0.5, f"{len(ids)} rows, permutation: {same_set}, fraction moved {moved:.3f}"
    if name == "batch_inference":
        path = dataset_dir(args.data, "mlp")
        ds = predict(ray, args, ray.data.read_parquet(path))
        ds = ds.map_batches(lambda b: {"s": b["y"].astype(np.float64).sum(axis=1)}, batch_format="numpy")
        got = float(ds.sum("s"))
        t = pads.dataset(path, format="parquet").to_table()
        x = features_of({k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}
                        if "features" not in t.column_names
                        else {"features": t.column("features").combine_chunks().flatten().to_numpy().reshape(-1, 64)})
        w1, b1, w2, b2 = (a.astype(np.float64) for a in load_weights(args.model))
        want = float((np.maximum(x.astype(np.float64) @ w1 + b1, 0) @ w2 + b2).sum())
        err = abs(got - want) / max(1.0, abs(want))
        return err < 1e-5, f"sum of predictions {got:.6f} vs numpy float64 {want:.6f} (rel diff {err:.1e})"
    return True, "no check"


# ---------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="make-data.mjs --out DIR (tabular/ and mlp/ inside)")
    p.add_argument("--model", help="make-mlp-onnx.mjs --out DIR (mlp.onnx, mlp-weights.json)")
    p.add_argument("--only", help="comma-separated workload names: " + ", ".join(WORKLOADS))
    p.add_argument("--range-rows", type=int, default=10_000_000, help="rows for range_map_batches")
    p.add_argument("--repeat", type=int, default=1, help="runs per workload; seconds is their median")
    p.add_argument("--engine", default="auto", choices=["auto", "onnxruntime", "numpy", "torch"])
    p.add_argument("--no-warmup", action="store_true", help="time the first Ray Data job too")
    p.add_argument("--check", action="store_true", help="also verify results (small data only)")
    p.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray instance (BASELINES.md: 2)")
    p.add_argument(
        "--actor-cpus",
        type=float,
        default=0.5,
        help="num_cpus of each of the 2 predictor actors (1 deadlocks a 2-CPU instance: no CPU left for reads)",
    )
    args = p.parse_args()

    names = WORKLOADS if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in RUNNERS]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; choose from {WORKLOADS}")
    needs_data = [n for n in names if n != "range_map_batches"]
    if needs_data and not args.data:
        p.error(f"--data DIR is needed for {needs_data}")
    if "batch_inference" in names and not args.model:
        p.error("--model DIR is needed for batch_inference")
    if args.data:
        args.data = os.path.abspath(args.data)
    if args.model:
        args.model = os.path.abspath(args.model)
    args.engine = resolve_engine(args.engine)
    if any(n in names for n in ("groupby_mean", "sort", "random_shuffle")):
        args.tabular_rows = parquet_rows(dataset_dir(args.data, "tabular"))
    if "batch_inference" in names:
        args.mlp_rows = parquet_rows(dataset_dir(args.data, "mlp"))

    import ray
    import ray.data

    ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    log(f"ray {ray.__version__}, num_cpus={args.num_cpus}, engine={args.engine}, workloads={names}")

    if not args.no_warmup:
        ray.data.range(10_000, override_num_blocks=4).map_batches(lambda b: b).count()

    failed = False
    for name in names:
        runs = []
        rows, info = 0, {}
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            rows, info = RUNNERS[name](ray, args)
            runs.append(time.perf_counter() - t0)
        seconds = statistics.median(runs)
        out = {
            "name": name,
            "seconds": round(seconds, 4),
            "rows_per_s": round(rows / seconds),
            "rows": rows,
            "runs": [round(r, 4) for r in runs],
            **info,
        }
        if args.check:
            ok, detail = check(ray, name, args)
            out["check"] = "ok" if ok else "FAILED"
            out["check_detail"] = detail
            failed |= not ok
        print(json.dumps(out), flush=True)

    ray.shutdown()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
