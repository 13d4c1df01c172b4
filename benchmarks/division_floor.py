"""What one element of a rational activation costs at least on this CPU, in cache.

    python benchmarks/division_floor.py [--numel 16384] [--reps 2000]

Compiles (with the flags of ``torch_bridge/build.py``: ``-O3``, ``-ffp-contract=off``,
``-fno-math-errno``, ``-fno-trapping-math`` and the instruction sets it adds here) and
runs loops over float32 arrays that stay in cache: ``relu``; x^3 (x^2 + 1) in double
(the float32 -> double -> float32 conversions and four multiplications, no division);
x^3/(x^2 + 1) in double (GEM N=1's narrow body, one division per element, as the fused
kernel evaluates float32 inputs) and the same in float32.  Prints nanoseconds per element
(best of 7 batches) and the ratio to ``relu``: a kernel cannot be faster than its
divisions, so the "within 2x of relu" target of a rational activation needs its division
below that line.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

SOURCE = r"""
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#define LOOP(name, body)                                                          \
  __attribute__((noinline)) void name(const float* __restrict xp,                \
                                      float* __restrict yp, long n) {            \
    _Pragma("omp simd") for (long i = 0; i < n; ++i) { body }                    \
  }

LOOP(relu, { const float v = xp[i]; yp[i] = v > 0 ? v : 0.0f; })
LOOP(mul64, { const double v = xp[i]; const double t = v * v;
              yp[i] = static_cast<float>(v < 0 ? 0.0 : (t * v) * (t + 1.0)); })
LOOP(div64, { const double v = xp[i]; const double t = v * v;
              yp[i] = static_cast<float>(v < 0 ? 0.0 : (t * v) / (t + 1.0)); })
LOOP(div32, { const float v = xp[i]; const float t = v * v;
              yp[i] = v < 0 ? 0.0f : (t * v) / (t + 1.0f); })

template <class F>
double best_ns(F f, const float* x, float* y, long n, int reps) {
  double best = 1e30;
  for (int r = 0; r < 7; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < reps; ++k) f(x, y, n);
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count() / reps / n * 1e9);
  }
  return best;
}

int main(int argc, char** argv) {
  const long n = std::atol(argv[1]);
  const int reps = std::atoi(argv[2]);
  std::vector<float> x(n), y(n);
  std::mt19937 g(1);
  std::normal_distribution<float> d;
  for (auto& v : x) v = d(g);
  const double r = best_ns(relu, x.data(), y.data(), n, reps);
  std::printf("relu %.3f\n", r);
  std::printf("mul64 %.3f\n", best_ns(mul64, x.data(), y.data(), n, reps));
  std::printf("div64 %.3f\n", best_ns(div64, x.data(), y.data(), n, reps));
  std::printf("div32 %.3f\n", best_ns(div32, x.data(), y.data(), n, reps));
  return 0;
}
"""

WHAT = {"relu": "relu (float32)", "mul64": "x^3 (x^2 + 1), double, no division",
        "div64": "x^3/(x^2 + 1), double (the kernel's GEM N=1)",
        "div32": "x^3/(x^2 + 1), float32"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--numel", type=int, default=1 << 14)
    ap.add_argument("--reps", type=int, default=2000)
    args = ap.parse_args(argv)

    import importlib.util

    spec = importlib.util.spec_from_file_location("tb_build", ROOT / "torch_bridge" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    cxx = shlex.split(os.environ.get("CXX", "c++"))
    flags = [f for f in build.FLAGS if f not in ("-shared", "-fPIC")] + list(build._isa_flags())
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "floor.cpp", Path(tmp) / "floor"
        src.write_text(SOURCE)
        subprocess.run([*cxx, *flags, str(src), "-o", str(exe)], check=True)
        out = subprocess.run([str(exe), str(args.numel), str(args.reps)], check=True,
                             capture_output=True, text=True).stdout
    ns = {k: float(v) for k, v in (line.split() for line in out.splitlines())}
    print(f"{args.numel} float32 elements in cache, flags: {' '.join(flags)}")
    print("| loop | ns per element | x relu |")
    print("|---|---|---|")
    for k, v in ns.items():
        print(f"| {WHAT[k]} | {v:.3f} | {v / ns['relu']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
