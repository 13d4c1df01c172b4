"""The built-in families (SPEC.md) and the registry that resolves family names.

GEM's definitions are reconstructed from the abstract of arXiv 2604.21677 (its full text was
not available): gate = log-logistic CDF of shape 2N.  SE-GEM's negative branch is the
project's reading; pass another one to :func:`se_gem`.  Sqish follows arXiv 2310.10126.
"""

from __future__ import annotations

import importlib
from typing import Callable, Union

import sympy as sp

from .activation import X, Activation, Limit
from .parameters import (
    ParameterError,
    positive_integer,
    positive_real,
    real_below,
)

__all__ = [
    "gem",
    "e_gem",
    "se_gem",
    "sqish",
    "relu",
    "leaky_relu",
    "gelu",
    "silu",
    "softplus",
    "elu",
    "max_ax_x",
    "FAMILIES",
    "DEFAULT_FAMILIES",
    "get_family",
]

NegativeBranch = Union[sp.Expr, Callable[[sp.Symbol, sp.Symbol], sp.Expr]]


def _n_param():
    return positive_integer("N", 1, "gate shape 2N: smoothness order of the GEM family")


def _eps_param(default=1):
    return positive_real("eps", default, "gate scale eps = alpha^(2N)", latex="epsilon")


def relu() -> Activation:
    """ReLU: max(0, x)."""
    return Activation.from_branches(
        "relu", [sp.S.Zero, X], [0], gate=(sp.S.Zero, sp.S.One), title=r"\mathrm{ReLU}"
    )


def max_ax_x() -> Activation:
    """max(a x, x) for a < 1: the gamma -> oo limit of Sqish."""
    a = real_below("a", 1, 0, "slope for x < 0")
    return Activation.from_branches(
        "max-ax-x", [a.symbol * X, X], [0], parameters=(a,), title=r"\max(a x, x)"
    )


def e_gem() -> Activation:
    """E-GEM_{N,eps}(x) = x^{2N+1} / (x^{2N} + eps) for x > 0, 0 for x <= 0."""
    n, eps = _n_param(), _eps_param(1)
    N, e = n.symbol, eps.symbol
    positive = X ** (2 * N + 1) / (X ** (2 * N) + e)
    return Activation.from_branches(
        "e-gem",
        [sp.S.Zero, positive],
        [0],
        parameters=(n, eps),
        gate=(sp.S.Zero, X ** (2 * N) / (X ** (2 * N) + e)),
        claimed_smoothness=2 * N,
        limit=Limit("eps", sp.S.Zero, relu()),
        title=r"\mathrm{E\text{-}GEM}_{N,\epsilon}",
        description="eps-parameterised GEM; tends to ReLU as eps -> 0",
        citation="Krause, arXiv 2604.21677 (definition reconstructed from the abstract)",
        python_name="e_gem",
        class_name="EGEM",
    )


def gem() -> Activation:
    """GEM_N(x) = x * x^{2N}/(1 + x^{2N}) for x > 0, 0 for x <= 0 (E-GEM at eps = 1)."""
    n = _n_param()
    N = n.symbol
    return Activation.from_branches(
        "gem",
        [sp.S.Zero, X ** (2 * N + 1) / (X ** (2 * N) + 1)],
        [0],
        parameters=(n,),
        gate=(sp.S.Zero, X ** (2 * N) / (X ** (2 * N) + 1)),
        claimed_smoothness=2 * N,
        title=r"\mathrm{GEM}_N",
        description="log-logistic gate of shape 2N and scale 1",
        citation="Krause, arXiv 2604.21677 (definition reconstructed from the abstract)",
        python_name="gem",
        class_name="GEM",
    )


def _default_negative_branch(x: sp.Symbol, N: sp.Symbol) -> sp.Expr:
    # -|x|^{2N+1}/(1+|x|^{2N+1}) written for x < 0, where |x|^{2N+1} = -x^{2N+1}.
    return x ** (2 * N + 1) / (1 - x ** (2 * N + 1))


def se_gem(negative_branch: NegativeBranch | None = None) -> Activation:
    """SE-GEM_{N,eps}: x^{2N+1}/(x^{2N}+eps) for x >= 0 and, by default,
    x^{2N+1}/(1 - x^{2N+1}) for x < 0 (no dead neurons).  ``negative_branch`` is an
    expression in ``X`` and N's symbol, or a callable ``(x, N) -> expr``."""
    n, eps = _n_param(), _eps_param(1)
    N, e = n.symbol, eps.symbol
    if negative_branch is None:
        negative = _default_negative_branch(X, N)
    elif callable(negative_branch):
        negative = sp.sympify(negative_branch(X, N))
    else:
        negative = sp.sympify(negative_branch)
    positive = X ** (2 * N + 1) / (X ** (2 * N) + e)
    limit = Activation.from_branches(
        "se-gem-limit", [negative, X], [0], parameters=(n,), title=r"\mathrm{SE\text{-}GEM}_{N,0}"
    )
    return Activation.from_branches(
        "se-gem",
        [negative, positive],
        [0],
        parameters=(n, eps),
        gate=(sp.cancel(negative / X), X ** (2 * N) / (X ** (2 * N) + e)),
        claimed_smoothness=2 * N,
        limit=Limit("eps", sp.S.Zero, limit),
        title=r"\mathrm{SE\text{-}GEM}_{N,\epsilon}",
        description="piecewise GEM without dead neurons",
        citation="Krause, arXiv 2604.21677 (negative branch: this project's reading)",
        python_name="se_gem",
        class_name="SEGEM",
    )


def sqish() -> Activation:
    """Sqish(x) = a x + (1 - a) x / (1 + beta e^{-2 gamma (1 - a) x}), a < 1, beta, gamma > 0."""
    a = real_below("a", 1, 0, "slope as x -> -oo")
    beta = positive_real("beta", 1, "shift of the sigmoid gate")
    gamma = positive_real("gamma", 1, "sharpness; gamma -> oo gives max(a x, x)")
    A, B, G = a.symbol, beta.symbol, gamma.symbol
    gate = A + (1 - A) / (1 + B * sp.exp(-2 * G * (1 - A) * X))
    return Activation.from_branches(
        "sqish",
        [A * X + (1 - A) * X / (1 + B * sp.exp(-2 * G * (1 - A) * X))],
        parameters=(a, beta, gamma),
        gate=(gate,),
        claimed_smoothness=sp.oo,
        limit=Limit("gamma", sp.oo, max_ax_x()),
        title=r"\mathrm{Sqish}_{a,\beta,\gamma}",
        description="smooth non-monotonic approximation of max(a x, x)",
        citation="arXiv 2310.10126",
        python_name="sqish",
        class_name="Sqish",
    )


def leaky_relu() -> Activation:
    """Leaky ReLU: alpha x for x < 0, x for x >= 0."""
    alpha = real_below("alpha", 1, sp.Rational(1, 100), "negative slope")
    return Activation.from_branches(
        "leaky-relu", [alpha.symbol * X, X], [0], parameters=(alpha,), title=r"\mathrm{LeakyReLU}"
    )


def gelu() -> Activation:
    """GELU (erf form): x Phi(x) = x (1 + erf(x / sqrt 2)) / 2."""
    gate = (1 + sp.erf(X / sp.sqrt(2))) / 2
    return Activation.from_branches("gelu", [X * gate], gate=(gate,), title=r"\mathrm{GELU}")


def silu() -> Activation:
    """SiLU / Swish: x / (1 + e^{-x})."""
    gate = 1 / (1 + sp.exp(-X))
    return Activation.from_branches("silu", [X * gate], gate=(gate,), title=r"\mathrm{SiLU}")


def softplus() -> Activation:
    """Softplus: log(1 + e^x)."""
    return Activation.from_branches("softplus", [sp.log(1 + sp.exp(X))], title=r"\mathrm{Softplus}")


def elu() -> Activation:
    """ELU: alpha (e^x - 1) for x < 0, x for x >= 0."""
    alpha = positive_real("alpha", 1, "saturation value -alpha")
    return Activation.from_branches(
        "elu", [alpha.symbol * (sp.exp(X) - 1), X], [0], parameters=(alpha,), title=r"\mathrm{ELU}"
    )


FAMILIES: dict[str, Callable[[], Activation]] = {
    "gem": gem,
    "e-gem": e_gem,
    "se-gem": se_gem,
    "sqish": sqish,
    "relu": relu,
    "leaky-relu": leaky_relu,
    "gelu": gelu,
    "silu": silu,
    "softplus": softplus,
    "elu": elu,
}

#: The families a command covers when no ``--family`` is given.
DEFAULT_FAMILIES = ("gem", "e-gem", "se-gem", "sqish")


def get_family(name: str) -> Activation:
    """A built-in family by name, or a user-defined one as ``module:attribute`` (an
    :class:`Activation` or a callable returning one)."""
    if name in FAMILIES:
        return FAMILIES[name]()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
            obj = getattr(module, attr)
        except (ImportError, AttributeError) as exc:
            raise ParameterError(f"family {name!r} cannot be loaded: {exc}") from None
        if callable(obj) and not isinstance(obj, Activation):
            obj = obj()
        if not isinstance(obj, Activation):
            raise ParameterError(
                f"family {name!r} must name a gemsym.Activation (got {type(obj).__name__})"
            )
        return obj
    raise ParameterError(
        f"unknown family {name!r}; allowed: {', '.join(FAMILIES)} or module:attribute"
    )
