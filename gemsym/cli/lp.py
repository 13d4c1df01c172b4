"""``gemsym lp-distance``: the L^p distance of a family to its limit (closed form,
finiteness condition, rate, value with an independent quadrature check)."""

from __future__ import annotations

import argparse
import sys

import mpmath
import sympy as sp

from ..limits import MAX_DPS, MAX_P, MAX_P_DENOMINATOR, check_count
from ..parameters import ParameterError, parse_value
from ..lp import LpDistance, lp_distance, parse_p
from ..lp.table import is_decided, table_results, table_text
from ..tables import FORMATS, Cell, Column, Table, latex_escape, render
from .common import (
    LIMITS_TEXT,
    add_family_arguments,
    bind_from_args,
    check_work,
    expr_json,
    expr_text,
    print_json,
    selected_families,
)

#: the value given to a limiting parameter that tends to 0 when --<param> is not given
SMALL_DEFAULT = "1/10000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_family_arguments(parser, default_N="1", default_eps=None, many=False,
                         default_families=("e-gem",))
    parser.add_argument("--p", default="2",
                        help=f"real number in [1, {MAX_P}] (a fraction n/d with d <= "
                        f"{MAX_P_DENOMINATOR}), 'inf' or 'symbolic' (default 2)")
    parser.add_argument("--dps", default="30",
                        help=f"decimal digits of the value, 5..{MAX_DPS} (default 30)")
    parser.add_argument("--no-check", action="store_true", help="skip the extra check (a second precision and splitting); the value printed "
                        "is always certified by an independent quadrature")
    parser.add_argument("--json", action="store_true", help="print a JSON object (--format json)")
    parser.add_argument("--format", default=None, choices=FORMATS,
                        help="text (default), json; with --table also markdown, latex (booktabs) "
                        "or csv")
    parser.add_argument("--table", action="store_true",
                        help="print the E-GEM table (N = 1, 2, 3; p = 1, 2, inf; eps = 1e-4) and Sqish")
    parser.epilog = (f"{LIMITS_TEXT} Defaults: family e-gem; a limiting parameter tending to 0 (eps) is "
                     f"{SMALL_DEFAULT}, the others take the family's defaults (Sqish: a=0, beta=1, gamma=1)")


def _bind(args: argparse.Namespace):
    (family,) = selected_families(args)
    act = bind_from_args(family, args)
    if act.limit is None:
        return family, act  # lp_distance names the families that have a limit
    name = act.limit.parameter
    if name not in act.values and act.limit.value == 0:
        act = act.bind(**{name: SMALL_DEFAULT})
    act = act.with_defaults()
    check_work(act)
    return family, act


def _p(raw: str) -> sp.Expr:
    """``--p`` within the limits: 'inf', 'symbolic', or a number 1 <= p <= MAX_P whose
    denominator is at most MAX_P_DENOMINATOR (|f - g|^p with p = 10^9 is not work that
    ends)."""
    try:
        value = parse_value("p", raw)
    except ParameterError:
        value = None  # 'inf', 'symbolic' or not a number: parse_p decides
    if value is not None and value >= 1:
        if value > MAX_P or value.q > MAX_P_DENOMINATOR:
            raise ParameterError(
                f"--p must be 'inf', 'symbolic' or a number in [1, {MAX_P}] with denominator "
                f"<= {MAX_P_DENOMINATOR} (got {raw!r}; limits in gemsym.limits)"
            )
    return parse_p(raw)


def record(r: LpDistance) -> dict:
    """The JSON object of one result: ``value`` is the certified digits only (a string),
    ``digits`` their number, ``check`` the independent methods and their agreement."""
    act = r.activation
    checks = None
    if r.value is not None:
        checks = [{"method": c.method, "rel_diff": mpmath.nstr(c.rel_diff, 3), "digits": c.digits}
                  for c in r.value.checks]
    return {
        "family": act.name,
        "N": expr_json(act.values.get("N")) if "N" in act.parameter_names else None,
        "params": {k: expr_text(v) for k, v in act.values.items()},
        "limit": r.limit.name,
        "parameter": r.parameter,
        "p": expr_text(r.p),
        "converges": r.converges,
        "finiteness": {"finite": r.finiteness.finite, "condition": expr_text(r.condition),
                       "reason": r.finiteness.reason},
        "value": None if r.value is None else r.value.text,
        "digits": None if r.value is None else r.value.digits,
        "value_source": None if r.value is None else r.value.source,
        "closed_form": expr_text(r.closed_form),
        "rate": expr_text(r.rate),
        "condition": expr_text(r.condition),
        "check": checks,
        "undecided": r.undecided,
        "reason": r.reason,
    }


def _text(r: LpDistance) -> list[str]:
    p = "inf" if r.p == sp.oo else str(r.p)
    norm = f"||f - {r.limit.name}||_{p}"
    lines = [f"{r.activation.label} vs {r.limit.name} as {r.parameter} -> "
             f"{expr_text(r.activation.limit.value)}, p = {p}"]
    cond = ("every p >= 1" if r.condition == sp.true else
            "no finite p" if r.condition == sp.false else str(r.condition))
    if r.converges is False:
        lines.append(f"  {norm} = infinity (finite iff {cond})")
        lines.append(f"  why: {r.reason}")
        return lines
    if r.converges is None and r.undecided is not None:
        lines.append(f"  finite for:  not decided (finite iff {cond})")
    else:
        lines.append(f"  finite for:  {cond}")
    lines.append(f"  closed form: {norm} = {r.closed_form}" if r.closed_form is not None
                 else "  closed form: none found (see reason)"
                 + ("; numerical value below" if r.value is not None else ""))
    if r.rate is not None:
        lines.append(f"  rate:        {norm} ~ C * {r.parameter}^({r.rate})")
    if r.value is not None:
        lines.append(f"  value:       {r.value.text}  ({r.value.digits} digits certified)")
        for c in r.value.checks:
            lines.append(f"  check:       {c.method}")
            lines.append(f"               agrees to {c.digits} digits "
                         f"(relative difference {mpmath.nstr(c.rel_diff, 3)})")
    if r.undecided is not None:
        lines.append(f"  undecided:   {r.undecided}")
    lines.append(f"  reason:      {r.reason}")
    return lines


def _table(results: list[LpDistance]) -> Table:
    """The rows of :func:`gemsym.lp.table.table_results` as a
    :class:`~gemsym.tables.Table`: values are the certified digits; what is not certified
    is an em dash with its reason."""
    columns = (Column("family", "family"), Column("p", "p", "$p$"),
               Column("value", "||f - limit||_p", r"$\|f - g\|_p$"),
               Column("digits", "certified digits"),
               Column("closed_form", "closed form"), Column("rate", "rate", "rate"))
    rows = []
    for r in results:
        act = r.activation
        ptext = "inf" if r.p == sp.oo else str(r.p)
        family = Cell(f"{act.label} vs {r.limit.name}",
                      f"${act.title}$ ({latex_escape(', '.join(f'{k}={v}' for k, v in act.values.items()))})",
                      act.label)
        pcell = Cell(ptext, r"$\infty$" if r.p == sp.oo else f"${ptext}$", ptext)
        if r.converges is False:
            value = Cell("inf", r"$\infty$", "inf")
        elif r.value is None:
            value = Cell.missing(f"{act.label}, p = {ptext}: "
                                 f"{r.undecided or 'no certified value'}")
        else:
            value = Cell(r.value.text, f"${r.value.text}$", r.value.text)
        digits = Cell(str(r.value.digits) if r.value else "", None,
                      r.value.digits if r.value else None)
        closed = (Cell("", None, None) if r.converges is False
                  else Cell("none (numerical)", None, None) if r.closed_form is None
                  else Cell(str(r.closed_form), f"${sp.latex(r.closed_form)}$", str(r.closed_form)))
        rate = (Cell("", None, None) if r.rate is None
                else Cell(f"{r.parameter}^({r.rate})",
                          f"${sp.latex(act.parameter(r.parameter).symbol)}^{{{sp.latex(r.rate)}}}$",
                          str(r.rate)))
        rows.append((family, pcell, value, digits, closed, rate))
    return Table(columns, tuple(rows), caption="L^p distances to the limit")


def run(args: argparse.Namespace) -> int:
    dps = check_count("--dps", args.dps, 5, MAX_DPS)
    fmt = args.format or ("json" if args.json else "text")
    if args.table:
        results = table_results(dps=dps)
        print(table_text(results) if fmt == "text" else render(_table(results), fmt))
        return 0 if all(is_decided(r) for r in results) else 3
    if fmt not in ("text", "json"):
        raise ParameterError(f"--format {fmt} needs --table (one result prints as text or json)")
    p = _p(args.p)
    family, act = _bind(args)
    r = lp_distance(act, p, dps=dps, check=not args.no_check, unbound=family)
    if fmt == "json":
        print_json(record(r))
    else:
        print("\n".join(_text(r)))
    if r.undecided is not None:
        # cannot decide: said on stdout in full, one line on stderr, exit status 3
        sys.stderr.write(f"gemsym lp-distance: cannot decide: {r.undecided}\n")
        return 3
    return 0
