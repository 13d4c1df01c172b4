"""Piecewise-linear and piecewise-polynomial rectifiers: ReLU and its hard variants.

Each function returns an ordinary :class:`~gemsym.activation.Activation`, written as a user
would write it; no analysis knows these names.
"""

from __future__ import annotations

import sympy as sp

from ..activation import X, Activation
from ..parameters import real_below

__all__ = ["relu", "leaky_relu", "max_ax_x", "relu6", "relu2", "hardsigmoid", "hardswish"]


def relu() -> Activation:
    """ReLU(x) = max(0, x); C^0 at 0 (f'(0-) = 0, f'(0+) = 1)."""
    return Activation.from_branches(
        "relu",
        [sp.S.Zero, X],
        [0],
        gate=(sp.S.Zero, sp.S.One),
        claimed_smoothness=sp.S.Zero,
        title=r"\mathrm{ReLU}",
        description="rectified linear unit",
        citation="Nair & Hinton, ICML 2010; Glorot, Bordes & Bengio, AISTATS 2011",
    )


def leaky_relu() -> Activation:
    """Leaky ReLU: alpha x for x < 0, x for x >= 0 (alpha < 1); C^0 at 0."""
    alpha = real_below("alpha", 1, sp.Rational(1, 100), "negative slope")
    return Activation.from_branches(
        "leaky-relu",
        [alpha.symbol * X, X],
        [0],
        parameters=(alpha,),
        gate=(alpha.symbol, sp.S.One),
        claimed_smoothness=sp.S.Zero,
        title=r"\mathrm{LeakyReLU}",
        description="ReLU with slope alpha for x < 0 (PyTorch default alpha = 0.01)",
        citation="Maas, Hannun & Ng, ICML 2013 workshop (acoustic models)",
    )


def max_ax_x() -> Activation:
    """max(a x, x) for a < 1: the gamma -> oo limit of Sqish; C^0 at 0."""
    a = real_below("a", 1, 0, "slope for x < 0")
    return Activation.from_branches(
        "max-ax-x",
        [a.symbol * X, X],
        [0],
        parameters=(a,),
        gate=(a.symbol, sp.S.One),
        claimed_smoothness=sp.S.Zero,
        title=r"\max(a x, x)",
        description="two-slope rectifier; the limit of Sqish as gamma -> oo",
        citation="arXiv 2310.10126 (as the limit of Sqish)",
        python_name="max_ax_x",
        class_name="MaxAxX",
    )


def relu6() -> Activation:
    """ReLU6(x) = min(max(0, x), 6); C^0 at 0 and at 6."""
    return Activation.from_expression(
        "relu6",
        sp.Min(sp.Max(0, X), 6),
        junctions=[0, 6],
        claimed_smoothness=sp.S.Zero,
        title=r"\mathrm{ReLU6}",
        description="ReLU clipped at 6",
        citation="Krizhevsky, Convolutional Deep Belief Networks on CIFAR-10 (2010); "
        "Howard et al., MobileNets, arXiv 1704.04861 (2017)",
        class_name="ReLU6",
    )


def relu2() -> Activation:
    """Squared ReLU: max(0, x)^2; C^1 at 0 (f''(0-) = 0, f''(0+) = 2)."""
    return Activation.from_branches(
        "relu2",
        [sp.S.Zero, X**2],
        [0],
        gate=(sp.S.Zero, X),
        claimed_smoothness=sp.S.One,
        title=r"\mathrm{ReLU}^2",
        description="squared ReLU (Primer)",
        citation="So et al., Primer: Searching for Efficient Transformers, arXiv 2109.08668 (2021)",
        python_name="relu2",
        class_name="ReLU2",
    )


def hardsigmoid() -> Activation:
    """Hard sigmoid ReLU6(x + 3)/6: 0, x/6 + 1/2, 1 on x < -3, |x| < 3, x > 3; C^0."""
    return Activation.from_expression(
        "hardsigmoid",
        sp.Min(sp.Max(0, X + 3), 6) / 6,
        junctions=[-3, 3],
        claimed_smoothness=sp.S.Zero,
        title=r"\mathrm{HardSigmoid}",
        description="piecewise-linear sigmoid ReLU6(x + 3)/6 (MobileNetV3, PyTorch)",
        citation="Howard et al., Searching for MobileNetV3, arXiv 1905.02244 (2019)",
        class_name="HardSigmoid",
    )


def hardswish() -> Activation:
    """Hard swish x ReLU6(x + 3)/6: 0, x (x + 3)/6, x on x < -3, |x| < 3, x > 3; C^0
    (f'(-3+) = -1/2, f'(3-) = 3/2)."""
    gate = sp.Min(sp.Max(0, X + 3), 6) / 6
    return Activation.from_expression(
        "hardswish",
        X * gate,
        junctions=[-3, 3],
        gate=(sp.S.Zero, (X + 3) / 6, sp.S.One),
        claimed_smoothness=sp.S.Zero,
        title=r"\mathrm{HardSwish}",
        description="x times the hard sigmoid (MobileNetV3, PyTorch)",
        citation="Howard et al., Searching for MobileNetV3, arXiv 1905.02244 (2019)",
        class_name="HardSwish",
    )
