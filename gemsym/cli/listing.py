"""``gemsym list``: the built-in families (the catalogue of the literature and the GEM
family) with their definition, parameters, limit, claimed class and citation."""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction

import sympy as sp

from ..activation import Activation
from ..families import FAMILIES, get_family
from .common import print_json

__all__ = ["add_arguments", "run", "family_record", "class_text", "number_text"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--family",
        action="append",
        metavar="NAME",
        help="list only these (built-in name or module:attribute; repeatable); default: all "
        "built-in families",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def number_text(value: sp.Expr | None) -> str | None:
    """An exact number as text: a rational with a finite decimal expansion in decimal
    (``1/100`` -> ``0.01``), any other one as SymPy prints it (``1/3``, ``oo``)."""
    if value is None:
        return None
    value = sp.sympify(value)
    if value == sp.oo:
        return "inf"
    if value.is_Rational and not value.is_Integer:
        frac = Fraction(int(value.p), int(value.q))
        q, twos, fives = frac.denominator, 0, 0
        while q % 2 == 0:
            q, twos = q // 2, twos + 1
        while q % 5 == 0:
            q, fives = q // 5, fives + 1
        if q == 1:
            digits = max(twos, fives)
            scaled = abs(frac.numerator) * 10**digits // frac.denominator
            whole, part = divmod(scaled, 10**digits)
            sign = "-" if frac < 0 else ""
            return f"{sign}{whole}.{str(part).rjust(digits, '0').rstrip('0')}"
    return str(value)


def _names(act: Activation) -> dict:
    """Parameter symbols -> symbols spelled as on the command line (``epsilon`` -> ``eps``)."""
    return {p.symbol: sp.Symbol(p.name) for p in act.parameters if p.symbol.name != p.name}


def _text(act: Activation, e: sp.Expr) -> str:
    e = sp.sympify(e)
    return str(e.subs(_names(act))) if _names(act) else str(e)


def class_text(act: Activation, k: sp.Expr | None) -> str | None:
    """``C^0``, ``C^inf``, ``C^(2*N)``; a claim that depends on parameter values reads
    ``C^1 if alpha = 1, else C^0``."""
    if k is None:
        return None
    k = sp.sympify(k)
    if isinstance(k, sp.Piecewise):
        parts = []
        for value, cond in k.args:
            if cond == sp.true:
                parts.append(f"else {class_text(act, value)}")
            elif isinstance(cond, sp.Eq):
                lhs, rhs = _text(act, cond.lhs), _text(act, cond.rhs)
                parts.append(f"{class_text(act, value)} if {lhs} = {rhs}")
            else:
                parts.append(f"{class_text(act, value)} if {_text(act, cond)}")
        return ", ".join(parts)
    if k == sp.oo:
        return "C^inf"
    if k == -1:
        return "not continuous"
    return f"C^{k}" if k.is_Integer else f"C^({_text(act, k)})"


def _interval(act: Activation, lower: sp.Expr, upper: sp.Expr) -> str:
    x = act.x.name
    if lower == sp.S.NegativeInfinity and upper == sp.oo:
        return "all x"
    if lower == sp.S.NegativeInfinity:
        return f"{x} < {_text(act, upper)}"
    if upper == sp.oo:
        return f"{x} > {_text(act, lower)}"
    return f"{_text(act, lower)} < {x} < {_text(act, upper)}"


def definition_text(act: Activation) -> str:
    """The branches in one line: ``0 for x < 0; x for x > 0``."""
    if len(act.branches) == 1:
        return _text(act, act.branches[0].expr)
    return "; ".join(
        f"{_text(act, b.expr)} for {_interval(act, b.lower, b.upper)}" for b in act.branches
    )


def _limit_text(act: Activation) -> str | None:
    lim = act.limit
    if lim is None:
        return None
    arrow = "oo" if lim.value == sp.oo else number_text(lim.value)
    return f"{lim.function.name} as {lim.parameter} -> {arrow}"


def family_record(act: Activation) -> dict:
    """Everything ``gemsym list`` prints about one family, as JSON-ready values."""
    lim = act.limit
    return {
        "name": act.name,
        "title": act.title,
        "description": act.description,
        "definition": definition_text(act),
        "branches": [
            {"interval": _interval(act, b.lower, b.upper), "expr": _text(act, b.expr)}
            for b in act.branches
        ],
        "junctions": [_text(act, j) for j in act.junctions],
        "parameters": [
            {
                "name": p.name,
                "domain": p.domain_text,
                "default": number_text(p.default),
                "description": p.description,
            }
            for p in act.parameters
        ],
        "limit": None
        if lim is None
        else {
            "parameter": lim.parameter,
            "value": "inf" if lim.value == sp.oo else number_text(lim.value),
            "function": lim.function.name,
            "text": _limit_text(act),
        },
        "claimed_smoothness": class_text(act, act.claimed_smoothness),
        "citation": act.citation,
    }


def _text_block(rec: dict) -> list[str]:
    params = [
        f"{p['name']} = {p['default']} ({p['domain'].removeprefix('a ')}"
        + (f"; {p['description']})" if p["description"] else ")")
        for p in rec["parameters"]
    ] or ["none"]
    rows = [("f(x)", rec["definition"])]
    rows += [("parameters" if i == 0 else "", text) for i, text in enumerate(params)]
    rows += [
        ("limit", rec["limit"]["text"] if rec["limit"] else "none declared"),
        ("claimed", rec["claimed_smoothness"] or "no claim"),
        ("citation", rec["citation"] or "none given"),
    ]
    lines = [f"{rec['name']}: {rec['description']}" if rec["description"] else rec["name"]]
    lines += [f"  {key:<11} {value}".rstrip() for key, value in rows]
    return lines


def run(args: argparse.Namespace) -> int:
    names = args.family or list(FAMILIES)
    records = [family_record(get_family(name)) for name in names]
    if args.json:
        print_json(records)
        return 0
    out = []
    for rec in records:
        out += _text_block(rec) + [""]
    sys.stdout.write("\n".join(out[:-1]) + "\n")
    return 0
