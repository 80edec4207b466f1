#!/usr/bin/env bash
# A Python venv with TensorBoard, for the test that reads Tune's event files with TensorBoard's
# own reader (packages/tune/test/tensorboard.test.ts). Made once (about a minute); prints the
# venv's python. The venv lives in $RAY_TS_TENSORBOARD_VENV (default ~/.cache/ray-ts-tensorboard-venv).
set -euo pipefail
exec bash "$(dirname "$0")/python-venv.sh" "${RAY_TS_TENSORBOARD_VENV:-$HOME/.cache/ray-ts-tensorboard-venv}" \
  'from tensorboard.backend.event_processing import event_accumulator; from tensorboard.plugins.hparams import plugin_data_pb2' \
  tensorboard
