"""Ray (Python) side of tools/multi-host-bench.mjs: the driver on host C (a network namespace
of its own, with a Ray node of 0 CPUs there: a Ray driver attaches to a raylet on its machine),
the head on host A, the work pinned to the node on host B by its custom resource "hostB".
Same cases and plan as tools/multi-host-bench-driver.mjs.

    ray-multi-host-bench.py '{"address", "nodeIp", "plan": {...}}' OUT.json
"""
import json
import statistics
import sys
import time

import numpy as np
import ray

cfg = json.loads(sys.argv[1])
out_file = sys.argv[2]
plan = cfg["plan"]
ON_B = {"resources": {"hostB": 0.001}}
cases = {}
info = {}


def report(key, value, unit, **extra):
    cases[key] = {"value": value, "unit": unit, **extra}
    print(f"  Ray {key}: {value:.4g} {unit}", flush=True)


@ray.remote(num_cpus=1, **ON_B)
def noop():
    return 1


@ray.remote(num_cpus=1, **ON_B)
def make_array(n):
    return np.ones(n, dtype=np.uint8)


@ray.remote(num_cpus=1, **ON_B)
def nbytes(a):
    return a.nbytes


@ray.remote(num_cpus=1, **ON_B)
def where_am_i():
    return ray.get_runtime_context().get_node_id()


@ray.remote(num_cpus=0, **ON_B)
class Pinger:
    def ping(self):
        return None

    def node(self):
        return ray.get_runtime_context().get_node_id()


def tasks():
    ray.get([noop.remote() for _ in range(min(1000, plan["taskBatch"]))])  # warm-up
    n, t0 = 0, time.perf_counter()
    while True:
        ray.get([noop.remote() for _ in range(plan["taskBatch"])])
        n += plan["taskBatch"]
        if time.perf_counter() - t0 >= plan["taskSeconds"]:
            break
    report("tasks", n / (time.perf_counter() - t0), "tasks/s")


def actor_calls(node_b):
    a = Pinger.remote()
    where = ray.get(a.node.remote())
    assert where == node_b, f"the actor runs on {where}, not on host B's node {node_b}"
    n, t0 = 0, time.perf_counter()
    while True:
        ray.get(a.ping.remote())
        n += 1
        if time.perf_counter() - t0 >= plan["actorSeconds"]:
            break
    report("actor calls serial", n / (time.perf_counter() - t0), "calls/s")
    w = plan["window"]
    ray.get([a.ping.remote() for _ in range(w)])
    n, t0 = 0, time.perf_counter()
    while True:
        ray.get([a.ping.remote() for _ in range(w)])
        n += w
        if time.perf_counter() - t0 >= plan["actorSeconds"]:
            break
    report("actor calls pipelined", n / (time.perf_counter() - t0), "calls/s")
    ray.kill(a)


def put_there():
    size = plan["objectBytes"]
    arr = np.full(size, 2, dtype=np.uint8)
    reps = []
    for i in range(plan["objectReps"] + 1):
        t0 = time.perf_counter()
        ref = ray.put(arr)
        n = ray.get(nbytes.remote(ref))
        dt = time.perf_counter() - t0
        assert n == size, f"the task on B read {n} bytes, not {size}"
        del ref
        if i > 0:  # the first is a warm-up
            reps.append(size / 1e9 / dt)
    report("put here, read on B", statistics.median(reps), "GB/s", reps=reps)


def get_here():
    size = plan["objectBytes"]
    reps = []
    for i in range(plan["objectReps"] + 1):
        ref = make_array.remote(size)
        ray.wait([ref], fetch_local=False)  # made on B, not pulled here yet
        t0 = time.perf_counter()
        a = ray.get(ref)
        dt = time.perf_counter() - t0
        assert a.nbytes == size and a[-1] == 1, "the array made on B arrived wrong"
        del a, ref
        if i > 0:
            reps.append(size / 1e9 / dt)
    report("made on B, get here", statistics.median(reps), "GB/s", reps=reps)


def main():
    t0 = time.perf_counter()
    ray.init(address=cfg["address"], _node_ip_address=cfg["nodeIp"], log_to_driver=False)
    info["initSeconds"] = time.perf_counter() - t0
    try:
        ctx = ray.get_runtime_context()
        info["driverNodeId"] = ctx.get_node_id()
        alive = [n for n in ray.nodes() if n["Alive"]]
        info["nodes"] = [
            {"nodeId": n["NodeID"], "address": f'{n["NodeManagerAddress"]}:{n["NodeManagerPort"]}',
             "isHead": n["NodeManagerAddress"] == cfg["address"].split(":")[0]}
            for n in alive
        ]
        node_b = [n["NodeID"] for n in alive if n["Resources"].get("hostB")]
        assert len(alive) == 3 and len(node_b) == 1, alive
        assert ray.get(where_am_i.remote()) == node_b[0], "a pinned task ran off host B"
        tasks()
        actor_calls(node_b[0])
        put_there()
        get_here()
    finally:
        info["rayVersion"] = ray.__version__
        with open(out_file, "w") as fh:
            json.dump({"cases": cases, "info": info}, fh, indent=2)
            fh.write("\n")
        ray.shutdown()


if __name__ == "__main__":
    main()
