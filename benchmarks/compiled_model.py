"""Time a small MLP compiled with ``torch.compile`` whose activation is a torch_bridge module,
against the same model with ``torch.relu`` / ``F.silu`` and with the naive formula.

    PYTHONPATH=. python benchmarks/compiled_model.py [--sizes 14,16,18,20] [--width 128]
        [--rounds 7] [--package torch_bridge] [--json]

The model: ``--layers`` Linear(W, W) layers, each followed by the activation, on a batch of
B = 2^k / W rows, so that every activation tensor has 2^k elements (``--sizes`` lists k).
The whole model is one ``torch.compile(dynamic=False)`` graph per (activation, size, pass).
Passes: ``fwd`` (no grad) and ``fwd+bwd`` (``model(x).sum().backward()``, the weights' and
the fixed activation parameters' gradients; no optimiser step).  Activations: GEM N=1,
E-GEM (N=1, eps=1e-4) and Sqish (a=0, beta=1, gamma=1) as modules with fixed parameters
(``learnable=False``), the naive formulas of ``gemsym.bench.cases`` (Sqish's parameters fixed
numbers too), ``torch.relu`` and ``F.silu``.  One thread (``torch.set_num_threads``), the
process's CPU time, rounds interleaved (every case once per round, the order reversed on
every other round); each cell is the median over the rounds of the time per step, with the
ratio to the relu model (GEM family) or the silu model (Sqish), and min-max over the rounds.
``--package`` names the generated package to import (``gemsym codegen --out DIR/NAME``, with
DIR on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gemsym.bench.cases import naive_forward  # noqa: E402

PARAMS = {"gem": {"N": 1}, "e-gem": {"N": 1, "eps": 1e-4}, "se-gem": {"N": 1, "eps": 1e-4},
          "sqish": {"a": 0.0, "beta": 1.0, "gamma": 1.0}}
MODULES = {"gem": "GEM", "e-gem": "EGEM", "se-gem": "SEGEM", "sqish": "Sqish"}
#: the model each activation's time is divided by
ANCHOR = {"gem": "relu", "e-gem": "relu", "se-gem": "relu", "sqish": "silu"}


class Lambda(torch.nn.Module):
    """An activation function as a module."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


def activations(package: str, only: list[str] | None = None
                ) -> dict[str, Callable[[], torch.nn.Module]]:
    """{label: a factory of the activation module}, anchors first (``only``: the labels
    kept, the anchors always)."""
    tb = importlib.import_module(package)
    out: dict[str, Callable[[], torch.nn.Module]] = {
        "relu": lambda: Lambda(torch.relu), "silu": lambda: Lambda(F.silu)}
    for op, params in PARAMS.items():
        out[f"{op}/torch_bridge"] = (lambda op=op, params=params:
                                     getattr(tb, MODULES[op])(**params))
        # fixed numbers as in the torch_bridge module (naive_forward's Sqish tensors are
        # learnable only when asked)
        out[f"{op}/naive"] = lambda op=op, params=params: Lambda(naive_forward(op, params, "cpu")[0])
    return {k: v for k, v in out.items() if only is None or k in ("relu", "silu") or k in only}


def model(act: torch.nn.Module, width: int, layers: int, dtype: torch.dtype) -> torch.nn.Module:
    torch.manual_seed(0)
    mods: list[torch.nn.Module] = []
    for _ in range(layers):
        mods += [torch.nn.Linear(width, width), act]
    return torch.nn.Sequential(*mods).to(dtype)


def compiled(net: torch.nn.Module, label: str) -> Callable:
    """``torch.compile`` of ``net``'s call through a code object of its own: Dynamo keeps its
    cache per code object, so the models of one run do not share (and check the guards of)
    one ``Sequential.forward`` entry list."""
    ns = {"net": net}
    exec(compile("def run(x):\n    return net(x)\n", f"<model {label}>", "exec"), ns)
    return torch.compile(ns["run"], dynamic=False)


def step(net: Callable, x: torch.Tensor, grad: bool, params: list[torch.Tensor]) -> None:
    if grad:
        for p in params:
            p.grad = None
        net(x).sum().backward()
    else:
        with torch.no_grad():
            net(x)


def measure(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(1)
    records = []
    factories = activations(args.package, args.only)
    dtype = getattr(torch, args.dtype)
    for k in args.sizes:
        numel = 1 << k
        if numel % args.width:
            raise SystemExit(f"compiled_model.py: --width must divide 2^{k} (got {args.width})")
        x = torch.randn(numel // args.width, args.width,
                        generator=torch.Generator().manual_seed(1)).to(dtype)
        # at least ~2^22 activation elements per timed sample, so small sizes time many steps
        reps = max(1, (1 << 22) // numel)
        for grad in (False, True):
            nets, params = {}, {}
            for label, make in factories.items():
                net = model(make(), args.width, args.layers, dtype)
                params[label] = list(net.parameters())
                nets[label] = compiled(net, f"{label} 2^{k} {grad}")
                t0 = time.time()
                for _ in range(2):  # compile, then one warm step
                    step(nets[label], x, grad, params[label])
                print(f"# 2^{k} {'fwd+bwd' if grad else 'fwd'} {label}: compiled in "
                      f"{time.time() - t0:.1f} s", file=sys.stderr, flush=True)
            times: dict[str, list[float]] = {label: [] for label in nets}
            for r in range(args.rounds):
                order = list(nets) if r % 2 == 0 else list(reversed(nets))
                for label in order:
                    c0 = time.process_time()
                    for _ in range(reps):
                        step(nets[label], x, grad, params[label])
                    times[label].append((time.process_time() - c0) / reps * 1e3)
            for label, ts in times.items():
                records.append({"size_exp": k, "pass": "fwd+bwd" if grad else "fwd",
                                "case": label, "median_ms": statistics.median(ts),
                                "min_ms": min(ts), "max_ms": max(ts), "rounds": ts,
                                "width": args.width, "layers": args.layers,
                                "batch": numel // args.width, "threads": 1,
                                "dtype": args.dtype,
                                "clock": "process_time", "torch": torch.__version__})
    return records


def markdown(records: list[dict], sizes: list[int]) -> str:
    """One table per pass: time per step and ratio to the anchor model, per size."""
    med = {(r["pass"], r["case"], r["size_exp"]): r for r in records}
    lines = []
    for pas in ("fwd", "fwd+bwd"):
        cases = list(dict.fromkeys(r["case"] for r in records if r["pass"] == pas))
        lines += [f"**{pas}** (each cell: ms per step (min-max over rounds); x the "
                  "relu model, the silu model for Sqish)", "",
                  "| activation | " + " | ".join(f"2^{k}" for k in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        for case in cases:
            cells = []
            for k in sizes:
                r = med[(pas, case, k)]
                anchor = ANCHOR.get(case.split("/")[0])
                ratio = (f"; {r['median_ms'] / med[(pas, anchor, k)]['median_ms']:.2f}x "
                         f"{anchor}" if anchor else "")
                cells.append(f"{r['median_ms']:.3g} ({r['min_ms']:.3g}-{r['max_ms']:.3g})"
                             f"{ratio}")
            lines.append(f"| {case} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="14,16,18,20",
                    help="exponents k: activation tensors of 2^k elements (default 14,16,18,20)")
    ap.add_argument("--width", type=int, default=128, help="features per layer (default 128)")
    ap.add_argument("--layers", type=int, default=4, help="Linear layers (default 4)")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    ap.add_argument("--package", default="torch_bridge",
                    help="the generated package to import (default torch_bridge)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"),
                    help="the model's and the input's dtype (default float32)")
    ap.add_argument("--only", nargs="+", metavar="LABEL",
                    help="activations to time besides the relu and silu models, e.g. "
                         "gem/torch_bridge se-gem/naive (default: all)")
    ap.add_argument("--json", action="store_true", help="print the records as JSON")
    args = ap.parse_args()
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        raise SystemExit(f"compiled_model.py: --sizes must be comma-separated integers "
                         f"(got {args.sizes!r})")
    if not all(4 <= k <= 26 for k in args.sizes) or args.width < 1 or args.layers < 1 \
            or args.rounds < 1:
        raise SystemExit("compiled_model.py: --sizes in 4..26, --width, --layers and "
                         "--rounds positive")
    print(f"# load before: {os.getloadavg()}", file=sys.stderr)
    records = measure(args)
    print(f"# load after: {os.getloadavg()}", file=sys.stderr)
    print(json.dumps(records, indent=1) if args.json else markdown(records, args.sizes))


if __name__ == "__main__":
    main()
