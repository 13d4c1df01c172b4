"""Argument helpers shared by the subcommands: family selection, parameter values,
expression rendering and JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Iterable

import sympy as sp

from ..activation import Activation
from ..families import DEFAULT_FAMILIES, FAMILIES, get_family
from ..parameters import ParameterError

__all__ = [
    "add_family_arguments",
    "selected_families",
    "bind_from_args",
    "expr_text",
    "expr_json",
    "print_json",
]

# CLI flag -> family parameter name
PARAM_FLAGS = {"N": "N", "eps": "eps", "a": "a", "beta": "beta", "gamma": "gamma", "alpha": "alpha"}


def add_family_arguments(parser: argparse.ArgumentParser, default_N: str | None = "1",
                         default_eps: str | None = None, many: bool = True) -> None:
    """--family (repeatable), --N, --eps, --a, --beta, --gamma, --alpha."""
    parser.add_argument(
        "--family",
        action="append" if many else "store",
        help=f"built-in ({', '.join(FAMILIES)}) or module:attribute"
        + (f"; default: {', '.join(DEFAULT_FAMILIES)}" if many else ""),
    )
    parser.add_argument("--N", default=default_N, help="positive integer or 'symbolic'")
    parser.add_argument("--eps", default=default_eps, help="number > 0 (1e-4, 1/10000) or 'symbolic'")
    parser.add_argument("--a", default=None, help="Sqish slope a < 1 (or 'symbolic')")
    parser.add_argument("--beta", default=None, help="Sqish beta > 0 (or 'symbolic')")
    parser.add_argument("--gamma", default=None, help="Sqish gamma > 0 (or 'symbolic')")
    parser.add_argument("--alpha", default=None, help="leaky-ReLU/ELU alpha")


def selected_families(args: argparse.Namespace) -> list[Activation]:
    names = args.family if isinstance(args.family, list) else ([args.family] if args.family else None)
    return [get_family(n) for n in (names or DEFAULT_FAMILIES)]


def bind_from_args(act: Activation, args: argparse.Namespace, defaults: bool = False) -> Activation:
    """Bind the parameters given on the command line that this family has; a value
    given for a parameter the family lacks is ignored only when several families run."""
    values = {}
    for flag, pname in PARAM_FLAGS.items():
        raw = getattr(args, flag, None)
        if raw is None:
            continue
        if pname in act.parameter_names:
            values[pname] = raw
    bound = act.bind(**values)
    if defaults:
        bound = bound.with_defaults()
    return bound


def expr_text(e: Any) -> str | None:
    """Plain text of an expression: ``oo`` becomes ``inf``."""
    if e is None:
        return None
    e = sp.sympify(e)
    if e == sp.oo:
        return "inf"
    if e == -sp.oo:
        return "-inf"
    if e == sp.zoo:
        return "infinite"
    return str(e)


def expr_json(e: Any) -> Any:
    """An integer when the expression is one, else its text."""
    if e is None:
        return None
    e = sp.sympify(e)
    if e.is_Integer:
        return int(e)
    return expr_text(e)


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


def check_known(values: Iterable[str], allowed: Iterable[str], what: str) -> None:
    allowed = list(allowed)
    for v in values:
        if v not in allowed:
            raise ParameterError(f"{what} must be one of {', '.join(allowed)} (got {v!r})")
