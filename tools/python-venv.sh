#!/usr/bin/env bash
# A Python venv with the given packages, installed once from this machine's pip configuration (its
# local wheel store), kept while CHECK still runs in it; prints the venv's python.
#
#   tools/python-venv.sh DIR 'CHECK' PACKAGE...
set -euo pipefail
venv=$1
check=$2
shift 2
py=$venv/bin/python
if ! [[ -x $py ]] || ! "$py" -c "$check" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --retries 0 --timeout 5 "$@" 2>&1 | grep -v -i 'retrying\|is ignored' >&2 || true
  "$py" -c "$check"
fi
echo "$py"
