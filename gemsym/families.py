"""The GEM family (docs/definitions.md) and the registry of every built-in family: these and the
catalogue of the literature (:mod:`gemsym.catalogue`), resolved by name.

GEM's definitions are reconstructed from the abstract of arXiv 2604.21677 (its full text was
not available): gate = log-logistic CDF of shape 2N.  SE-GEM's negative branch is the
project's reading; pass another one to :func:`se_gem`.  Sqish follows arXiv 2310.10126.
"""

from __future__ import annotations

from typing import Callable, Union

import sympy as sp

from .activation import X, Activation, Limit
from .catalogue import CATALOGUE, elu, gelu, leaky_relu, max_ax_x, relu, silu, softplus
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


#: Every built-in family: the catalogue of the literature, then the GEM family.
FAMILIES: dict[str, Callable[[], Activation]] = {
    **CATALOGUE,
    "gem": gem,
    "e-gem": e_gem,
    "se-gem": se_gem,
    "sqish": sqish,
}

#: The families a command covers when no ``--family`` is given.
DEFAULT_FAMILIES = ("gem", "e-gem", "se-gem", "sqish")


def get_family(name: str) -> Activation:
    """A built-in family by name, or a user-defined one as ``module:attribute`` (an
    :class:`Activation` or a callable returning one)."""
    if name in FAMILIES:
        return FAMILIES[name]()
    if ":" in name:
        from .user_family import load_user_family

        return load_user_family(name)
    raise ParameterError(
        f"unknown family {name!r}; allowed: {', '.join(FAMILIES)} or module:attribute"
    )
