#!/usr/bin/env bash
# Resolution only: shows that gemsym's package metadata (with its torch and test extras)
# resolves beside torch 2.5 and 2.6, which pin sympy==1.13.1. pip reads the wheels' metadata
# and installs nothing (--dry-run); no Makefile constraints are applied. fast-deps reads each
# wheel's metadata by HTTP range requests, so no torch or CUDA wheel is downloaded whole
# (an index that serves no separate metadata file would otherwise make pip fetch ~1 GB).
# Usage: benchmarks/resolve_check.sh [TORCH_VERSION...]   (default: 2.5.1 2.6.0)
# Exit status 0 when every version resolves; pip's own error otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A current pip in a throwaway venv: older ones (23.x) download every wheel even in --dry-run.
"${PYTHON:-python3}" -m venv "$work/venv"
python=$work/venv/bin/python
"$python" -m pip install --quiet --disable-pip-version-check --upgrade 'pip>=26'
[ $# -gt 0 ] || set -- 2.5.1 2.6.0
for torch in "$@"; do
  "$python" -m pip install --dry-run --ignore-installed --quiet --disable-pip-version-check \
    --use-feature=fast-deps --report "$work/report.json" "$root[torch,test]" "torch==$torch"
  "$python" - "$work/report.json" "$torch" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
got = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in report["install"]}
names = ("gemsym", "torch", "sympy", "mpmath", "triton")
print(f"torch=={sys.argv[2]}: resolves with " + ", ".join(f"{n} {got[n]}" for n in names if n in got)
      + f" ({len(got)} distributions)")
PY
done
