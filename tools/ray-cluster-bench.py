"""Ray (Python) cross-node baseline: run by tools/ray-cluster-baseline.sh against a 2-node
Ray cluster on this machine (head + a second node carrying the custom resource "node2").

    ray-cluster-bench.py OUT.json      (RAY_ADDRESS must point at the head)

Each case prints `name: value unit`; all are written to OUT.json as
{"cases": {name: {"value": v, "unit": u}}, "ray_version": ..., ...}.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import ray
from ray.util.placement_group import placement_group, remove_placement_group

MIB = 1 << 20
ARRAY_BYTES = 256 * MIB
PIN = {"resources": {"node2": 0.001}}  # forces placement on the second node

results = {}
extra = {}  # side figures, not cases


def report(name, value, unit):
    results[name] = {"value": round(value, 4), "unit": unit}
    print(f"{name}: {value:.4g} {unit}", flush=True)


@ray.remote(num_cpus=1, **PIN)
def f():
    return 1


@ray.remote(num_cpus=1, **PIN)
def make_array():
    return np.ones(ARRAY_BYTES, dtype=np.uint8)


@ray.remote(num_cpus=1, **PIN)
def nbytes(a):
    return a.nbytes


@ray.remote(num_cpus=0, **PIN)
class A:
    def m(self):
        return None

    def node(self):
        return ray.get_runtime_context().get_node_id()


@ray.remote(num_cpus=0, **PIN)
def node_of_task():
    return ray.get_runtime_context().get_node_id()


def cross_node_tasks():
    batch = 1000
    ray.get([f.remote() for _ in range(batch)])  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 5:
        ray.get([f.remote() for _ in range(batch)])
        n += batch
    report("cross-node tasks", n / (time.perf_counter() - t0), "tasks/s")


def cross_node_get():
    def once():
        t_submit = time.perf_counter()
        ref = make_array.remote()
        ray.wait([ref], fetch_local=False)  # produced on node 2, not yet pulled
        t0 = time.perf_counter()
        a = ray.get(ref)
        t1 = time.perf_counter()
        assert a.nbytes == ARRAY_BYTES and a[-1] == 1
        del a, ref
        time.sleep(0.2)
        return ARRAY_BYTES / 1e9 / (t1 - t0), ARRAY_BYTES / 1e9 / (t1 - t_submit)

    once()  # warm-up
    reps = [once() for _ in range(3)]
    # The case times the ray.get (the pull to the head) only; the task that makes the
    # array on node 2 is timed separately into "extra".
    report("cross-node get GB", statistics.median(r[0] for r in reps), "GB/s")
    extra["cross-node get GB reps"] = [round(r[0], 4) for r in reps]
    extra["cross-node get GB incl. task"] = {
        "value": round(statistics.median(r[1] for r in reps), 4), "unit": "GB/s"}


def cross_node_put():
    ray.get(nbytes.remote(np.ones(MIB, dtype=np.uint8)))  # warm-up worker on node 2
    arr = np.ones(ARRAY_BYTES, dtype=np.uint8)

    def once():
        t0 = time.perf_counter()
        ref = ray.put(arr)
        n = ray.get(nbytes.remote(ref))
        dt = time.perf_counter() - t0
        assert n == ARRAY_BYTES
        del ref
        time.sleep(0.2)
        return ARRAY_BYTES / 1e9 / dt

    once()  # warm-up
    reps = [once() for _ in range(3)]
    report("cross-node put GB", statistics.median(reps), "GB/s")
    extra["cross-node put GB reps"] = [round(r, 4) for r in reps]


def cross_node_actor_calls():
    a = A.remote()
    ray.get(a.m.remote())
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 3:
        ray.get(a.m.remote())
        n += 1
    report("cross-node 1:1 actor calls sync", n / (time.perf_counter() - t0), "calls/s")
    ray.kill(a)


def placement_groups():
    def once():
        pg = placement_group([{"CPU": 0.001}])
        ray.get(pg.ready())
        remove_placement_group(pg)

    once()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 3:
        once()
        n += 1
    report("placement group create/removal", n / (time.perf_counter() - t0), "per s")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else ".bench/ray-cluster.json"
    ray.init(address=os.environ.get("RAY_ADDRESS", "auto"), log_to_driver=False)
    ctx = ray.get_runtime_context()
    head = ctx.get_node_id()
    nodes = [n for n in ray.nodes() if n["Alive"]]
    node2 = [n["NodeID"] for n in nodes if n["Resources"].get("node2")]
    assert len(nodes) == 2 and len(node2) == 1 and node2[0] != head, nodes
    # Sanity: the pinned tasks and actors really run on the second node, not the driver's.
    assert ray.get(node_of_task.remote()) == node2[0]
    addrs = {n["NodeID"][:8]: f'{n["NodeManagerAddress"]}:{n["ObjectManagerPort"]}' for n in nodes}
    extra["node addresses (raylet ip:object manager port)"] = addrs
    print(f"ray {ray.__version__}; driver on head {head[:8]}, pinned work on {node2[0][:8]}; "
          f"nodes {addrs}", flush=True)

    cross_node_tasks()
    cross_node_get()
    cross_node_put()
    cross_node_actor_calls()
    placement_groups()

    doc = {
        "cases": results,
        "extra": extra,
        "ray_version": ray.__version__,
        "nodes": 2,
        "note": "2 Ray nodes on one host (head: driver; node2: pinned work), 1 CPU each, "
        "2 GiB object store each; 256 MiB arrays for get/put",
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    ray.shutdown()


if __name__ == "__main__":
    main()
