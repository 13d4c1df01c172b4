"""Two (or more) generated packages against each other and the naive formulas, per size.

    PYTHONPATH=. python benchmarks/package_ab.py DIR [DIR ...] [--sizes 10,12,...,22]
        [--rounds 7] [--only gem e-gem se-gem sqish] [--N 1] [--dtype float32] [--json FILE]

Each DIR is a package written by ``gemsym codegen --out DIR`` (or ``write_package``) whose
folder name is its import and ``torch.library`` name (``old_bridge``, ``new_bridge``), so
that several load in one process.  For every size, family and pass (``fwd``: no-grad
forward; ``fwd+bwd``: ``torch.autograd.grad`` of the output with a fixed gradient), the
packages' functions and the naive formula (``gemsym.bench.cases.naive_forward``) are timed
in interleaved rounds (the process's CPU time, one thread, batches of about 20 ms); the
table gives each median over the naive formula's median in the same round set.  ``--N``:
the integer parameter of GEM, E-GEM and SE-GEM (default 1).  ``--learnable``: each package's
module with learnable parameters (``Sqish(learnable=True, ...)``, ``EGEM``, ``SEGEM``) and
the naive formula with its real parameters as leaf tensors (Sqish's a, beta and gamma,
E-GEM's and SE-GEM's eps), the gradients taken with respect to x and every parameter.  The C++
kernels are off (``TORCH_BRIDGE_CPU_KERNEL=0``, set here): this measures the plain PyTorch
path, as a machine without a compiler runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ["TORCH_BRIDGE_CPU_KERNEL"] = "0"

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from benchmarks._ab import import_packages, interleaved_medians, ratios, run_pass  # noqa: E402

MODULES = {"gem": "GEM", "e-gem": "EGEM", "se-gem": "SEGEM", "sqish": "Sqish"}
PARAMS = {"gem": {"N": 1}, "e-gem": {"N": 1, "eps": 1e-4}, "se-gem": {"N": 1, "eps": 1e-4},
          "sqish": {"a": 0.0, "beta": 1.0, "gamma": 1.0}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("packages", nargs="+", type=Path)
    ap.add_argument("--sizes", default="10,12,14,16,18,20,22")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--only", nargs="+", default=list(PARAMS), choices=list(PARAMS))
    ap.add_argument("--N", type=int, default=1, help="GEM/E-GEM/SE-GEM's N (default 1)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--learnable", action="store_true",
                    help="the packages' modules with learnable parameters (not GEM: it has none)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.learnable and "gem" in args.only:
        args.only = [f for f in args.only if f != "gem"]

    import torch

    from gemsym.bench.cases import naive_forward

    torch.set_num_threads(1)
    dtype = getattr(torch, args.dtype)
    mods = import_packages(args.packages)
    records = []
    for k in (int(s) for s in args.sizes.split(",")):
        n = 1 << k
        x = (torch.randn(n, generator=torch.Generator().manual_seed(k)) * 3).to(dtype)
        g = torch.ones_like(x)
        for fam in args.only:
            params = {**PARAMS[fam], **({"N": args.N} if "N" in PARAMS[fam] else {})}
            naive, leaves = naive_forward(fam, {**params, "learnable": args.learnable}, "cpu")
            impls = {"naive": naive}
            wrt = {"naive": leaves}
            for name, m in mods.items():
                if args.learnable:
                    module = getattr(m, MODULES[fam])(learnable=True, **params)
                    impls[name], wrt[name] = module, tuple(module.parameters())
                else:
                    impls[name] = (lambda t, m=m: getattr(m, fam.replace("-", "_"))(t, **params))
                    wrt[name] = ()
            for pas in ("fwd", "fwd+bwd"):
                def call(name, pas=pas):
                    return run_pass(impls[name], x, g, pas, wrt[name])

                med = interleaved_medians(call, impls, "naive", args.rounds, 0.02)
                rec = {"size": k, "family": fam, "params": params, "pass": pas,
                       "learnable": args.learnable, **ratios(med, "naive", mods)}
                records.append(rec)
                print(f"2^{k} {fam:7s} {pas:8s} naive {rec['naive_us']:9.0f} us  "
                      + "  ".join(f"{name} {rec[name]:.2f}x" for name in mods), flush=True)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
