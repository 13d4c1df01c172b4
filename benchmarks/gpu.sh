#!/usr/bin/env bash
# The GPU half of the test suite and the CUDA benchmark, as run on a lent H100 through the
# `device` tool (see benchmarks/RESULTS.md). Expects wheels of sympy 1.14 and mpmath in .whl/
# (the machine has no registry) and writes its logs and JSON to $OUT (default: ./gpu-out).
set -uo pipefail
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
GEMSYM=(python3 -c 'import sys; from gemsym.cli import main; sys.exit(main(sys.argv[1:]))')
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c 'import torch, triton, sympy; print("torch", torch.__version__, "triton", triton.__version__, "sympy", sympy.__version__)'
} 2>&1 | tee "$OUT/env.txt"
stage=${1:-all}
if [[ $stage == kernels ]]; then
  timeout 200 python3 -m pytest -q -p no:cacheprovider tests/test_kernels_triton.py \
      2>&1 | tee "$OUT/tests_kernels.log" | tail -15
fi
if [[ $stage == all || $stage == tests ]]; then
  timeout 420 python3 -m pytest -q -p no:cacheprovider \
      tests/test_kernels_triton.py tests/test_torch_bridge.py tests/test_numerics.py tests/test_bench.py \
      2>&1 | tee "$OUT/tests.log" | tail -40
fi
if [[ $stage == all || $stage == bench || $stage == kernels ]]; then
  for dt in float32 bfloat16; do
    timeout 280 "${GEMSYM[@]}" bench --device cuda --dtype "$dt" --json > "$OUT/results_cuda_$dt.json" \
        2> "$OUT/bench_$dt.err"; echo "bench $dt rc=$?"; tail -3 "$OUT/bench_$dt.err"
  done
fi
