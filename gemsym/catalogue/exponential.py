"""Exponential linear units: ELU, SELU, CELU.

SELU's constants are the ones published with it (Klambauer et al. 2017, the fixed point
alpha_01, lambda_01 of their mean/variance map, given in the paper in closed form and used
to 31 digits by the reference implementations); they are stored as the exact rationals
those digits spell, and the tests check them against the paper's closed forms.
"""

from __future__ import annotations

import sympy as sp

from ..activation import X, Activation, Limit
from ..parameters import positive_real
from .rectifiers import relu

__all__ = ["elu", "selu", "celu", "SELU_LAMBDA", "SELU_ALPHA"]

#: lambda_01 of Klambauer et al. 2017 (arXiv 1706.02515), 32 significant digits.
SELU_LAMBDA = sp.Rational("1.0507009873554804934193349852946")
#: alpha_01 of Klambauer et al. 2017 (arXiv 1706.02515), 32 significant digits.
SELU_ALPHA = sp.Rational("1.6732632423543772848170429916717")


def elu() -> Activation:
    """ELU: alpha (e^x - 1) for x < 0, x for x >= 0 (alpha > 0).  C^0 at 0, and C^1
    exactly when alpha = 1 (f'(0-) = alpha, f'(0+) = 1; f''(0-) = alpha != 0)."""
    alpha = positive_real("alpha", 1, "saturation value -alpha for x -> -oo")
    A = alpha.symbol
    return Activation.from_branches(
        "elu",
        [A * (sp.exp(X) - 1), X],
        [0],
        parameters=(alpha,),
        claimed_smoothness=sp.Piecewise((1, sp.Eq(A, 1)), (0, True)),
        limit=Limit("alpha", sp.S.Zero, relu()),
        title=r"\mathrm{ELU}",
        description="exponential linear unit; C^1 at alpha = 1, C^0 otherwise",
        citation="Clevert, Unterthiner & Hochreiter, arXiv 1511.07289 (2015)",
    )


def selu() -> Activation:
    """SELU: lambda alpha (e^x - 1) for x < 0, lambda x for x >= 0, by default with the
    published fixed point lambda_01, alpha_01; C^0 at 0 (C^1 only if alpha = 1)."""
    lam = positive_real("lambda", SELU_LAMBDA, "scale (lambda_01 of the paper)")
    alpha = positive_real("alpha", SELU_ALPHA, "saturation -lambda alpha (alpha_01 of the paper)")
    L, A = lam.symbol, alpha.symbol
    return Activation.from_branches(
        "selu",
        [L * A * (sp.exp(X) - 1), L * X],
        [0],
        parameters=(lam, alpha),
        claimed_smoothness=sp.Piecewise((1, sp.Eq(A, 1)), (0, True)),
        title=r"\mathrm{SELU}",
        description="scaled ELU; defaults: the self-normalising fixed point lambda_01 ~ "
        "1.0507, alpha_01 ~ 1.6733 (C^0 there)",
        citation="Klambauer, Unterthiner, Mayr & Hochreiter, Self-Normalizing Neural "
        "Networks, arXiv 1706.02515 (2017)",
        class_name="SELU",
    )


def celu() -> Activation:
    """CELU(x) = max(0, x) + min(0, alpha (e^{x/alpha} - 1)) (alpha > 0): C^1 at 0 for
    every alpha (f''(0-) = 1/alpha, f''(0+) = 0); tends to ReLU as alpha -> 0."""
    alpha = positive_real("alpha", 1, "saturation value -alpha for x -> -oo")
    A = alpha.symbol
    return Activation.from_expression(
        "celu",
        sp.Max(0, X) + sp.Min(0, A * (sp.exp(X / A) - 1)),
        junctions=[0],
        parameters=(alpha,),
        claimed_smoothness=sp.S.One,
        limit=Limit("alpha", sp.S.Zero, relu()),
        title=r"\mathrm{CELU}_\alpha",
        description="continuously differentiable ELU",
        citation="Barron, Continuously Differentiable Exponential Linear Units, "
        "arXiv 1704.07483 (2017)",
        class_name="CELU",
    )
