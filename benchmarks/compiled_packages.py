"""Time the compiled activations of several generated packages side by side (one process,
interleaved rounds), e.g. a package generated before a change against one generated after.

    PYTHONPATH=. python benchmarks/compiled_packages.py /tmp/a/tb_before /tmp/b/tb_after \
        [--sizes 20,24] [--rounds 7]

Each argument is a package folder written by ``gemsym codegen --out DIR/NAME`` (distinct
NAMEs: each registers its own ops).  Cases: E-GEM and SE-GEM (N=1, eps=1e-4) and Sqish
(a=0, beta=1, gamma=1) as modules with fixed parameters (``learnable=False``) of every
package, the naive formulas of ``gemsym.bench.cases`` (Sqish's parameters fixed numbers),
``torch.relu`` and ``F.silu``; each ``torch.compile(dynamic=False)``d; float32 inputs of
2^k elements (``--sizes`` lists k).  Passes: ``fwd`` (no grad) and ``fwd+bwd``
(``y.backward(ones)``).  One thread, the process's CPU time; rounds interleaved (the order
reversed on every other round); each cell the median time per call in ms (min-max over the
rounds).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gemsym.bench.cases import naive_forward  # noqa: E402

PARAMS = {"e-gem": {"N": 1, "eps": 1e-4}, "se-gem": {"N": 1, "eps": 1e-4},
          "sqish": {"a": 0.0, "beta": 1.0, "gamma": 1.0}}
MODULES = {"e-gem": "EGEM", "se-gem": "SEGEM", "sqish": "Sqish"}


def cases(folders: list[str]) -> dict:
    packages = []
    for folder in folders:
        path = Path(folder).resolve()
        sys.path.insert(0, str(path.parent))
        packages.append((path.name, importlib.import_module(path.name)))
    out = {}
    for op, params in PARAMS.items():
        for name, pkg in packages:
            out[f"{op}/{name}"] = getattr(pkg, MODULES[op])(**params)
        out[f"{op}/naive"] = naive_forward(op, params, "cpu")[0]
    out["relu"], out["silu"] = torch.relu, F.silu
    return out


def step(fn, x: torch.Tensor, g: torch.Tensor, grad: bool) -> None:
    if grad:
        fn(x).backward(g)
    else:
        with torch.no_grad():
            fn(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("packages", nargs="+", help="generated package folders")
    ap.add_argument("--sizes", default="20,24", help="exponents k (default 20,24)")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    torch.set_num_threads(1)
    # the modules of all packages share ActivationModule.forward's cache entries
    torch._dynamo.config.cache_size_limit = 64
    comp = {k: torch.compile(f, dynamic=False) for k, f in cases(args.packages).items()}
    print(f"# load before: {os.getloadavg()}", file=sys.stderr)
    res = {}
    for e in sizes:
        x = torch.randn(1 << e, generator=torch.Generator().manual_seed(0))
        xg, g = x.clone().requires_grad_(True), torch.ones(1 << e)
        reps = max(1, (1 << 22) // (1 << e))
        for grad in (False, True):
            t0 = time.time()
            for f in comp.values():
                for _ in range(2):  # compile, then one warm call
                    step(f, xg if grad else x, g, grad)
            print(f"# 2^{e} grad={grad}: compiled in {time.time() - t0:.0f} s", file=sys.stderr)
            times: dict[str, list[float]] = {k: [] for k in comp}
            for r in range(args.rounds):
                for k in (list(comp) if r % 2 == 0 else list(reversed(comp))):
                    c0 = time.process_time()
                    for _ in range(reps):
                        step(comp[k], xg if grad else x, g, grad)
                    times[k].append((time.process_time() - c0) / reps * 1e3)
            for k, v in times.items():
                res[(e, grad, k)] = (statistics.median(v), min(v), max(v))
    print(f"# load after: {os.getloadavg()}", file=sys.stderr)
    print("| case | pass | " + " | ".join(f"2^{e} ms (min-max)" for e in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for grad in (False, True):
        for k in comp:
            cells = [f"{m:.3g} ({lo:.3g}-{hi:.3g})" for m, lo, hi in
                     (res[(e, grad, k)] for e in sizes)]
            print(f"| {k} | {'fwd+bwd' if grad else 'fwd'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
