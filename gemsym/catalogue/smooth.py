"""Smooth approximations of ReLU with a parameter that recovers it: Softplus_beta
(beta -> oo), Squareplus_b (b -> 0), SmeLU_beta (beta -> 0, junctions at -beta and beta).
"""

from __future__ import annotations

import sympy as sp

from ..activation import X, Activation, Limit
from ..parameters import positive_real
from .rectifiers import relu

__all__ = ["softplus", "squareplus", "smelu"]


def softplus() -> Activation:
    """Softplus_beta(x) = log(1 + e^{beta x}) / beta (beta > 0); C^oo; -> ReLU as beta -> oo."""
    beta = positive_real("beta", 1, "sharpness; beta -> oo gives ReLU")
    B = beta.symbol
    return Activation.from_branches(
        "softplus",
        [sp.log(1 + sp.exp(B * X)) / B],
        parameters=(beta,),
        claimed_smoothness=sp.oo,
        limit=Limit("beta", sp.oo, relu()),
        title=r"\mathrm{Softplus}_\beta",
        description="log(1 + e^(beta x))/beta (PyTorch Softplus(beta); beta = 1 is softplus)",
        citation="Dugas et al., Incorporating Second-Order Functional Knowledge for Better "
        "Option Pricing, NIPS 2000",
    )


def squareplus() -> Activation:
    """Squareplus_b(x) = (x + sqrt(x^2 + b)) / 2 (b > 0); C^oo; -> ReLU as b -> 0."""
    b = positive_real("b", 4, "smoothing; b -> 0 gives ReLU (paper's default 4)")
    return Activation.from_branches(
        "squareplus",
        [(X + sp.sqrt(X**2 + b.symbol)) / 2],
        parameters=(b,),
        claimed_smoothness=sp.oo,
        limit=Limit("b", sp.S.Zero, relu()),
        title=r"\mathrm{Squareplus}_b",
        description="algebraic softplus-like rectifier",
        citation="Barron, Squareplus: A Softplus-Like Algebraic Rectifier, "
        "arXiv 2112.11687 (2021)",
    )


def smelu() -> Activation:
    """SmeLU_beta: 0 for x <= -beta, (x + beta)^2 / (4 beta) for |x| <= beta, x for
    x >= beta (beta > 0); C^1 at -beta and beta (f'' jumps by 1/(2 beta)); -> ReLU as
    beta -> 0."""
    beta = positive_real("beta", 1, "half-width of the quadratic piece; beta -> 0 gives ReLU")
    B = beta.symbol
    return Activation.from_branches(
        "smelu",
        [sp.S.Zero, (X + B) ** 2 / (4 * B), X],
        [-B, B],
        parameters=(beta,),
        claimed_smoothness=sp.S.One,
        limit=Limit("beta", sp.S.Zero, relu()),
        title=r"\mathrm{SmeLU}_\beta",
        description="smooth ReLU: a quadratic piece joins 0 and x on [-beta, beta]",
        citation="Shamir, Lin & Coviello, Smooth Activations and Reproducibility in Deep "
        "Networks, arXiv 2010.10843 (2020)",
        class_name="SmeLU",
    )
