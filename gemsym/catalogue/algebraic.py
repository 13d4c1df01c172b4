"""Algebraic activations with a junction at 0 where |x| switches: ISRLU, Softsign and the
"safe" Pade activation unit.
"""

from __future__ import annotations

import sympy as sp

from ..activation import X, Activation
from ..parameters import positive_real

__all__ = ["isrlu", "softsign", "safe_pade", "SAFE_PADE_NUMERATOR", "SAFE_PADE_DENOMINATOR"]

#: Coefficients a_0, a_1, a_2 of P and b_1, b_2 of the safe denominator of the fixed
#: instance in the catalogue (the one the README defines).
SAFE_PADE_NUMERATOR = (sp.Rational(1, 50), sp.Rational(1, 2), sp.Rational(1, 3))
SAFE_PADE_DENOMINATOR = (sp.Rational(1, 5), sp.Rational(1, 7))


def isrlu() -> Activation:
    """ISRLU_alpha: x / sqrt(1 + alpha x^2) for x < 0, x for x >= 0 (alpha > 0); C^2 at 0
    (the left branch is x - alpha x^3/2 + ..., so f'''(0-) = -3 alpha != 0 = f'''(0+))."""
    alpha = positive_real("alpha", 1, "saturation -1/sqrt(alpha) for x -> -oo")
    gate = 1 / sp.sqrt(1 + alpha.symbol * X**2)
    return Activation.from_branches(
        "isrlu",
        [X * gate, X],
        [0],
        parameters=(alpha,),
        gate=(gate, sp.S.One),
        claimed_smoothness=sp.Integer(2),
        title=r"\mathrm{ISRLU}_\alpha",
        description="inverse square root linear unit",
        citation="Carlile, Delamarter, Kinney, Marti & Whitney, Improving Deep Learning by "
        "Inverse Square Root Linear Units (ISRLUs), arXiv 1710.09967 (2017)",
        class_name="ISRLU",
    )


def softsign() -> Activation:
    """Softsign: x / (1 + |x|); C^1 at 0 (f''(0-) = 2, f''(0+) = -2)."""
    return Activation.from_expression(
        "softsign",
        X / (1 + sp.Abs(X)),
        junctions=[0],
        gate=(1 / (1 - X), 1 / (1 + X)),
        claimed_smoothness=sp.S.One,
        title=r"\mathrm{Softsign}",
        description="x / (1 + |x|)",
        citation="Turian, Bergstra & Bengio, Quadratic Features and Deep Architectures for "
        "Chunking, NAACL 2009; Glorot & Bengio, AISTATS 2010",
    )


def safe_pade() -> Activation:
    """Safe Pade activation unit P(x) / (1 + |b_1 x| + |b_2 x^2|) with P of degree 2 and
    the fixed coefficients above: C^0 at 0, since f'(0+) - f'(0-) = -2 a_0 |b_1| != 0."""
    a0, a1, a2 = SAFE_PADE_NUMERATOR
    b1, b2 = SAFE_PADE_DENOMINATOR
    return Activation.from_expression(
        "safe-pade",
        (a0 + a1 * X + a2 * X**2) / (1 + sp.Abs(b1 * X) + sp.Abs(b2 * X**2)),
        junctions=[0],
        claimed_smoothness=sp.S.Zero,
        title=r"\mathrm{PAU}_{\mathrm{safe}}",
        description="a degree-(2, 2) safe Pade unit: (1/50 + x/2 + x^2/3)/(1 + |x/5| + x^2/7)",
        citation="Molina, Schramowski & Kersting, Pade Activation Units: End-to-end Learning "
        "of Flexible Activation Functions in Deep Networks, arXiv 1907.06732 (2019)",
        python_name="safe_pade",
        class_name="SafePade",
    )
