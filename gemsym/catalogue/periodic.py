"""Periodic activations: Snake."""

from __future__ import annotations

import sympy as sp

from ..activation import X, Activation
from ..parameters import positive_real

__all__ = ["snake"]


def snake() -> Activation:
    """Snake_a(x) = x + sin(a x)^2 / a (a > 0); C^oo, monotone, x plus a bounded
    periodic term of period pi/a."""
    a = positive_real("a", 1, "frequency")
    return Activation.from_branches(
        "snake",
        [X + sp.sin(a.symbol * X) ** 2 / a.symbol],
        parameters=(a,),
        claimed_smoothness=sp.oo,
        title=r"\mathrm{Snake}_a",
        description="x + sin^2(a x)/a, for periodic data",
        citation="Liu Ziyin, Hartwig & Ueda, Neural Networks Fail to Learn Periodic Functions "
        "and How to Fix It, arXiv 2006.08195 (2020)",
    )
