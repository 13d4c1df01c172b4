"""Code generation from the symbolic definitions into the ``torch_bridge`` package.

Submodules, in the order data flows:
- ``rules``: exact rewrites into floating-point-safe primitives (softplus, expm1, erfc and
  sigmoid complements, hypot, conjugates) and removable singularities;
- ``stable``: exact rewrites into floating-point-safe forms (power and sigmoid forms);
- ``derive``: f and its first and second partial derivatives per branch (``sp.diff``);
- ``printer``: SymPy -> source, the printer of a target: ``base_printer`` (one base printer
  dispatching on the expression's class), a subclass per target (``torch_printer`` with its
  float64 ``exact`` path in ``torch_exact``, ``triton_printer``, ``cxx_printer``);
- ``body``: common subexpressions (``sp.cse``) and branch/form assembly;
- ``narrow``: bodies for float32/16-bit inputs evaluated in float64 (no |x| > 1 forms,
  clamps instead of selections); ``sums``: the parameters' derivatives as shared terms
  times constants, for the backward's sums over the input;
- ``runtime``: verbatim files (package data): the generated package's ``_runtime.py`` and
  the Triton kernels' helpers;
- ``writer``: the package files, written atomically.
"""

from .derive import FamilyCode, derive
from .printer import CodePrinter, TorchPrinter, TritonPrinter, UnsupportedConstruct
from .rules import removable_points, to_primitives
from .stable import IPow, Sigmoid, StableForm, rewrite_sigmoids, stable_form
from .writer import render_package, write_package

__all__ = [
    "FamilyCode",
    "derive",
    "CodePrinter",
    "TorchPrinter",
    "TritonPrinter",
    "UnsupportedConstruct",
    "removable_points",
    "to_primitives",
    "IPow",
    "Sigmoid",
    "StableForm",
    "rewrite_sigmoids",
    "stable_form",
    "render_package",
    "write_package",
]
