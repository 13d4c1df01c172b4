"""One build of the CUDA kernels (``_cuda_kernels.cu`` compiled with given flags) on a GPU:
the forward and backward ops' time per call at 2^24 and 2^26 elements against relu and a
copy, and their float32 results against the CPU path (float64 arithmetic rounded once):
the largest difference in float32 ULPs and how many elements differ.  For comparing nvcc
flags (``-fmad``, elements per thread) in separate processes, each loading its own build.

    TORCH_BRIDGE_CUDA_KERNEL=0 PYTHONPATH=. python benchmarks/gpu_variants.py --lib LIB.so \\
        --label NAME >> variants.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

import torch_bridge as tb

CASES = {"gem": ((1,), ()), "e_gem": ((1,), (1e-4,)), "se_gem": ((1,), (1e-4,)),
         "sqish": ((), (0.0, 1.0, 1.0))}


def _per_call(fn, calls: int = 10, rounds: int = 5) -> float:
    fn()
    ts = []
    for _ in range(rounds):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - t0) / calls)
    return statistics.median(ts)


def _ulps(a: torch.Tensor, b: torch.Tensor) -> tuple[float, int]:
    """(largest |a - b| in float32 ULPs of b, number of elements that differ) over the
    elements where both are finite; a NaN/inf pattern that differs counts as inf."""
    a, b = a.cpu().double(), b.cpu().double()
    if not (torch.equal(a.isnan(), b.isnan()) and torch.equal(a.isinf(), b.isinf())):
        return float("inf"), -1
    fin = b.isfinite()
    a, b = a[fin], b[fin]
    ulp = torch.ldexp(torch.ones_like(b), torch.frexp(b.float()).exponent.double() - 24)
    ulp = ulp.clamp_min(2.0**-149)
    d = (a - b).abs() / ulp
    return float(d.max()) if d.numel() else 0.0, int((a != b).sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--label", required=True)
    a = ap.parse_args()
    torch.ops.load_library(a.lib)
    ns = torch.ops.torch_bridge_cuda
    gen = torch.Generator().manual_seed(1)
    xs = (torch.randn(1 << 20, generator=gen, dtype=torch.float64) * 6).float()
    gs = torch.randn(1 << 20, generator=gen).float()
    for name, (ints, reals) in CASES.items():
        fwd, bwd = getattr(ns, f"{name}_fwd").default, getattr(ns, f"{name}_bwd").default
        params = [torch.tensor(v, dtype=torch.float64) for v in reals]
        with torch.no_grad():
            want = getattr(torch.ops.torch_bridge, f"{name}_fwd")(xs, *ints, *params)
            wantg = getattr(torch.ops.torch_bridge, f"{name}_bwd")(gs, xs, *ints, *params, False)
        wantg = wantg[0] if isinstance(wantg, (tuple, list)) else wantg
        got = fwd(xs.cuda(), *ints, *reals)
        gotg = bwd(gs.cuda(), xs.cuda(), *ints, *reals, False)[0]
        rec = {"label": a.label, "case": name, "f_ulp_diff": _ulps(got, want),
               "dx_ulp_diff": _ulps(gotg, wantg)}
        for dtype in (torch.float32, torch.bfloat16):
            for size in (24, 26):
                x = torch.randn(1 << size, device="cuda").to(dtype)
                g = torch.randn(1 << size, device="cuda").to(dtype)
                y = torch.empty_like(x)
                key = f"{str(dtype)[6:]} 2^{size}"
                relu = _per_call(lambda: torch.relu(x))
                rec[key] = {"relu_us": relu * 1e6,
                            "copy": _per_call(lambda: y.copy_(x)) / relu,
                            "fwd": _per_call(lambda: fwd(x, *ints, *reals)) / relu,
                            "bwd": _per_call(lambda: bwd(g, x, *ints, *reals, False)) / relu,
                            "bwd_sums": _per_call(lambda: bwd(g, x, *ints, *reals, True)) / relu}
                del x, g, y
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
