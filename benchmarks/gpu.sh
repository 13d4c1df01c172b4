#!/usr/bin/env bash
# The GPU half of the test suite and the CUDA benchmarks, as run on a lent GPU machine through
# the `device` tool (see benchmarks/RESULTS.md): builds the package's kernels (the CUDA ones
# with nvcc), runs the CUDA tests, then benchmarks/gpu_sweep.py.  Python packages the machine
# lacks can travel as wheels in .whl/ (it has no registry).  Logs and JSON go to $OUT
# (default: ./gpu-out).
set -uo pipefail
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1
export TORCH_BRIDGE_BUILD_DIR=${TORCH_BRIDGE_BUILD_DIR:-/tmp/torch_bridge_build}
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  nproc
  nvcc --version | tail -2
  python3 -c 'import torch, triton, sympy; print("torch", torch.__version__, "triton", triton.__version__, "sympy", sympy.__version__)'
} 2>&1 | tee "$OUT/env.txt"
if [[ ${1:-all} == variants ]]; then
  # the CUDA kernels as the package builds them, and variants of their nvcc flags (fused
  # multiply-adds allowed; one element per thread), compiled in parallel; then the CUDA
  # kernel tests, each build's speed and agreement with the CPU path, and the sweep's
  # float32 forward+backward and bfloat16 rows
  py='import sys; sys.path.insert(0, "torch_bridge"); import build'
  ( time python3 -c "$py; print(build.build_cuda())" ) > "$OUT/build.log" 2>&1 &
  b0=$!
  for v in "fma:-fmad=true" "fma_items1:-fmad=true -DTORCH_BRIDGE_CUDA_ITEMS=1"; do
    label=${v%%:*}; flags=${v#*:}
    python3 -c "$py
from pathlib import Path
cmd = build._cuda_command(build._nvcc(), build._cuda_arches(), build.CUDA_SOURCE, Path('/tmp/$label.so'))
cmd = [c for c in cmd if c != '-fmad=false'] + '$flags'.split()
import subprocess; r = subprocess.run(cmd, capture_output=True, text=True); print('$label', r.returncode, r.stderr[-300:])" \
      > "$OUT/build_$label.log" 2>&1 &
  done
  wait; tail -3 "$OUT"/build*.log
  timeout 60 python3 -m pytest -q -p no:cacheprovider tests/test_cuda_kernel.py \
      > "$OUT/tests_cuda_kernel.log" 2>&1
  echo "cuda kernel tests rc=$?"; tail -8 "$OUT/tests_cuda_kernel.log"
  lib=$(python3 -c "$py; print(build.cuda_library_path())")
  for v in "default:$lib" "fma:/tmp/fma.so" "fma_items1:/tmp/fma_items1.so"; do
    TORCH_BRIDGE_CUDA_KERNEL=0 timeout 40 python3 -W ignore benchmarks/gpu_variants.py \
        --lib "${v#*:}" --label "${v%%:*}" >> "$OUT/variants.jsonl" 2> "$OUT/variants_${v%%:*}.err"
    echo "variant ${v%%:*} rc=$?"
  done
  timeout 70 python3 benchmarks/gpu_sweep.py --out "$OUT/gpu_sweep_bf16.jsonl" --budget 40 \
      --dtypes bfloat16 --modes fwd --sizes 16,24,26 --rounds 5 > "$OUT/gpu_sweep_bf16.log" 2>&1
  timeout 70 python3 benchmarks/gpu_sweep.py --out "$OUT/gpu_sweep_fb.jsonl" --budget 40 \
      --dtypes float32 --modes fwdbwd --sizes 24,26 --rounds 5 > "$OUT/gpu_sweep_fb.log" 2>&1
  tail -12 "$OUT"/gpu_sweep_*.log
  date -u
  exit 0
fi
# the kernels' build (CPU with g++, CUDA with nvcc), timed, while the Triton tests run
( time python3 torch_bridge/build.py ) > "$OUT/build.log" 2>&1 &
build=$!
timeout 100 python3 -m pytest -q -p no:cacheprovider tests/test_kernels_triton.py \
    > "$OUT/tests_triton.log" 2>&1
echo "triton tests rc=$?"; tail -3 "$OUT/tests_triton.log"
wait $build; echo "build rc=$?"; tail -5 "$OUT/build.log"
timeout 90 python3 -m pytest -q -p no:cacheprovider tests/test_cuda_kernel.py \
    > "$OUT/tests_cuda_kernel.log" 2>&1
echo "cuda kernel tests rc=$?"; tail -15 "$OUT/tests_cuda_kernel.log"
timeout 220 python3 benchmarks/gpu_sweep.py --out "$OUT/gpu_sweep.jsonl" --budget 170 \
    > "$OUT/gpu_sweep.log" 2>&1
echo "sweep rc=$?"; tail -40 "$OUT/gpu_sweep.log"
# first call in a fresh process (2^20 float32 elements): the CUDA kernels (built above) against
# the Triton kernels with an empty Triton cache (their first call compiles)
first='import sys, time, torch, torch_bridge as tb
x = torch.randn(1 << 20, device="cuda"); torch.cuda.synchronize()
f = getattr(tb, sys.argv[1])
t0 = time.perf_counter(); f(x); torch.cuda.synchronize(); t1 = time.perf_counter()
f(x); torch.cuda.synchronize(); t2 = time.perf_counter()
print(sys.argv[1], "first %.4f s, second %.6f s" % (t1 - t0, t2 - t1))'
for fam in gem sqish; do
  for k in 1 0; do
    echo -n "TORCH_BRIDGE_CUDA_KERNEL=$k "
    TORCH_BRIDGE_CUDA_KERNEL=$k TRITON_CACHE_DIR=$(mktemp -d) timeout 30 python3 -W ignore -c "$first" $fam 2>&1 | tail -1
  done
done | tee "$OUT/first_call.txt"
date -u
