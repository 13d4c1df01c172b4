"""The catalogue: activations of the literature as ordinary :class:`~gemsym.Activation`
definitions, each with its parameters (domains, defaults), LaTeX title, citation, the
smoothness class the literature claims and, where the family tends to a simpler one, its
:class:`~gemsym.Limit`.

Submodules, one per group:
- ``rectifiers``: ReLU, leaky ReLU, max(a x, x), ReLU6, squared ReLU, hard sigmoid/swish;
- ``exponential``: ELU, SELU, CELU;
- ``gated``: GELU (erf, tanh, scaled), SiLU, Swish_beta, Mish, TanhExp;
- ``smooth``: Softplus_beta, Squareplus, SmeLU (smooth approximations of ReLU);
- ``algebraic``: ISRLU, Softsign, the safe Pade unit;
- ``periodic``: Snake.

The GEM family lives in :mod:`gemsym.families`, which registers these and its own in
``FAMILIES``.  No analysis special-cases any of these names.
"""

from __future__ import annotations

from typing import Callable

from ..activation import Activation
from .algebraic import isrlu, safe_pade, softsign
from .exponential import celu, elu, selu
from .gated import gelu, gelu_beta, gelu_tanh, mish, silu, swish, tanhexp
from .periodic import snake
from .rectifiers import hardsigmoid, hardswish, leaky_relu, max_ax_x, relu, relu2, relu6
from .smooth import smelu, softplus, squareplus

__all__ = [
    "CATALOGUE",
    "relu",
    "leaky_relu",
    "max_ax_x",
    "relu6",
    "relu2",
    "hardsigmoid",
    "hardswish",
    "elu",
    "selu",
    "celu",
    "gelu",
    "gelu_tanh",
    "gelu_beta",
    "silu",
    "swish",
    "mish",
    "tanhexp",
    "softplus",
    "squareplus",
    "smelu",
    "isrlu",
    "softsign",
    "safe_pade",
    "snake",
]

#: name -> factory, in the order ``gemsym list`` prints them (the GEM family is added by
#: :mod:`gemsym.families`).
CATALOGUE: dict[str, Callable[[], Activation]] = {
    "relu": relu,
    "leaky-relu": leaky_relu,
    "max-ax-x": max_ax_x,
    "relu6": relu6,
    "relu2": relu2,
    "hardsigmoid": hardsigmoid,
    "hardswish": hardswish,
    "elu": elu,
    "selu": selu,
    "celu": celu,
    "gelu": gelu,
    "gelu-tanh": gelu_tanh,
    "gelu-beta": gelu_beta,
    "silu": silu,
    "swish": swish,
    "mish": mish,
    "tanhexp": tanhexp,
    "softplus": softplus,
    "squareplus": squareplus,
    "smelu": smelu,
    "isrlu": isrlu,
    "softsign": softsign,
    "safe-pade": safe_pade,
    "snake": snake,
}
