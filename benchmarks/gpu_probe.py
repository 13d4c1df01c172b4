"""Where the time of torch_bridge's CUDA path goes (run on a GPU): each generated Triton
kernel launched directly at several BLOCK/num_warps settings against a Triton copy kernel
and torch.relu, and the full op (dispatch + autograd) against the kernel alone.

    python benchmarks/gpu_probe.py [--numel 67108864]
"""

from __future__ import annotations

import argparse

import torch
import triton
import triton.language as tl
from triton.testing import do_bench

import torch_bridge as tb
from torch_bridge import _kernels as K


@triton.jit
def _copy(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=m), mask=m)


def ms(fn) -> float:
    return do_bench(fn, warmup=25, rep=200, return_mode="median")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--numel", type=int, default=1 << 26)
    n = ap.parse_args().numel
    x = torch.randn(n, device="cuda")
    g = torch.randn(n, device="cuda")
    y = torch.empty_like(x)
    gx = torch.empty_like(x)
    a, b, c = (torch.full((1,), v, device="cuda") for v in (0.0, 1.0, 1.0))
    eps = torch.full((1,), 1e-4, device="cuda")
    gbytes = 2 * 4 * n / 1e9  # over ms: TB/s
    print(f"{torch.cuda.get_device_name()} numel {n}")
    print(f"torch.relu        {ms(lambda: torch.relu(x)):.4f} ms")
    print(f"y.copy_(x)        {ms(lambda: y.copy_(x)):.4f} ms")
    for block in (1024, 2048):
        for nw in (4, 8, 16):
            grid = (triton.cdiv(n, block),)
            part = torch.zeros((grid[0], 3), device="cuda")
            row = {
                "copy": lambda: _copy[grid](x, y, n, BLOCK=block, num_warps=nw),
                "gem1": lambda: K._gem_fwd[grid](x, y, n, N=1, BLOCK=block, num_warps=nw,
                                                 enable_fp_fusion=False),
                "gem1+fma": lambda: K._gem_fwd[grid](x, y, n, N=1, BLOCK=block, num_warps=nw),
                "egem1": lambda: K._e_gem_fwd[grid](x, y, eps, n, N=1, BLOCK=block,
                                                    num_warps=nw, enable_fp_fusion=False),
                "sqish": lambda: K._sqish_fwd[grid](x, y, a, b, c, n, BLOCK=block,
                                                    num_warps=nw, enable_fp_fusion=False),
                "gem1_bwd": lambda: K._gem_bwd[grid](g, x, gx, part, n, N=1, PARAMS_GRAD=False,
                                                     BLOCK=block, num_warps=nw,
                                                     enable_fp_fusion=False),
                "sqish_bwd_p": lambda: K._sqish_bwd[grid](g, x, gx, part, a, b, c, n,
                                                          PARAMS_GRAD=True, BLOCK=block,
                                                          num_warps=nw, enable_fp_fusion=False),
            }
            cells = []
            for name, fn in row.items():
                t = ms(fn)
                nbytes = gbytes * (1.5 if "bwd" in name else 1.0)
                cells.append(f"{name} {t:.4f}ms {nbytes / t:.2f}TB/s")
            print(f"BLOCK={block:5d} warps={nw}: " + " | ".join(cells))
    ta = torch.tensor(0.0, device="cuda", requires_grad=True)
    tbeta = torch.tensor(1.0, device="cuda", requires_grad=True)
    tg = torch.tensor(1.0, device="cuda", requires_grad=True)
    print(f"tb.gem(x, N=1)    {ms(lambda: tb.gem(x, N=1)):.4f} ms")
    print(f"tb.sqish(x, ...)  {ms(lambda: tb.sqish(x, a=ta, beta=tbeta, gamma=tg)):.4f} ms")
    small = torch.randn(1024, device="cuda")
    smallg = small.clone().requires_grad_()
    grid1 = (1,)
    naive = torch.compile(lambda v: torch.where(v > 0, v * v * v / (1 + v * v), 0.0))
    calls = {
        "torch.relu": lambda: torch.relu(small),
        "compile(naive gem)": lambda: naive(small),
        "raw _gem_fwd launch": lambda: K._gem_fwd[grid1](small, y, 1024, N=1, BLOCK=1024,
                                                        num_warps=8, enable_fp_fusion=False),
        "tb.gem no_grad": lambda: _no_grad(tb.gem, small),
        "tb.gem (x requires grad)": lambda: tb.gem(smallg, N=1),
        "tb.GEM module": lambda: module(smallg),
        "tb.sqish learnable": lambda: tb.sqish(smallg, a=ta, beta=tbeta, gamma=tg),
    }
    module = tb.GEM(N=1)
    for name, fn in calls.items():
        print(f"host time per call, {name}: {host_us(fn):.1f} us")


def _no_grad(fn, x):
    with torch.no_grad():
        return fn(x, N=1)


def host_us(fn, calls: int = 3000) -> float:
    """Host time per call of back-to-back calls on a tiny tensor (the launch overhead)."""
    import time

    for _ in range(50):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / calls * 1e6


if __name__ == "__main__":
    main()
