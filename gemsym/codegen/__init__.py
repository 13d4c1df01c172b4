"""Code generation from the symbolic definitions into the ``torch_bridge`` package.

Submodules, in the order data flows:
- ``stable``: exact rewrites into floating-point-safe forms (power and sigmoid forms);
- ``derive``: f and its first and second partial derivatives per branch (``sp.diff``);
- ``printer``: SymPy -> PyTorch / Triton source;
- ``body``: common subexpressions (``sp.cse``) and branch/form assembly;
- ``runtime``: verbatim files (package data): the generated package's ``_runtime.py`` and
  the Triton kernels' helpers;
- ``writer``: the package files, written atomically.
"""

from .derive import FamilyCode, derive
from .stable import IPow, Sigmoid, StableForm, rewrite_sigmoids, stable_form
from .writer import render_package, write_package

__all__ = [
    "FamilyCode",
    "derive",
    "IPow",
    "Sigmoid",
    "StableForm",
    "rewrite_sigmoids",
    "stable_form",
    "render_package",
    "write_package",
]
