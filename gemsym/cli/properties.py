"""``gemsym properties``: monotonicity, minima, range of f', Lipschitz constant, bounds
and asymptotes of each family (parameters not given take their defaults; ``symbolic``
keeps N or eps symbolic)."""

from __future__ import annotations

import argparse
import sys

import sympy as sp

from ..evaluate import Imprecise, certified
from ..shape import ShapeProperties, Undecided, shape_properties
from .common import add_family_arguments, bound_families, expr_json, expr_text, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_family_arguments(parser, default_N="1", default_eps=None)
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def _numeric(e) -> str | None:
    """15 significant digits when the expression is a finite number whose 30 digits
    are certified (none when cancellation leaves fewer: the exact form says it all)."""
    if e is None:
        return None
    e = sp.sympify(e)
    if isinstance(e, sp.Set) or e.free_symbols or e in (sp.oo, -sp.oo) or e.is_real is False:
        return None
    try:
        return sp.Float(certified(e, 30), 30).__format__(".15g")
    except (Imprecise, ValueError):
        return None


def _where(e) -> str | list | None:
    if isinstance(e, sp.Interval):
        return [expr_text(e.inf), expr_text(e.sup)]
    return expr_text(e)


def record(props: ShapeProperties) -> dict:
    """The JSON object of one family."""
    act = props.activation
    return {
        "family": act.name,
        "N": expr_json(act.values.get("N")) if "N" in act.parameter_names else None,
        "params": {k: expr_text(v) for k, v in act.values.items()},
        "monotonicity": [
            {"interval": [expr_text(i.inf), expr_text(i.sup)], "behaviour": label,
             "open": [bool(i.left_open) or i.inf == -sp.oo, bool(i.right_open) or i.sup == sp.oo]}
            for i, label in props.monotonicity
        ],
        "minima": [
            {"location": _where(loc), "value": expr_text(val),
             "location_numeric": None if isinstance(loc, sp.Set) else _numeric(loc),
             "value_numeric": _numeric(val)}
            for loc, val in props.minima
        ],
        "derivative_range": [expr_text(v) for v in props.derivative_range],
        "derivative_range_numeric": [_numeric(v) for v in props.derivative_range],
        "monotone": props.monotone,
        "lipschitz": expr_text(props.lipschitz),
        "lipschitz_numeric": _numeric(props.lipschitz),
        "lipschitz_point": _where(props.lipschitz_point),
        "lipschitz_attained": props.lipschitz_attained if props.lipschitz is not None else None,
        "lipschitz_stretch": None if props.lipschitz_stretch is None
        else _where(props.lipschitz_stretch),
        "not_lipschitz": props.lipschitz_reason or None,
        "bounds": [expr_text(v) for v in props.bounds],
        "bounds_attained": list(props.bounds_attained),
        "asymptotes": {k: expr_text(v) for k, v in sorted(props.asymptotes.items())},
        "breakpoints": [{"x": expr_text(bp.point), "kind": bp.kind, "cause": bp.cause,
                         "left_limit": expr_text(bp.left), "right_limit": expr_text(bp.right)}
                        for bp in props.breakpoints],
    }


def _interval_text(lo, hi, open_ends=(False, False)) -> str:
    left = "(" if lo == "-inf" or open_ends[0] else "["
    right = ")" if hi == "inf" or open_ends[1] else "]"
    return f"{left}{lo}, {hi}{right}"


def _with_number(text: str | None, number: str | None) -> str:
    """``exact = 15 digits``; only the digits when the exact form is a decimal itself."""
    if number is None or text is None:
        return str(text)
    if sp.sympify(text).is_Float:
        return number
    if sp.sympify(text).is_Rational and sp.sympify(text).is_Integer:
        return text
    return f"{text} = {number}"


def _point_text(p) -> str:
    if p is None or isinstance(p, sp.Set):
        return str(_where(p))
    return _with_number(expr_text(p), _numeric(p))


def text_lines(props: ShapeProperties) -> list[str]:
    r = record(props)
    lines = [props.activation.label]
    for bp in r["breakpoints"]:
        if bp["kind"] != "continuous":
            lines.append(f"  {bp['kind']:<11} at x = {bp['x']} ({bp['cause']}): f -> "
                         f"{bp['left_limit']} from the left, {bp['right_limit']} from the right")
    for m in r["monotonicity"]:
        lines.append(f"  {m['behaviour']:<11} on {_interval_text(*m['interval'], m['open'])}")
    lines.append(f"  monotone    {r['monotone'] or 'no'}")
    for m in r["minima"]:
        loc = m["location"]
        loc = _interval_text(*loc) if isinstance(loc, list) else _with_number(loc, m["location_numeric"])
        lines.append(f"  minimum     at x = {loc}: f = {_with_number(m['value'], m['value_numeric'])}")
    if not r["minima"]:
        lines.append("  minimum     none")
    lo, hi = r["derivative_range"]
    nlo, nhi = r["derivative_range_numeric"]
    lines.append(f"  f' range    inf = {_with_number(lo, nlo)}, sup = {_with_number(hi, nhi)}")
    if props.lipschitz is None:
        lines.append(f"  Lipschitz   none: {props.lipschitz_reason}")
    else:
        p, stretch = props.lipschitz_point, props.lipschitz_stretch
        if stretch is not None:
            where = f"at every x in {_interval_text(*_where(stretch), (True, True))}"
        elif props.lipschitz_attained:
            where = f"at x = {_point_text(p)}"
        elif p in (sp.oo, -sp.oo):
            where = f"approached as x -> {expr_text(p)}"
        else:
            where = (f"approached as x -> {_point_text(p)}{props.lipschitz_side}, not "
                     f"attained: f' does not exist at x = {expr_text(p)}")
        lines.append(f"  Lipschitz   sup|f'| = "
                     f"{_with_number(r['lipschitz'], r['lipschitz_numeric'])} ({where})")
    att = ["attained" if a else "not attained" for a in r["bounds_attained"]]
    lines.append(f"  bounds      inf f = {r['bounds'][0]} ({att[0]}), "
                 f"sup f = {r['bounds'][1]} ({att[1]})")
    for end in ("-oo", "+oo"):
        if end in r["asymptotes"]:
            lines.append(f"  asymptote   x -> {end}: y = {r['asymptotes'][end]}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every family's shape is decided, 3 (after the decided ones) when one
    cannot be: its reason goes to stderr and nothing is claimed for it."""
    results, status = [], 0
    for act in bound_families(args, defaults=True):
        try:
            results.append(shape_properties(act))
        except Undecided as exc:
            sys.stderr.write(f"gemsym properties: cannot decide for {act.label}: {exc}\n")
            status = 3
    if args.json:
        print_json([record(p) for p in results])
    else:
        for p in results:
            print("\n".join(text_lines(p)))
    return status
