"""Ray's side of the Train benchmark (see run.mjs): the same workload in Ray Train's TorchTrainer
(2 workers, DDP on gloo) and in a plain PyTorch loop in one process. Prints one JSON line per case.

    ray-baseline.sh python ray_train_bench.py --case plain|trainer [--rows 200000 --epochs 3 --batch 256 --workers 2]
"""
import argparse
import json
import sys
import tempfile
import time

import torch
import torch.nn as nn

IN, HIDDEN, OUT = 64, 256, 10


def log(*a):
    print("[ray]", *a, file=sys.stderr, flush=True)


def make_data(rows, rank, world, seed=1):
    g = torch.Generator().manual_seed(seed * 1000 + rank)
    mine = rows // world
    x = torch.rand(mine, IN, generator=g) * 2 - 1
    y = torch.randint(0, OUT, (mine,), generator=g)
    return x, y


def train(model, x, y, epochs, local, lr, momentum, step_hook=None):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    steps = x.shape[0] // local
    loss = None
    t0 = time.perf_counter()
    for _ in range(epochs):
        for s in range(steps):
            bx = x[s * local:(s + 1) * local]
            by = y[s * local:(s + 1) * local]
            opt.zero_grad()
            loss = loss_fn(model(bx), by)
            loss.backward()
            opt.step()
    return time.perf_counter() - t0, float(loss.detach()), steps * epochs


def mlp():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--case", default="trainer")
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.01)
    a = p.parse_args()

    if a.case == "plain":
        t0 = time.perf_counter()
        x, y = make_data(a.rows, 0, 1)
        train_s, loss, steps = train(mlp(), x, y, a.epochs, a.batch, a.lr, 0.9)
        wall = time.perf_counter() - t0
        log(f"plain torch: {wall:.2f} s ({train_s:.2f} s training), final loss {loss:.4f}")
        print(json.dumps({"side": "ray", "name": "plain", "wallS": wall, "trainS": train_s, "loss": loss, "steps": steps}), flush=True)
        return

    import ray
    import ray.train
    import ray.train.torch
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    def loop(config):
        t_loop = time.perf_counter()
        ctx = ray.train.get_context()
        x, y = make_data(config["rows"], ctx.get_world_rank(), ctx.get_world_size())
        model = ray.train.torch.prepare_model(mlp())
        local = config["batch"] // ctx.get_world_size()
        train_s, loss, steps = train(model, x, y, config["epochs"], local, config["lr"], 0.9)
        metrics = {"trainS": train_s, "loopS": time.perf_counter() - t_loop, "loss": loss, "steps": steps}
        # Ray Train 2.x keeps the metrics of reports that come with a checkpoint: rank 0 gives a tiny one.
        with tempfile.TemporaryDirectory() as d:
            checkpoint = None
            if ctx.get_world_rank() == 0:
                with open(f"{d}/done", "w") as f:
                    f.write("1")
                checkpoint = ray.train.Checkpoint.from_directory(d)
            ray.train.report(metrics, checkpoint=checkpoint)

    t0 = time.perf_counter()
    ray.init(num_cpus=a.workers, include_dashboard=False, log_to_driver=False)
    init_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as storage:
        t1 = time.perf_counter()
        result = TorchTrainer(
            loop,
            train_loop_config={"rows": a.rows, "epochs": a.epochs, "batch": a.batch, "lr": a.lr},
            scaling_config=ScalingConfig(num_workers=a.workers, use_gpu=False),
            run_config=RunConfig(name="bench", storage_path=storage),
        ).fit()
        fit_s = time.perf_counter() - t1
    m = result.metrics
    log(f"TorchTrainer, {a.workers} workers: fit {fit_s:.2f} s ({m['trainS']:.2f} s training steps on rank 0, {m['loopS']:.2f} s in the loop), init {init_s:.2f} s, final loss {m['loss']:.4f}")
    print(json.dumps({
        "side": "ray", "name": "trainer", "workers": a.workers, "wallS": fit_s + init_s, "fitS": fit_s, "initS": init_s,
        "trainS": m["trainS"], "loopS": m["loopS"], "overheadS": fit_s - m["trainS"], "trainerOverheadS": fit_s - m["loopS"],
        "loss": m["loss"], "steps": m["steps"],
    }), flush=True)
    ray.shutdown()


if __name__ == "__main__":
    main()
