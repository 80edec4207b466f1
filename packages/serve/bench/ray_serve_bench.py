"""Ray Serve (Python) baseline for the ray-ts Serve benchmark: the same workloads as ray-ts-bench.mjs.

Run through the shared baseline wrapper (venv with Ray 2.58), alone on the machine:

    ../shared/tools/ray-baseline.sh python packages/serve/bench/ray_serve_bench.py \\
        [--duration 20] [--warmup 2] [--connections 16,64] [--only json1,json2,matmul] [--threads 2] [--cpus 2]

Workloads (names for --only):
    json1   Hello: returns {"hello": "world"}; 1 replica, max_ongoing_requests=100
    json2   the same with 2 replicas
    matmul  MatMul: @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.01); each item computes
            sum(A @ B) for fixed 256x256 float64 matrices with numpy; 2 replicas, max_ongoing_requests=32

Ray runs as a fresh local instance (ray.init(num_cpus=2)); Serve's proxy listens on a free port of
127.0.0.1. For each workload: serve.run(app, name="default", route_prefix="/"), one urllib request
checks the answer, then for each connection count wrk runs a warm-up (--warmup s) and the measured
run (`wrk -t2 -cN -dDs --timeout 10s --latency`), then serve.delete("default"). Prints one JSON
line per measurement on stdout:
    {"side": "ray", "name", "connections", "rps", "p50Ms", "p99Ms", "errors", "non2xx", "requests", "durationS"}
Everything else goes to stderr.
"""

import argparse
import json
import logging
import math
import re
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np

N = 256
MAX_BATCH_SIZE = 32
BATCH_WAIT_TIMEOUT_S = 0.01


def log(msg):
    print(f"[ray] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# wrk (the same parsing as wrk.mjs)

WRK_INSTALL = "apt-get update && apt-get install -y wrk"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def wrk_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def parse_wrk(text):
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not rps:
        raise RuntimeError(f"wrk printed no Requests/sec line:\n{text}")

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+(\S+)", text, re.M)
        return wrk_ms(m.group(1)) if m else None

    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = dict(zip(["connect", "read", "write", "timeout"], map(int, sock.groups()) if sock else [0] * 4))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    requests = re.search(r"^\s+(\d+) requests in ", text, re.M)
    return {
        "rps": float(rps.group(1)),
        "p50Ms": pct(50),
        "p99Ms": pct(99),
        "requests": int(requests.group(1)) if requests else None,
        "errors": sum(socket_errors.values()),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socketErrors": socket_errors,
    }


def run_wrk(url, connections, duration_s, threads=2, timeout_s=10):
    args = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration_s}s",
            "--timeout", f"{timeout_s}s", "--latency", url]
    r = subprocess.run(args, capture_output=True, text=True, timeout=duration_s + timeout_s + 30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed (exit {r.returncode}): {r.stderr}{r.stdout}")
    return parse_wrk(r.stdout), r.stdout


# ---------------------------------------------------------------------------------------------
# The matrices, the same as deployments.mjs: A[i,j] = ((31i + 17j) mod 97) / 97 - 0.5,
# B[i,j] = ((13i + 29j) mod 89) / 89 - 0.5.


def matrices():
    i, j = np.meshgrid(np.arange(N), np.arange(N), indexing="ij")
    return ((31 * i + 17 * j) % 97) / 97 - 0.5, ((13 * i + 29 * j) % 89) / 89 - 0.5


def expected_matmul_sum():
    """sum(A @ B) computed another way: sum over k of colsum(A)_k * rowsum(B)_k."""
    a, b = matrices()
    return float(np.dot(a.sum(axis=0), b.sum(axis=1)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def verify(url, check):
    """GETs url until it answers 200 with a body that passes check (up to 60 s); raises otherwise."""
    deadline = time.time() + 60
    last = "no answer"
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as res:
                text = res.read().decode()
                if res.status == 200 and check(json.loads(text)):
                    return text
                last = f"HTTP {res.status}: {text[:300]}"
                if res.status == 200:
                    break
        except Exception as err:  # noqa: BLE001 -- retried until the deadline, then reported
            last = repr(err)
        time.sleep(0.25)
    raise RuntimeError(f"the deployment at {url} did not answer as expected: {last}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--connections", default="16,64")
    p.add_argument("--only", default="json1,json2,matmul")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()

    if subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode != 0:
        print(f"wrk is not installed; run: {WRK_INSTALL}", file=sys.stderr)
        sys.exit(2)

    import ray
    from ray import serve

    @serve.deployment(name="Hello", num_replicas=1, max_ongoing_requests=100)
    class Hello:
        async def __call__(self, request):
            return {"hello": "world"}

    @serve.deployment(name="MatMul", num_replicas=2, max_ongoing_requests=32)
    class MatMul:
        def __init__(self):
            self.a, self.b = matrices()

        @serve.batch(max_batch_size=MAX_BATCH_SIZE, batch_wait_timeout_s=BATCH_WAIT_TIMEOUT_S)
        async def run(self, items):
            return [float((self.a @ self.b).sum()) for _ in items]

        async def __call__(self, request):
            return {"sum": await self.run(1)}

    expected_sum = expected_matmul_sum()
    workloads = {
        "json1": (lambda: Hello.options(num_replicas=1, max_ongoing_requests=100).bind(),
                  lambda body: body.get("hello") == "world"),
        "json2": (lambda: Hello.options(num_replicas=2, max_ongoing_requests=100).bind(),
                  lambda body: body.get("hello") == "world"),
        "matmul": (lambda: MatMul.options(num_replicas=2, max_ongoing_requests=32).bind(),
                   lambda body: math.isclose(body.get("sum"), expected_sum, rel_tol=1e-9, abs_tol=1e-9)),
    }
    names = args.only.split(",")
    for n in names:
        if n not in workloads:
            p.error(f"unknown workload {n!r}; choose from {', '.join(workloads)}")
    connection_counts = [int(c) for c in args.connections.split(",")]

    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}/"
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    failed = False
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        log(f"serve listening on {url}")
        for name in names:
            make_app, check = workloads[name]
            try:
                serve.run(make_app(), name="default", route_prefix="/")
                log(f"{name}: deployed; answer {verify(url, check)}")
                for connections in connection_counts:
                    if args.warmup > 0:
                        run_wrk(url, connections, args.warmup, args.threads)
                    figures, raw = run_wrk(url, connections, args.duration, args.threads)
                    log(f"{name} c={connections}:\n{raw}")
                    print(json.dumps({"side": "ray", "name": name, "connections": connections,
                                      "durationS": args.duration, **figures}), flush=True)
            except Exception as err:  # noqa: BLE001 -- reported, then the next workload runs
                log(f"{name} failed: {err!r}")
                failed = True
            finally:
                try:
                    serve.delete("default")
                except Exception as err:  # noqa: BLE001
                    log(f"serve.delete('default') failed: {err!r}")
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
