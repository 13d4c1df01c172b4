"""Conditions on the real parameters alone decided once per call, not per element.

A stable form may select between expressions by a condition on the parameters only (Sqish's
cancellation-free form for a < 0, ``where((a < 0) & (|s| < 1), ..., ...)``): evaluated as a
tensor ``where``, both sides are computed on every element on every call although a scalar
parameter decides it.  For 0-d CPU parameters the generated formula reads them as numbers
and, where each such condition has the truth value it has at the parameters' defaults,
takes a body printed with those values substituted: the other side, and the temporaries
only it used, are gone.  The values are those of the general body (the same operations on
the elements the condition selects).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from .stable import StableForm

__all__ = ["default_case", "default_values"]


class _ParametersAsNumbers(PythonCodePrinter):
    """Python code of a relation on the parameters, each read as ``float(name)``."""

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return f"float({expr.name})"


def _conditions(form: StableForm, x: sp.Symbol, reals) -> set:
    """The relations of ``form``'s selections (its ``small`` expression; the limits at
    +-oo are 0-d work) that hold x-free parameter expressions only."""
    found = set()
    for p in form.small.atoms(sp.Piecewise):
        for _, cond in p.args:
            for rel in cond.atoms(sp.core.relational.Relational):
                if not rel.has(x) and rel.free_symbols <= set(reals):
                    found.add(rel)
    return found


def default_case(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                 reals: Sequence[sp.Symbol], defaults: Mapping[sp.Symbol, sp.Expr]
                 ) -> tuple[str, dict, list[tuple[str, tuple[StableForm, ...]]]] | None:
    """(Python condition on the parameters as numbers, {relation: its truth value at the
    defaults}, outputs with every parameter condition of their selections replaced by that
    value); None where there is no such condition or a default is missing."""
    case = default_values(outputs, x, reals, defaults)
    if case is None:
        return None
    values, new = case
    test = " and ".join(f"{_ParametersAsNumbers().doprint(rel)} is {bool(v)}"
                        for rel, v in values.items())
    return test, values, new


def default_values(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                   reals: Sequence[sp.Symbol], defaults: Mapping[sp.Symbol, sp.Expr]
                   ) -> tuple[dict, list[tuple[str, tuple[StableForm, ...]]]] | None:
    """({parameter relation: its truth value at the defaults}, in a fixed order; the
    outputs with each relation replaced by that value), for any target to print its own
    test of the relations; None as for :func:`default_case`."""
    conds = set().union(*(_conditions(f, x, reals) for _, fs in outputs for f in fs))
    if not conds:
        return None
    values = {}
    for rel in sorted(conds, key=sp.default_sort_key):
        if not rel.free_symbols <= set(defaults):
            return None
        value = rel.xreplace(dict(defaults))
        if value not in (sp.true, sp.false):
            return None
        values[rel] = value
    new = [(name, tuple(replace(f, small=f.small.xreplace(values)) if f.kind != "const" else f
                        for f in forms))
           for name, forms in outputs]
    return values, new
