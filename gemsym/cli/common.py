"""Argument helpers shared by the subcommands: family selection (built-in or
``module:attribute``), parameter values from the families' own definitions
(``--param NAME=VALUE``, ``--NAME``), the work limits, expression rendering and JSON
output."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import sympy as sp

from ..activation import Activation
from ..families import DEFAULT_FAMILIES, get_family
from ..limits import (
    MAX_DECIMAL_EXPONENT,
    MAX_EXPONENT,
    MAX_INTEGER_PARAMETER,
    MAX_OPERATIONS,
    MAX_SIGNIFICANT_DIGITS,
)
from ..parameters import ParameterError

__all__ = [
    "SHORTHANDS",
    "LIMITS_TEXT",
    "limits_text",
    "FamilyOptions",
    "add_family_arguments",
    "prepare_family_options",
    "given_parameters",
    "selected_families",
    "bind_from_args",
    "bound_families",
    "check_work",
    "largest_exponent",
    "expr_text",
    "expr_json",
    "print_json",
]

#: Options every command that takes families accepts, whichever families are selected
#: (the spellings scripts used before parameters came from the definitions; a value for a
#: parameter no selected family has is still an error).  Every other parameter gets its
#: ``--NAME`` option from the selected families' definitions.
SHORTHANDS = ("N", "eps", "a", "beta", "gamma", "alpha")


def limits_text(max_integer: int = MAX_INTEGER_PARAMETER, max_exponent: int = MAX_EXPONENT) -> str:
    """The limits paragraph printed under ``--help`` of every command that takes families."""
    return (
        f"limits: integer parameters such as N <= {max_integer}; numbers between "
        f"1e-{MAX_DECIMAL_EXPONENT} and 1e{MAX_DECIMAL_EXPONENT} in magnitude with at most "
        f"{MAX_SIGNIFICANT_DIGITS} significant digits; numeric exponents in a branch of "
        f"absolute value <= {max_exponent}; at most {MAX_OPERATIONS} operations per branch. "
        f"Past a limit the command stops at once with exit status 2. Exit status: 0 every "
        f"claim holds, 1 a claim fails, 2 bad input, 3 cannot decide or internal error."
    )


LIMITS_TEXT = limits_text()

_OPTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_DEST = "param__"


@dataclass(frozen=True)
class FamilyOptions:
    """How a command takes families: one or several, which by default, and the value a
    parameter takes when the command line does not give one (``None``: the family's
    default is applied later, or the parameter stays unbound)."""

    many: bool = True
    default_families: tuple[str, ...] = DEFAULT_FAMILIES
    parameter_defaults: Mapping[str, str] = field(default_factory=dict)
    with_parameters: bool = True
    #: bounds of :func:`check_work` (see :mod:`gemsym.limits`)
    max_integer: int = MAX_INTEGER_PARAMETER
    max_exponent: int = MAX_EXPONENT


def add_family_arguments(parser: argparse.ArgumentParser, default_N: str | None = "1",
                         default_eps: str | None = None, many: bool = True,
                         default_families: Sequence[str] | None = None,
                         with_parameters: bool = True,
                         max_integer: int = MAX_INTEGER_PARAMETER,
                         max_exponent: int = MAX_EXPONENT) -> None:
    """``--family`` (repeatable when ``many``), ``--param NAME=VALUE`` (repeatable), the
    shorthands ``--N --eps --a --beta --gamma --alpha``, and ``--NAME`` for every other
    parameter of the selected families (added once ``--family`` is known: see
    :func:`prepare_family_options`)."""
    defaults = {k: v for k, v in (("N", default_N), ("eps", default_eps)) if v is not None}
    families = tuple(default_families or (DEFAULT_FAMILIES if many else DEFAULT_FAMILIES[:1]))
    options = FamilyOptions(many, families, defaults, with_parameters, max_integer, max_exponent)
    parser.add_argument(
        "--family",
        action="append" if many else "store",
        metavar="NAME",
        help="a built-in family (`gemsym list` shows them) or module:attribute (a module in "
        "the current folder or on sys.path; the attribute an Activation or a function "
        "returning one)"
        + ("; repeatable" if many else "") + f"; default: {', '.join(families)}",
    )
    parser.set_defaults(_family_options=options, _families=None)
    parser.epilog = limits_text(max_integer, max_exponent)
    if not with_parameters:
        return
    parser.add_argument(
        "--param", action="append", metavar="NAME=VALUE", default=None,
        help="set any parameter of the selected families (repeatable): a number such as 2, "
        "-1e9, 0.5 or 1/3, or 'symbolic'; a name none of them has is an error",
    )
    for name in SHORTHANDS:
        default = defaults.get(name)
        parser.add_argument(
            f"--{name}", dest=_DEST + name, default=None, metavar="VALUE",
            help=f"shorthand for --param {name}=VALUE" + (f" (default: {default})" if default else ""),
        )
    hooks = getattr(parser, "prepare_hooks", None)
    if hooks is not None:
        hooks.append(prepare_family_options)


class _Malformed(Exception):
    pass


class _PreParser(argparse.ArgumentParser):
    """Reads ``--family`` only; leaves every complaint to the command's own parser."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise _Malformed(message)


def _family_names(options: FamilyOptions, raw) -> list[str]:
    if raw is None:
        return list(options.default_families)
    return list(raw) if isinstance(raw, list) else [raw]


def prepare_family_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """Before the real parse: read ``--family``, load those families once, and give
    each of their parameters a ``--NAME`` option (with its domain in ``--help``) unless
    the command already has an option of that name.  Bad family names raise
    :class:`ParameterError` (exit 2)."""
    options: FamilyOptions = parser.get_default("_family_options")
    pre = _PreParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--family", action="append" if options.many else "store")
    try:
        known, _ = pre.parse_known_args([a for a in argv if a not in {"-h", "--help"}])
    except _Malformed:
        return  # the real parse reports it, in its own words
    families = [get_family(n) for n in _family_names(options, known.family)]
    parser.set_defaults(_families=families)
    if not options.with_parameters:
        return
    taken = {s for a in parser._actions for s in a.option_strings}
    owners: dict[str, list[Activation]] = {}
    for act in families:
        for p in act.parameters:
            owners.setdefault(p.name, []).append(act)
    for name, acts in owners.items():
        # one clause per family: the same name may have different domains (alpha)
        text = "; ".join(
            f"{a.name}: " + (f"{p.description}, " if p.description else "") + p.domain_text
            for a in acts for p in [a.parameter(name)]
        ) + ", or 'symbolic'"
        if f"--{name}" in taken:
            for action in parser._actions:
                if f"--{name}" in action.option_strings and action.dest == _DEST + name:
                    action.help = f"{text}; " + (action.help or "")
            continue
        if not _OPTION_NAME.fullmatch(name):
            continue
        parser.add_argument(f"--{name}", dest=_DEST + name, default=None, metavar="VALUE",
                            help=text + f"; same as --param {name}=VALUE")


def given_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The parameter values typed on the command line, by parameter name (shorthands,
    ``--NAME`` and ``--param NAME=VALUE`` together; a name given twice is an error)."""
    values: dict[str, str] = {}
    for key, raw in vars(args).items():
        if key.startswith(_DEST) and raw is not None:
            values[key[len(_DEST):]] = raw
    for item in getattr(args, "param", None) or ():
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name or not raw.strip():
            raise ParameterError(f"--param must be NAME=VALUE, such as --param b=1/3 (got {item!r})")
        if name in values:
            raise ParameterError(f"parameter {name!r} is given twice (got {values[name]!r} and {raw!r})")
        values[name] = raw
    return values


def selected_families(args: argparse.Namespace) -> list[Activation]:
    """The families named by ``--family`` (or the command's defaults), after checking
    that every parameter given on the command line belongs to at least one of them."""
    families = getattr(args, "_families", None)
    options: FamilyOptions | None = getattr(args, "_family_options", None)
    if families is None:
        names = _family_names(options or FamilyOptions(), getattr(args, "family", None))
        families = [get_family(n) for n in names]
    have = {p.name for act in families for p in act.parameters}
    for name in given_parameters(args):
        if name not in have:
            which = ", ".join(act.name for act in families)
            raise ParameterError(
                f"parameter {name!r}: no selected family has it ({which}); their parameters: "
                + (", ".join(sorted(have)) or "none")
            )
    return families


def bind_from_args(act: Activation, args: argparse.Namespace, defaults: bool = False) -> Activation:
    """``act`` with the parameters given on the command line that it has (values
    checked against their domains), the command's defaults for the others it has, and,
    when ``defaults``, the family's defaults for the rest.  The bound family must be
    small enough for the command's limits (:func:`check_work`)."""
    given = given_parameters(args)
    options: FamilyOptions | None = getattr(args, "_family_options", None)
    options = options or FamilyOptions()
    command_defaults = options.parameter_defaults
    values = {}
    for name in act.parameter_names:
        raw = given.get(name, command_defaults.get(name))
        if raw is not None:
            values[name] = raw
    bound = act.bind(**values)
    if defaults:
        bound = bound.with_defaults()
    check_work(bound, options.max_integer, options.max_exponent)
    return bound


def bound_families(args: argparse.Namespace, defaults: bool = False) -> list[Activation]:
    """Every selected family bound as by :func:`bind_from_args`, all of them before any
    analysis starts: a bad value for the last family is refused at once."""
    return [bind_from_args(f, args, defaults=defaults) for f in selected_families(args)]


def _numeric_exponents(expr: sp.Basic):
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_Number:
            yield node.exp


def largest_exponent(act: Activation) -> int:
    """The largest |numeric exponent| in the branches of ``act`` (at least 1): the degree
    that expansions and derivatives of the branches grow with."""
    exps = [abs(e) for b in act.branches for e in _numeric_exponents(b.expr)]
    return max([1, *(int(sp.ceiling(e)) for e in exps)])


def check_work(act: Activation, max_integer: int = MAX_INTEGER_PARAMETER,
               max_exponent: int = MAX_EXPONENT) -> None:
    """Refuse (``ValueError``, exit 2) an activation too large for a command to finish
    in seconds: an integer parameter above ``max_integer``, a numeric exponent above
    ``max_exponent`` in absolute value, or a branch of more than :data:`MAX_OPERATIONS`
    operations (the bounds are those of :mod:`gemsym.limits`)."""
    for p in act.parameters:
        v = act.values.get(p.name)
        if p.integer and v is not None and v.is_Integer and abs(v) > max_integer:
            raise ParameterError(
                f"{p.name} = {v} is above the limit {max_integer} of this command "
                f"(gemsym.limits.MAX_INTEGER_PARAMETER*)"
            )
    for b in act.branches:
        for e in _numeric_exponents(b.expr):
            if abs(e) > max_exponent:
                raise ParameterError(
                    f"family {act.name!r}: exponent {e} in a branch is above the limit "
                    f"{max_exponent} of this command (gemsym.limits.MAX_EXPONENT*)"
                )
        if sp.count_ops(b.expr) > MAX_OPERATIONS:
            raise ParameterError(
                f"family {act.name!r}: a branch has more than {MAX_OPERATIONS} operations "
                f"(gemsym.limits.MAX_OPERATIONS)"
            )


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


def check_known(what: str, values: Iterable[str], allowed: Iterable[str]) -> None:
    """Every value is one of ``allowed``; else :class:`ParameterError` naming ``what``."""
    allowed = list(allowed)
    for v in values:
        if v not in allowed:
            raise ParameterError(f"{what} must be one of {', '.join(allowed)} (got {v!r})")
