"""Two (or more) generated packages' fused C++ CPU kernels against each other and relu.

    PYTHONPATH=. python benchmarks/kernel_ab.py DIR [DIR ...] [--sizes 14,16,20]
        [--rounds 7] [--json FILE]

Each DIR is a package written by ``gemsym codegen --out DIR`` whose folder name is its
import and ``torch.library`` name (``old_bridge``, ``new_bridge``) and whose kernels were
built by its ``build.py``, so that several load in one process.  For every size, case and
pass (``fwd``: no-grad forward; ``fwd+bwd``: ``torch.autograd.grad`` of the output with a
fixed gradient), the packages' functions and ``torch.relu`` are timed in interleaved rounds
(the process's CPU time, one thread, batches of about 20 ms of relu's calls); the lines give
nanoseconds per element and each package's median over the first package's.  The cases:
GEM N = 1, 3, 4, 5, 8, E-GEM N = 4, 8 and SE-GEM N = 1, 4, 8 (eps = 1e-4), and Sqish at
its defaults, float32.  Where a package's kernels are not built it exits 3.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from benchmarks._ab import import_packages, interleaved_medians, run_pass  # noqa: E402

CASES = ([("gem", {"N": n}) for n in (1, 3, 4, 5, 8)]
         + [("e_gem", {"N": n, "eps": 1e-4}) for n in (4, 8)]
         + [("se_gem", {"N": n, "eps": 1e-4}) for n in (1, 4, 8)] + [("sqish", {})])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("packages", nargs="+", type=Path)
    ap.add_argument("--sizes", default="14,16,20")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    mods = import_packages(args.packages)
    for d in args.packages:
        if not mods[d.name]._cpu_kernel._on:
            print(f"kernel_ab: {d.name}'s C++ kernels are not built "
                  f"(python {d / 'build.py'})", file=sys.stderr)
            return 3
    first = args.packages[0].name
    records = []
    for k in (int(s) for s in args.sizes.split(",")):
        n = 1 << k
        x = (torch.randn(n, generator=torch.Generator().manual_seed(k)) * 3)
        g = torch.ones_like(x)
        for fam, params in CASES:
            impls = {"relu": torch.relu}
            for name, m in mods.items():
                impls[name] = (lambda t, f=getattr(m, fam), p=params: f(t, **p))
            for pas in ("fwd", "fwd+bwd"):
                def call(name, pas=pas):
                    return run_pass(impls[name], x, g, pas)

                med = interleaved_medians(call, impls, "relu", args.rounds, 0.02)
                ns = {name: med[name] * 1e9 / n for name in impls}
                rec = {"size": k, "family": fam, "params": params, "pass": pas,
                       "ns_per_element": ns}
                records.append(rec)
                print(f"2^{k} {fam} {params} {pas}: "
                      + "  ".join(f"{name} {v:.2f}" for name, v in ns.items())
                      + " ns/element  " + "  ".join(
                          f"{name}/{first} {ns[name] / ns[first]:.2f}"
                          for name in mods if name != first), flush=True)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
