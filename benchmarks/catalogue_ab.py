"""Catalogue members' generated functional forms, two (or more) packages against each other
and against PyTorch's own op for the same activation, per size.

    PYTHONPATH=. python benchmarks/catalogue_ab.py DIR [DIR ...] [--family relu6 ...]
        [--sizes 10,14,16] [--rounds 7] [--dtype float32] [--json FILE]

Each DIR is a package written by ``gemsym codegen --out DIR --family ...`` whose folder name
is its import name (``old_bridge``, ``new_bridge``).  For every size, member and pass
(``fwd``: no-grad forward; ``fwd+bwd``: ``torch.autograd.grad`` of the output with a fixed
gradient), the packages' functions (their parameters at the catalogue's defaults) and the
reference are timed in interleaved rounds (the process's CPU time, one thread, batches of
about 10 ms); each cell is a median over the reference's median in the same rounds.  The
reference is PyTorch's op where it has one (``F.relu6``, ``F.gelu``, ...), else the
definition written as a user would (``references``).  The C++ kernels are off
(``TORCH_BRIDGE_CPU_KERNEL=0``, set here) unless ``--kernel`` is given (then each package
runs its build, ``python DIR/build.py``, where one was made): without, this measures the
plain PyTorch path, as a machine without a compiler runs it.  Before timing, each
package's forward is checked against the first package's, bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if "--kernel" not in sys.argv:  # before any package is imported
    os.environ["TORCH_BRIDGE_CPU_KERNEL"] = "0"

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from benchmarks._ab import import_packages, interleaved_medians, ratios, run_pass  # noqa: E402


def references() -> dict:
    """Member -> (label, function of x at the catalogue's default parameters)."""
    import torch
    import torch.nn.functional as F

    return {
        "relu": ("F.relu", F.relu), "leaky-relu": ("F.leaky_relu", F.leaky_relu),
        "relu6": ("F.relu6", F.relu6), "hardsigmoid": ("F.hardsigmoid", F.hardsigmoid),
        "hardswish": ("F.hardswish", F.hardswish), "elu": ("F.elu", F.elu),
        "selu": ("F.selu", F.selu), "celu": ("F.celu", F.celu), "gelu": ("F.gelu", F.gelu),
        "gelu-tanh": ("F.gelu(tanh)", lambda x: F.gelu(x, approximate="tanh")),
        "silu": ("F.silu", F.silu), "swish": ("F.silu", F.silu), "mish": ("F.mish", F.mish),
        "softplus": ("F.softplus", F.softplus), "softsign": ("F.softsign", F.softsign),
        "relu2": ("relu(x)^2", lambda x: torch.relu(x) ** 2),
        "max-ax-x": ("max(0 x, x)", lambda x: torch.maximum(0.0 * x, x)),
        "tanhexp": ("x tanh(e^x)", lambda x: x * torch.tanh(torch.exp(x))),
        "squareplus": ("(x + sqrt(x^2 + 4))/2", lambda x: 0.5 * (x + torch.sqrt(x * x + 4.0))),
        "isrlu": ("where(x < 0, x/sqrt(1 + x^2), x)",
                  lambda x: torch.where(x < 0, x * torch.rsqrt(1 + x * x), x)),
        "snake": ("x + sin(x)^2", lambda x: x + torch.sin(x) ** 2),
        "smelu": ("where(|x| <= 1, (x + 1)^2/4, relu(x))",
                  lambda x: torch.where(x.abs() <= 1, (x + 1) ** 2 / 4, torch.relu(x))),
    }


def main(argv=None) -> int:
    refs = references()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("packages", nargs="+", type=Path)
    ap.add_argument("--family", nargs="+", default=list(refs), choices=list(refs))
    ap.add_argument("--sizes", default="10,14,16")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float64"])
    ap.add_argument("--kernel", action="store_true", help="the packages' built C++ kernels on")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import torch

    from gemsym.families import get_family

    torch.set_num_threads(1)
    dtype = getattr(torch, args.dtype)
    mods = import_packages(args.packages)
    records = []
    for k in (int(s) for s in args.sizes.split(",")):
        x = (torch.randn(1 << k, generator=torch.Generator().manual_seed(k)) * 3).to(dtype)
        g = torch.ones_like(x)
        for member in args.family:
            act = get_family(member)
            params = {p.name: (int(p.default) if p.integer else float(p.default))
                      for p in act.parameters}
            label, ref = refs[member]
            impls = {"ref": ref}
            args_ = [params[p.name] for p in act.parameters if p.integer]
            args_ += [params[p.name] for p in act.parameters if not p.integer]
            for name, m in mods.items():
                impls[name] = (lambda t, f=getattr(m, act.identifier): f(t, *args_))
            first = None
            for name in mods:
                with torch.no_grad():
                    y = impls[name](x)
                if first is None:
                    first = y
                elif not bool(((y == first) | (y.isnan() & first.isnan())).all()):
                    raise SystemExit(f"{member}: {name} differs from {next(iter(mods))}")
            for pas in ("fwd", "fwd+bwd"):
                def call(name, pas=pas):
                    return run_pass(impls[name], x, g, pas)

                med = interleaved_medians(call, impls, "ref", args.rounds, 0.01)
                rec = {"size": k, "family": member, "params": params, "pass": pas,
                       "dtype": args.dtype, "reference": label, **ratios(med, "ref", mods)}
                records.append(rec)
                print(f"2^{k} {member:11s} {pas:8s} {label} {rec['ref_us']:8.1f} us  "
                      + "  ".join(f"{name} {rec[name]:.2f}x" for name in mods), flush=True)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
