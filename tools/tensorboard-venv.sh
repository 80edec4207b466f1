#!/usr/bin/env bash
# A Python venv with TensorBoard, for the test that reads Tune's event files with TensorBoard's
# own reader (packages/tune/test/tensorboard.test.ts). Installs from this machine's pip
# configuration (its local wheel store), once; prints the venv's python.
#
#   tools/tensorboard-venv.sh        create the venv if needed (about a minute), print its python
#
# The venv lives in $RAY_TS_TENSORBOARD_VENV (default ~/.cache/ray-ts-tensorboard-venv).
set -euo pipefail
venv=${RAY_TS_TENSORBOARD_VENV:-$HOME/.cache/ray-ts-tensorboard-venv}
py=$venv/bin/python
check='from tensorboard.backend.event_processing import event_accumulator; from tensorboard.plugins.hparams import plugin_data_pb2'
if ! [[ -x $py ]] || ! "$py" -c "$check" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --retries 0 --timeout 5 tensorboard 2>&1 | grep -v -i 'retrying\|is ignored' >&2 || true
  "$py" -c "$check"
fi
echo "$py"
