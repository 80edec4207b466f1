#!/usr/bin/env bash
# A Python venv with pyarrow and DuckDB, for the test that reads Parquet files written by other
# tools and checks what ray-ts writes back with pyarrow (packages/data/test/parquet-interop.test.ts).
# Made once (about 15 s); prints the venv's python. The venv lives in $RAY_TS_PYARROW_VENV
# (default ~/.cache/ray-ts-pyarrow-venv).
set -euo pipefail
exec bash "$(dirname "$0")/python-venv.sh" "${RAY_TS_PYARROW_VENV:-$HOME/.cache/ray-ts-pyarrow-venv}" \
  'import pyarrow, pyarrow.parquet, duckdb' pyarrow duckdb
