"""Host cost of one eager CPU call on a small input, and the first call in a fresh process.

    PYTHONPATH=. python benchmarks/eager_overhead.py [--numel 1024] [--rounds 15] [--backward]
                                                     [--no-binding] [--first-call]

Per-call time (median and 20th-80th percentiles over interleaved rounds of batches of
calls, the process's CPU time, one thread) of ``torch.relu``, ``F.silu``, a minimal
``torch.library`` op (``define`` + ``impl`` of a Python kernel that calls ``torch.relu``),
``torch.library.custom_op`` doing the same, the naive GEM formula
``where(x > 0, x**3/(x**2+1), 0)``, and the generated ``torch_bridge`` functions (float32,
no_grad).  ``--backward`` adds forward+backward of relu, SiLU and the ``torch_bridge``
functions (an input that requires grad, ``torch.autograd.grad`` of the output with a fixed
gradient).  ``--no-binding`` adds each ``torch_bridge`` case again with the C++ kernels'
direct binding off (the registered op, as a build without it runs).  ``--first-call``: for each family and dtype, a fresh Python process imports
torch_bridge and times its first call on 2^20 elements against its second (a compiling
first call would stand out by seconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

_FIRST = """
import sys, time, torch
torch.set_num_threads(1)
import torch_bridge as tb
x = torch.randn(1 << 20).to(getattr(torch, sys.argv[2]))
f = getattr(tb, sys.argv[1])
t0 = time.perf_counter(); f(x); t1 = time.perf_counter(); f(x); t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _minimal_ops(torch):
    lib = torch.library.Library("eager_overhead_probe", "DEF")
    torch.library.define("eager_overhead_probe::relu", "(Tensor x) -> Tensor", lib=lib)
    torch.library.impl("eager_overhead_probe::relu", "cpu", lambda x: torch.relu(x), lib=lib)

    def relu_custom(x):
        return torch.relu(x)

    # the schema given: this module's string annotations could not be resolved
    relu_custom = torch.library.custom_op("eager_overhead_probe::relu_custom", relu_custom,
                                          mutates_args=(), schema="(Tensor x) -> Tensor")

    return lib, torch.ops.eager_overhead_probe.relu.default, relu_custom


def _backward_cases(torch, tb, numel: int) -> dict:
    """Forward+backward of one call: d/dx of f(x) against a fixed gradient."""
    import torch.nn.functional as F

    xg = torch.randn(numel, requires_grad=True)
    g = torch.randn(numel)
    fns = {"torch.relu": torch.relu, "F.silu": F.silu, "tb.gem(N=1)": lambda v: tb.gem(v, N=1),
           "tb.e_gem(N=1, eps=1e-4)": lambda v: tb.e_gem(v, N=1, eps=1e-4),
           "tb.se_gem(N=1, eps=1e-4)": lambda v: tb.se_gem(v, N=1, eps=1e-4),
           "tb.sqish()": tb.sqish}
    grad = torch.autograd.grad

    def batched(f):
        def batch(n: int = 1) -> None:
            for _ in range(n):
                grad(f(xg), xg, g)
        return batch

    return {f"{k} fwd+bwd": batched(f) for k, f in fns.items()}


def per_call(numel: int, rounds: int, backward: bool = False,
             no_binding: bool = False) -> dict[str, list[float]]:
    """Seconds per call of every case, one value per round; ``no_binding`` adds each
    torch_bridge case again with the kernels' direct binding off (the registered op and
    the family's autograd.Function, as a build without the binding runs)."""
    import torch
    import torch.nn.functional as F

    import torch_bridge as tb

    torch.set_num_threads(1)
    lib, op, custom = _minimal_ops(torch)
    x = torch.randn(numel)
    cases = {
        "torch.relu": lambda: torch.relu(x),
        "F.silu": lambda: F.silu(x),
        "torch.library define/impl": lambda: op(x),
        "torch.library.custom_op": lambda: custom(x),
        "naive GEM": lambda: torch.where(x > 0, x**3 / (x**2 + 1), 0.0),
        "tb.gem(N=1)": lambda: tb.gem(x, N=1),
        "tb.e_gem(N=1, eps=1e-4)": lambda: tb.e_gem(x, N=1, eps=1e-4),
        "tb.se_gem(N=1, eps=1e-4)": lambda: tb.se_gem(x, N=1, eps=1e-4),
        "tb.sqish()": lambda: tb.sqish(x),
    }
    # no_grad for the forward cases only: the backward cases need the graph
    no_grad = {k: _no_grad(torch, f) for k, f in cases.items()}
    if backward:
        no_grad.update(_backward_cases(torch, tb, numel))
    if no_binding:
        no_grad.update({f"{k}, no binding": _without_binding(tb, f)
                        for k, f in list(no_grad.items()) if k.startswith("tb.")})
    times: dict[str, list[float]] = {k: [] for k in no_grad}
    for f in no_grad.values():
        f()
    for _ in range(rounds):  # interleaved: each case once per round
        for k, f in no_grad.items():
            n = 200
            t0 = time.process_time()
            f(n)
            times[k].append((time.process_time() - t0) / n)
    del lib
    return times


def _without_binding(tb, batch):
    def off(n: int = 1) -> None:
        kernel = tb._cpu_kernel
        saved = getattr(kernel, "_DIRECT", {}), getattr(kernel, "_GRAD", {})
        kernel._DIRECT, kernel._GRAD = {}, {}
        try:
            batch(n)
        finally:
            kernel._DIRECT, kernel._GRAD = saved
    return off


def _no_grad(torch, f):
    def batch(n: int = 1) -> None:
        with torch.no_grad():
            for _ in range(n):
                f()
    return batch


def _spread(v: list[float]) -> tuple[float, float, float]:
    """(median, 20th percentile, 80th percentile)."""
    q = statistics.quantiles(v, n=5, method="inclusive") if len(v) > 1 else [v[0]] * 4
    return statistics.median(v), q[0], q[3]


def first_calls() -> list[tuple[str, str, float, float]]:
    out = []
    for fam in ("gem", "e_gem", "se_gem", "sqish"):
        for dtype in ("float32", "bfloat16"):
            proc = subprocess.run([sys.executable, "-c", _FIRST, fam, dtype], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600,
                                  env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
            if proc.returncode != 0:
                raise RuntimeError(f"{fam} {dtype}: {proc.stderr.strip().splitlines()[-1]}")
            first, second = map(float, proc.stdout.split())
            out.append((fam, dtype, first, second))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numel", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--backward", action="store_true", help="add forward+backward cases")
    ap.add_argument("--no-binding", action="store_true",
                    help="add the torch_bridge cases with the direct binding off")
    ap.add_argument("--first-call", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    times = per_call(args.numel, args.rounds, args.backward, args.no_binding)
    first = first_calls() if args.first_call else []
    if args.json:
        print(json.dumps({"per_call_s": {k: _spread(v)[0] for k, v in times.items()},
                          "rounds_s": times, "first_call_s": first}, indent=1))
        return 0
    relu = _spread(times["torch.relu"])[0]
    print(f"per eager call, {args.numel} float32 elements, 1 thread, CPU time, median and "
          f"20th-80th percentiles of {args.rounds} interleaved rounds")
    print("| call | us per call | p20-p80 | x torch.relu |\n|---|---|---|---|")
    for k, v in times.items():
        med, lo, hi = _spread(v)
        print(f"| {k} | {med * 1e6:.1f} | {lo * 1e6:.1f}-{hi * 1e6:.1f} | {med / relu:.1f} |")
    if first:
        print("\nfirst call in a fresh process, 2^20 elements (wall seconds)")
        print("| family | dtype | first call | second call |\n|---|---|---|---|")
        for fam, dt, a, b in first:
            print(f"| {fam} | {dt} | {a:.3f} | {b:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
