"""Interleaved timing shared by the A/B benchmarks (``package_ab.py``, ``catalogue_ab.py``)."""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Iterable


def import_packages(dirs: Iterable[Path]) -> dict:
    """{folder name: module} of generated packages (``gemsym codegen --out DIR``), each
    imported under its folder's name from the folder's parent, so that several load in one
    process."""
    mods = {}
    for d in dirs:
        sys.path.insert(0, str(d.resolve().parent))
        mods[d.name] = importlib.import_module(d.name)
    return mods


def timed(fn: Callable[[], object], reps: int) -> float:
    """The process's CPU time per call of ``fn`` over ``reps`` calls."""
    t0 = time.process_time()
    for _ in range(reps):
        fn()
    return (time.process_time() - t0) / reps


def run_pass(fn: Callable, x, g, pas: str, wrt: tuple = ()):
    """One call of a timed pass: ``fwd``, fn(x) with grad mode off; ``fwd+bwd``, the
    gradients of fn(x) (weighted by ``g``) with respect to a fresh leaf x and ``wrt``."""
    import torch

    if pas == "fwd":
        with torch.no_grad():
            return fn(x)
    xg = x.detach().requires_grad_()
    return torch.autograd.grad(fn(xg), (xg, *wrt), g)


def ratios(med: dict[str, float], anchor: str, names: Iterable[str]) -> dict[str, float]:
    """``{anchor}_us``: the anchor's median in microseconds, and each name's median over it."""
    return {f"{anchor}_us": med[anchor] * 1e6, **{n: med[n] / med[anchor] for n in names}}


def interleaved_medians(call: Callable[[str], object], names: Iterable[str], anchor: str,
                        rounds: int, batch_s: float) -> dict[str, float]:
    """{name: median CPU seconds per ``call(name)``} over ``rounds`` rounds, each timing
    every name once in turn (a warm-up call each first), in batches of about ``batch_s``
    seconds of the ``anchor``'s calls."""
    names = list(names)
    for name in names:
        call(name)
    reps = max(1, int(batch_s / max(timed(lambda: call(anchor), 3), 1e-6)))
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            times[name].append(timed(lambda name=name: call(name), reps))
    return {name: statistics.median(v) for name, v in times.items()}
