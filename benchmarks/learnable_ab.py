"""A learnable module's forward+backward: the module's call against the op path it replaces
and the naive formula, per size.

    PYTHONPATH=. python benchmarks/learnable_ab.py [--sizes 10,12,14,16,18,20]
        [--rounds 9] [--dtype float32] [--plain] [--json FILE]

For Sqish (learnable a, beta, gamma, at 0, 1, 1) and E-GEM and SE-GEM (N = 1, learnable eps
at 1e-4), ``torch.autograd.grad(f(x), (x, *parameters), g)`` is timed in interleaved rounds
(the process's CPU time, one thread, batches of about 20 ms), and with ``--step`` each call
followed by a training step's write to the parameters (``p.add_(1e-7)`` under no_grad, in
every variant), for:

- ``module``: the module's call (``_module._Learned`` where it applies);
- ``op path``: the module's parameters through ``constrain``'s recorded ops and the family's
  ``autograd.Function`` (``_runtime.run(..., *module._args(x))``, the module's call before
  ``_Learned``), in the same process and build;
- ``naive``: Sqish's defining formula with a, beta and gamma as leaf tensors
  (``gemsym.bench.cases.naive_forward``; no reparametrisation).

The table gives each median over the naive formula's (Sqish) or the op path's (E-GEM,
SE-GEM).  ``--plain``: the C++ kernels off (``TORCH_BRIDGE_CPU_KERNEL=0``), the PyTorch
path a machine without a compiler runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


def _timed(fn, reps: int) -> float:
    t0 = time.process_time()
    for _ in range(reps):
        fn()
    return (time.process_time() - t0) / reps


def _exponents(text: str) -> list[int]:
    try:
        ks = [int(t) for t in text.split(",")]
    except ValueError:
        ks = []
    if not ks or any(not 0 <= k <= 30 for k in ks):
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated integers 0..30 (got {text!r})")
    return ks


def _stepped(fn, params, torch):
    def step():
        out = fn()
        with torch.no_grad():
            for p in params:
                p.add_(1e-7)
        return out
    return step


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,12,14,16,18,20", type=_exponents,
                    help="comma-separated exponents k of 2^k elements, 0..30")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--plain", action="store_true", help="the C++ kernels off")
    ap.add_argument("--step", action="store_true",
                    help="write the parameters after each call (new values every call)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.plain:
        os.environ["TORCH_BRIDGE_CPU_KERNEL"] = "0"
    import torch

    import torch_bridge as tb
    from gemsym.bench.cases import naive_forward
    from torch_bridge import _runtime

    torch.set_num_threads(1)
    dtype = getattr(torch, args.dtype)
    cases = [("sqish", tb.Sqish(learnable=True)),
             ("e-gem", tb.EGEM(N=1, eps=1e-4, learnable=True)),
             ("se-gem", tb.SEGEM(N=1, eps=1e-4, learnable=True))]
    naive, naive_params = naive_forward("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0,
                                                  "learnable": True}, "cpu")
    rows = []
    for k in args.sizes:
        gen = torch.Generator().manual_seed(k)
        x = (torch.randn(2 ** k, generator=gen) * 3).to(dtype).requires_grad_()
        g = torch.randn(2 ** k, generator=gen).to(dtype)
        for name, m in cases:
            params = tuple(m.parameters())
            fns = {
                "module": lambda m=m, p=params: torch.autograd.grad(m(x), (x, *p), g),
                "op path": lambda m=m, p=params: torch.autograd.grad(
                    _runtime.run(m._lib, m._family, x, *m._args(x)), (x, *p), g),
            }
            if name == "sqish":
                fns["naive"] = lambda: torch.autograd.grad(naive(x), (x, *naive_params), g)
            if args.step:
                fns = {n: _stepped(fn, params if n != "naive" else naive_params, torch)
                       for n, fn in fns.items()}
            for fn in fns.values():
                fn()
            reps = {n: max(1, int(0.02 / max(_timed(fn, 1), 1e-6))) for n, fn in fns.items()}
            times: dict[str, list[float]] = {n: [] for n in fns}
            for _ in range(args.rounds):
                for n, fn in fns.items():
                    times[n].append(_timed(fn, reps[n]))
            med = {n: statistics.median(t) * 1e6 for n, t in times.items()}
            anchor = "naive" if name == "sqish" else "op path"
            row = {"numel": 2 ** k, "family": name, "dtype": args.dtype, "plain": args.plain,
                   "step": args.step,
                   "median_us": med, "over": {n: med[n] / med[anchor] for n in med},
                   "anchor": anchor}
            rows.append(row)
            print(f"2^{k:<2} {name:7s} " + "  ".join(
                f"{n} {med[n]:9.1f} us ({row['over'][n]:.2f}x)" for n in med), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"torch": torch.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
