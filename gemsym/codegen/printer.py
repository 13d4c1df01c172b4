"""Print SymPy expressions as PyTorch or Triton source: the printer of a target.

The printers, one module each: :mod:`.base_printer` (:class:`CodePrinter`, the
target-independent part: class dispatch, precedence, numbers), :mod:`.torch_printer`
(:class:`TorchPrinter`, with its float64 ``exact`` path in :mod:`.torch_exact`) and
:mod:`.triton_printer` (:class:`TritonPrinter`); :mod:`.cxx_printer` prints the scalar C++
of the CPU kernels.  A construct a target cannot print raises
:class:`UnsupportedConstruct` naming it: the Triton writer then generates no kernel for the
family (it runs through the PyTorch formulas), while for the PyTorch target it is a bad
input (``gemsym codegen`` exit 2).
"""

from __future__ import annotations

from typing import Mapping

import sympy as sp

from .base_printer import CodePrinter, UnsupportedConstruct
# imported from here by cxx_printer
from .base_printer import _PREC_ATOM, _sigmoid_linear_args  # noqa: F401
from .torch_printer import TorchPrinter
from .triton_printer import TritonPrinter

__all__ = ["UnsupportedConstruct", "CodePrinter", "TorchPrinter", "TritonPrinter", "Printer",
           "TORCH", "TRITON"]

TORCH = "torch"
TRITON = "triton"

_PRINTERS = {TORCH: TorchPrinter, TRITON: TritonPrinter}


def Printer(target: str, int_names=frozenset(), x_name: str = "x",
            exponents: Mapping[sp.Symbol, sp.Expr] | None = None) -> CodePrinter:
    """The printer of ``target`` (``'torch'`` or ``'triton'``)."""
    if target not in _PRINTERS:
        raise ValueError(f"target must be one of {', '.join(_PRINTERS)} (got {target!r})")
    return _PRINTERS[target](int_names, x_name, exponents)
