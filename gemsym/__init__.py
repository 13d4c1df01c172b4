"""gemsym: symbolic analysis of smooth activation functions.

Submodules, in the order data flows:
- ``parameters``, ``activation``, ``families``: definitions;
- ``series``, ``smoothness``, ``closed_forms``, ``lp`` (the L^p engine: ``distance``,
  ``asymptotics``, ``integrals``, ``quadrature``), ``shape`` (with ``signs``, ``zeros``, ``properties``):
  analyses;
- ``proofs``, ``figures``, ``codegen``: writers (Markdown/JSON proofs, paper figures, the
  generated ``torch_bridge`` package), imported on demand -- ``figures`` needs matplotlib;
- ``bench``: the benchmark suite (needs torch);
- ``cli``: the ``gemsym`` command.
"""

from .activation import X, Activation, Branch, Limit
from .families import (
    DEFAULT_FAMILIES,
    FAMILIES,
    e_gem,
    elu,
    gelu,
    gem,
    get_family,
    leaky_relu,
    max_ax_x,
    relu,
    se_gem,
    silu,
    softplus,
    sqish,
)
from .lp import LpDistance, lp_distance, lp_table
from .parameters import Parameter, ParameterError, positive_integer, positive_real, real_below
from .shape import ShapeProperties, monotonicity_and_minima, shape_properties
from .smoothness import JunctionSmoothness, SmoothnessReport, junction_smoothness, smoothness

__version__ = "0.1.0"

__all__ = [
    "X",
    "Activation",
    "Branch",
    "Limit",
    "Parameter",
    "ParameterError",
    "positive_integer",
    "positive_real",
    "real_below",
    "FAMILIES",
    "DEFAULT_FAMILIES",
    "get_family",
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
    "JunctionSmoothness",
    "SmoothnessReport",
    "junction_smoothness",
    "smoothness",
    "LpDistance",
    "lp_distance",
    "lp_table",
    "ShapeProperties",
    "shape_properties",
    "monotonicity_and_minima",
    "__version__",
]
