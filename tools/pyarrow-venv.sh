#!/usr/bin/env bash
# A Python venv with pyarrow and DuckDB, for the test that reads Parquet files written by other
# tools and checks what ray-ts writes back with pyarrow (packages/data/test/parquet-interop.test.ts).
# Installs from this machine's pip configuration (its local wheel store), once; prints the venv's python.
#
#   tools/pyarrow-venv.sh        create the venv if needed (about 15 s), print its python
#
# The venv lives in $RAY_TS_PYARROW_VENV (default ~/.cache/ray-ts-pyarrow-venv).
set -euo pipefail
venv=${RAY_TS_PYARROW_VENV:-$HOME/.cache/ray-ts-pyarrow-venv}
py=$venv/bin/python
check='import pyarrow, pyarrow.parquet, duckdb'
if ! [[ -x $py ]] || ! "$py" -c "$check" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --retries 0 --timeout 5 pyarrow duckdb 2>&1 | grep -v -i 'retrying\|is ignored' >&2 || true
  "$py" -c "$check"
fi
echo "$py"
