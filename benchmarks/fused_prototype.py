"""What a traceable torch_bridge would cost under ``torch.compile`` on CPU (an experiment for
issue 5, not part of the package; superseded on 2026-11-25 by the generated traced path,
``torch_bridge._runtime.run``, see benchmarks/RESULTS.md).

``torch_bridge`` registers its ops with ``torch.library``; ``torch.compile`` treats such an op
as opaque, so a compiled model still runs the op's eager CPU path (a Python loop over
32768-element chunks, ~15 PyTorch kernels per chunk).  This script wraps the *same* generated
formulas (``torch_bridge._formulas``: ``gem_f``/``gem_dx``, ``sqish_f``/``sqish_first``) in a
``torch.autograd.Function`` that Dynamo can trace, so Inductor fuses forward and backward into
one loop each, and times it against ``torch.relu`` / ``F.silu`` (eager and compiled) and the
current module, interleaved, in one process:

    python benchmarks/fused_prototype.py [--numel 16777216] [--repeat 15] [--ipow-mul] [--skip-module]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as Fn  # noqa: E402

from gemsym.bench.timing import Timer, summarize  # noqa: E402


class FusedGEM(torch.autograd.Function):
    """GEM_N through the generated formulas, traceable by Dynamo (backward recomputes from x)."""

    @staticmethod
    def forward(ctx, x, N: int):
        from torch_bridge import _formulas as F

        ctx.save_for_backward(x)
        ctx.N = N
        return F.gem_f(x.float(), N).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        from torch_bridge import _formulas as F

        (x,) = ctx.saved_tensors
        return (g.float() * F.gem_dx(x.float(), ctx.N)).to(x.dtype), None


class FusedSqish(torch.autograd.Function):
    """Sqish with learnable (a, beta, gamma) through the generated formulas; the parameter
    gradients are sums of grad * df/dtheta over the tensor."""

    @staticmethod
    def forward(ctx, x, a, beta, gamma):
        from torch_bridge import _formulas as F

        ctx.save_for_backward(x, a, beta, gamma)
        return F.sqish_f(x.float(), a, beta, gamma).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        from torch_bridge import _formulas as F

        x, a, beta, gamma = ctx.saved_tensors
        gf = g.float()
        dx, da, db, dg = F.sqish_first(x.float(), a, beta, gamma)
        return (gf * dx).to(x.dtype), (gf * da).sum(), (gf * db).sum(), (gf * dg).sum()


def _ipow_mul(x, e: int, exact: bool = True):
    """x**e (integer e >= 0) by repeated squaring: multiplications Inductor vectorises
    (``exact`` is the generated formulas' flag, ignored here)."""
    result, base = None, x
    while e:
        if e & 1:
            result = base if result is None else result * base
        e >>= 1
        if e:
            base = base * base
    return torch.ones_like(x) if result is None else result


def main() -> int:
    import torch_bridge as tb

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numel", type=int, default=2**24)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--ipow-mul", action="store_true",
                        help="also replace the formulas' integer power (pow with a 0-d tensor exponent) "
                             "by repeated multiplication")
    parser.add_argument("--skip-module", action="store_true", help="leave out the torch_bridge+compile rows")
    args = parser.parse_args()
    if args.ipow_mul:
        from torch_bridge import _formulas

        _formulas._ipow = _ipow_mul
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.numel, generator=gen)
    gy = torch.randn(args.numel, generator=gen)
    xg = x.clone().requires_grad_(True)
    sq_params = [torch.nn.Parameter(torch.tensor(v)) for v in (0.0, 1.0, 1.0)]
    sq = tb.Sqish(learnable=True)
    cases = {
        "relu/torch": (torch.relu, ()),
        "relu/torch+compile": (torch.compile(torch.relu, dynamic=False), ()),
        "gem N=1/torch_bridge+compile": (torch.compile(tb.GEM(1), dynamic=False), ()),
        "gem N=1/fused+compile": (torch.compile(lambda t: FusedGEM.apply(t, 1), dynamic=False), ()),
        "silu/torch": (Fn.silu, ()),
        "silu/torch+compile": (torch.compile(Fn.silu, dynamic=False), ()),
        "sqish/torch_bridge+compile": (torch.compile(sq, dynamic=False), tuple(sq.parameters())),
        "sqish/fused+compile": (torch.compile(lambda t: FusedSqish.apply(t, *sq_params), dynamic=False), tuple(sq_params)),
    }
    if args.skip_module:
        cases = {k: v for k, v in cases.items() if "torch_bridge" not in k}
    # correctness of the prototype against the generated module (same formulas, so equal)
    with torch.no_grad():
        assert torch.allclose(cases["gem N=1/fused+compile"][0](x[:4099]), tb.GEM(1)(x[:4099]), rtol=1e-6, atol=1e-30)
        assert torch.allclose(cases["sqish/fused+compile"][0](x[:4099]), sq(x[:4099]), rtol=1e-5, atol=1e-7)
    timer = Timer("cpu")

    def passes(fn, params):
        def fwd(_):
            with torch.no_grad():
                return fn(x)

        def fb(_):
            return torch.autograd.grad(fn(xg), (xg, *params), gy)

        return {"fwd": fwd, "fwd+bwd": fb}

    work = {k: passes(*v) for k, v in cases.items()}
    for w in work.values():  # warm-up (compiles)
        for _ in range(2):
            for f in w.values():
                timer.time(lambda: None, f)
    times = {(k, p): [] for k in work for p in ("fwd", "fwd+bwd")}
    for p in ("fwd", "fwd+bwd"):
        for _ in range(args.repeat):
            for k, w in work.items():
                times[(k, p)].append(timer.time(lambda: None, w[p]))
    print(f"numel {args.numel}, {torch.get_num_threads()} threads, {args.repeat} interleaved rounds"
          + (", integer powers by multiplication" if args.ipow_mul else ""))
    print("| case | pass | median ms | p20-p80 ms | x relu | x relu(compile) | x silu | x silu(compile) |")
    print("|---|---|---|---|---|---|---|---|")
    for (k, p), ts in times.items():
        s = summarize(ts)
        ref = {a: summarize(times[(a, p)]).median_ms for a in
               ("relu/torch", "relu/torch+compile", "silu/torch", "silu/torch+compile")}
        print(f"| {k} | {p} | {s.median_ms:.2f} | {s.p20_ms:.2f}-{s.p80_ms:.2f} | "
              + " | ".join(f"{s.median_ms / ref[a]:.2f}" for a in ref) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
