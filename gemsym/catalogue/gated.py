"""Gated activations f(x) = x g(x) with a smooth sigmoid-like gate g: GELU (erf and tanh
forms, and with a scale beta), SiLU/Swish, Mish, TanhExp.  All are C^oo; the scaled ones
tend to ReLU as beta -> oo.
"""

from __future__ import annotations

import sympy as sp

from ..activation import X, Activation, Limit
from ..parameters import positive_real
from .rectifiers import relu

__all__ = ["gelu", "gelu_tanh", "gelu_beta", "silu", "swish", "mish", "tanhexp"]

_GELU_PAPER = "Hendrycks & Gimpel, Gaussian Error Linear Units (GELUs), arXiv 1606.08415 (2016)"
#: The cubic coefficient of the tanh approximation, exactly as published.
GELU_TANH_CUBIC = sp.Rational(44715, 10**6)


def gelu() -> Activation:
    """GELU (erf form): x Phi(x) = x (1 + erf(x / sqrt 2)) / 2."""
    gate = (1 + sp.erf(X / sp.sqrt(2))) / 2
    return Activation.from_branches(
        "gelu",
        [X * gate],
        gate=(gate,),
        claimed_smoothness=sp.oo,
        title=r"\mathrm{GELU}",
        description="x times the standard normal CDF",
        citation=_GELU_PAPER,
    )


def gelu_tanh() -> Activation:
    """GELU, tanh approximation: x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2."""
    gate = (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (X + GELU_TANH_CUBIC * X**3))) / 2
    return Activation.from_branches(
        "gelu-tanh",
        [X * gate],
        gate=(gate,),
        claimed_smoothness=sp.oo,
        title=r"\mathrm{GELU}_{\tanh}",
        description="the tanh approximation of GELU (PyTorch approximate='tanh')",
        citation=_GELU_PAPER,
        class_name="GELUTanh",
    )


def gelu_beta() -> Activation:
    """Scaled GELU x Phi(beta x) (beta > 0); tends to ReLU as beta -> oo."""
    beta = positive_real("beta", 1, "scale of the Gaussian gate; beta -> oo gives ReLU")
    gate = (1 + sp.erf(beta.symbol * X / sp.sqrt(2))) / 2
    return Activation.from_branches(
        "gelu-beta",
        [X * gate],
        parameters=(beta,),
        gate=(gate,),
        claimed_smoothness=sp.oo,
        limit=Limit("beta", sp.oo, relu()),
        title=r"\mathrm{GELU}_\beta",
        description="x Phi(beta x): GELU with a scaled gate (beta = 1 is GELU)",
        citation=_GELU_PAPER + " (the gate x ~ N(0, 1/beta^2))",
        class_name="GELUBeta",
    )


def silu() -> Activation:
    """SiLU / Swish-1: x / (1 + e^{-x})."""
    gate = 1 / (1 + sp.exp(-X))
    return Activation.from_branches(
        "silu",
        [X * gate],
        gate=(gate,),
        claimed_smoothness=sp.oo,
        title=r"\mathrm{SiLU}",
        description="x times the logistic sigmoid",
        citation=_GELU_PAPER + "; Elfwing, Uchibe & Doya, arXiv 1702.03118 (2017)",
    )


def swish() -> Activation:
    """Swish-beta: x / (1 + e^{-beta x}) (beta > 0); tends to ReLU as beta -> oo."""
    beta = positive_real("beta", 1, "gate sharpness; beta -> oo gives ReLU")
    gate = 1 / (1 + sp.exp(-beta.symbol * X))
    return Activation.from_branches(
        "swish",
        [X * gate],
        parameters=(beta,),
        gate=(gate,),
        claimed_smoothness=sp.oo,
        limit=Limit("beta", sp.oo, relu()),
        title=r"\mathrm{Swish}_\beta",
        description="x sigma(beta x); beta = 1 is SiLU",
        citation="Ramachandran, Zoph & Le, Searching for Activation Functions, "
        "arXiv 1710.05941 (2017)",
    )


def mish() -> Activation:
    """Mish: x tanh(softplus(x)) = x tanh(log(1 + e^x))."""
    gate = sp.tanh(sp.log(1 + sp.exp(X)))
    return Activation.from_branches(
        "mish",
        [X * gate],
        gate=(gate,),
        claimed_smoothness=sp.oo,
        title=r"\mathrm{Mish}",
        description="x tanh(softplus(x)) (SymPy writes tanh(log y) as (y^2 - 1)/(y^2 + 1))",
        citation="Misra, Mish: A Self Regularized Non-Monotonic Activation Function, "
        "arXiv 1908.08681 (2019)",
    )


def tanhexp() -> Activation:
    """TanhExp: x tanh(e^x)."""
    gate = sp.tanh(sp.exp(X))
    return Activation.from_branches(
        "tanhexp",
        [X * gate],
        gate=(gate,),
        claimed_smoothness=sp.oo,
        title=r"\mathrm{TanhExp}",
        description="x tanh(e^x)",
        citation="Liu & Di, TanhExp: A Smooth Activation Function with High Convergence "
        "Speed for Lightweight Neural Networks, arXiv 2003.09855 (2020)",
        class_name="TanhExp",
    )
