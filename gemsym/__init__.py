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


def _version() -> str:
    """The installed distribution's version; for a source tree that is not installed, the
    ``version`` of its ``pyproject.toml`` (the one place the version is written)."""
    from importlib import metadata

    try:
        return metadata.version("gemsym")
    except metadata.PackageNotFoundError:
        pass
    from pathlib import Path

    try:
        import tomllib

        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (ImportError, OSError, KeyError, ValueError):
        return "0+unknown"


__version__ = _version()

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
