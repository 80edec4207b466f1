#!/usr/bin/env bash
# Ray (Python) cross-node baseline: a 2-node Ray cluster on this one machine
# (head + a second node with the custom resource "node2"), then tools/ray-cluster-bench.py
# with the driver on the head and the work pinned to node 2.
#
#   ray-cluster-baseline.sh [OUT.json]    default .bench/ray-cluster.json
#
# Uses the venv of /work/shared/tools/ray-baseline.sh (set up on demand). Ray (2.58) takes a
# second node on the same host with the plain `ray start --address=...`: no distinct IP,
# ports or temp dir needed (it is how ray.cluster_utils.Cluster runs multi-node tests; the
# raylet, object manager and agent ports are picked at random, the session dir is shared).
# Both raylets register under the host's IP (Ray rewrites 127.0.0.1 to it), and the driver
# attaches to the head node, which Ray prefers when several nodes share an IP. Transfers
# between the nodes still go object manager to object manager over gRPC, as across hosts.
# Run it alone on the machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-.bench/ray-cluster.json}
mkdir -p "$(dirname "$out")"
venv=${RAY_BASELINE_VENV:-$HOME/.cache/ray-baseline/venv}
py=$venv/bin/python
ray=$venv/bin/ray
if ! [[ -x $py ]] || ! "$py" -c 'import ray, numpy' 2>/dev/null; then
  baseline=$here/ray-baseline.sh
  [[ -f $baseline ]] || baseline=/work/shared/tools/ray-baseline.sh
  bash "$baseline" setup >/dev/null
fi

unset RAY_ADDRESS
export RAY_USAGE_STATS_ENABLED=0
store=$((2 * 1024 * 1024 * 1024))   # 2 GiB object store per node

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)

cleanup() { "$ray" stop --force >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

head_cmd=("$ray" start --head --port="$port" --num-cpus=1
  --object-store-memory="$store" --include-dashboard=false --disable-usage-stats)
node2_cmd=("$ray" start --address="127.0.0.1:$port" --num-cpus=1
  --resources='{"node2": 1}' --object-store-memory="$store")
echo "+ ${head_cmd[*]}" >&2
"${head_cmd[@]}" >&2
echo "+ ${node2_cmd[*]}" >&2
"${node2_cmd[@]}" >&2

RAY_ADDRESS="127.0.0.1:$port" "$py" "$here/ray-cluster-bench.py" "$out"
echo "wrote $out" >&2
