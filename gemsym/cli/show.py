"""``gemsym show``: the closed forms of a family (branches, gate, derivatives,
one-sided Taylor expansions at each junction, asymptotics), as text, LaTeX or JSON."""

from __future__ import annotations

import argparse

import sympy as sp

from ..activation import Activation
from ..closed_forms import Expansion, asymptotic, derivatives, expansion_expr, taylor_at_junction
from ..limits import (
    MAX_DERIVATIVE_DEGREE,
    MAX_DERIVATIVES,
    MAX_EXPANSION_DEGREE,
    MAX_ORDER,
    check_count,
)
from .common import add_family_arguments, bound_families, expr_text, largest_exponent, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_family_arguments(parser, default_N="1", default_eps=None)
    parser.add_argument("--order", default="3",
                        help=f"terms per Taylor/asymptotic expansion, 1..{MAX_ORDER} (default 3)")
    parser.add_argument("--derivatives", default="2",
                        help=f"print f^(1) .. f^(K), K in 0..{MAX_DERIVATIVES} (default 2)")
    parser.epilog += (f" show: --order times the largest exponent in a branch (2N+1 for "
                      f"GEM) <= {MAX_EXPANSION_DEGREE}, --derivatives times it <= "
                      f"{MAX_DERIVATIVE_DEGREE}.")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--latex", action="store_true", help="print LaTeX")
    out.add_argument("--json", action="store_true", help="print JSON (text and LaTeX of each form)")
    parser.add_argument("--remainders", action="store_true",
                        help="with --latex: end each expansion with its O(...) remainder "
                        "(default: an ellipsis)")


def _count(name: str, raw: str, lo: int, hi: int) -> int:
    return check_count(f"--{name}", raw, lo, hi)


def _check_degree(act: Activation, order: int, n_der: int) -> None:
    """Expansions and derivatives grow with the branches' exponents: refuse at once what
    would take minutes (the bounds of :mod:`gemsym.limits`)."""
    e = largest_exponent(act)
    for option, value, bound, name in (
        ("--order", order, MAX_EXPANSION_DEGREE, "MAX_EXPANSION_DEGREE"),
        ("--derivatives", n_der, MAX_DERIVATIVE_DEGREE, "MAX_DERIVATIVE_DEGREE"),
    ):
        if value * e > bound:
            raise ValueError(
                f"{option} {value} with exponent {e} in a branch of {act.label}: {option} "
                f"times the largest exponent must be <= {bound} (gemsym.limits.{name}); "
                f"use {option} {bound // e} or less"
            )


def _intervals(act: Activation) -> list[str]:
    out = []
    for b in act.branches:
        if b.lower == -sp.oo and b.upper == sp.oo:
            out.append("all x")
        elif b.lower == -sp.oo:
            out.append(f"x < {b.upper}")
        elif b.upper == sp.oo:
            out.append(f"x > {b.lower}")
        else:
            out.append(f"{b.lower} < x < {b.upper}")
    return out


def _intervals_latex(act: Activation) -> list[str]:
    x = sp.latex(act.x)
    out = []
    for b in act.branches:
        if b.lower == -sp.oo and b.upper == sp.oo:
            out.append(r"x \in \mathbb{R}".replace("x", x, 1))
        elif b.lower == -sp.oo:
            out.append(f"{x} < {sp.latex(b.upper)}")
        elif b.upper == sp.oo:
            out.append(f"{x} > {sp.latex(b.lower)}")
        else:
            out.append(f"{sp.latex(b.lower)} < {x} < {sp.latex(b.upper)}")
    return out


def _form(e: sp.Expr) -> dict:
    return {"text": expr_text(e), "latex": sp.latex(e)}


def _expansion_record(exp: Expansion, x: sp.Symbol) -> dict:
    body = expansion_expr(exp, x)
    if not exp.exact:
        o_text = "exponentially small"
    elif exp.prec in (sp.oo, -sp.oo):
        o_text = "exact"
    else:
        base = x if exp.center in (sp.oo, -sp.oo) else x - exp.center
        o_text = f"O({base**exp.prec})"
    o_latex = None
    if o_text.startswith("O("):
        o_latex = rf"O\left({sp.latex(base ** exp.prec)}\right)"
    elif o_text != "exact":
        o_latex = rf"\text{{{o_text}}}"
    return {"side": exp.side, "at": expr_text(exp.center), "at_latex": sp.latex(exp.center),
            **_form(body), "remainder": o_text, "remainder_latex": o_latex}


def describe(act: Activation, n_derivatives: int, order: int) -> dict:
    """Every closed form of ``act`` as text and LaTeX."""
    x = act.x
    rec: dict = {
        "family": act.name,
        "params": {k: expr_text(v) for k, v in act.values.items()},
        "branches": [{"interval": i, "interval_latex": t, **_form(b.expr)}
                     for i, t, b in zip(_intervals(act), _intervals_latex(act), act.branches)],
    }
    if act.gate is not None:
        rec["gate"] = [{"interval": i, "interval_latex": t, **_form(g)}
                       for i, t, g in zip(_intervals(act), _intervals_latex(act), act.gate)]
    rec["derivatives"] = [
        {"order": k, "branches": [{"interval": i, "interval_latex": t, **_form(e)}
                                  for i, t, e in zip(_intervals(act), _intervals_latex(act),
                                                     derivatives(act, k))]}
        for k in range(1, n_derivatives + 1)
    ]
    rec["taylor"] = []
    for idx, c in enumerate(act.junctions):
        left, right = taylor_at_junction(act, idx, order)
        rec["taylor"].append({"junction": expr_text(c), "left": _expansion_record(left, x),
                              "right": _expansion_record(right, x)})
    rec["asymptotics"] = [_expansion_record(asymptotic(act, s, order), x) for s in ("-", "+")]
    return rec


def _print_text(rec: dict, key: str) -> None:
    params = ", ".join(f"{k}={v}" for k, v in rec["params"].items())
    print(f"{rec['family']}({params})" if params else rec["family"])

    def pieces(items):
        for it in items:
            print(f"    {it[key]:<60}  for {it['interval']}")

    print("  f(x) =")
    pieces(rec["branches"])
    if "gate" in rec:
        print("  gate g(x), f = x g(x):")
        pieces(rec["gate"])
    for d in rec["derivatives"]:
        print(f"  f^({d['order']})(x) =")
        pieces(d["branches"])
    for t in rec["taylor"]:
        print(f"  Taylor at x = {t['junction']}:")
        for side, word in (("left", "from the left "), ("right", "from the right")):
            e = t[side]
            print(f"    {word}: {e[key]}   [{e['remainder']}]")
    for a in rec["asymptotics"]:
        print(f"  as x -> {a['at']}: {a[key]}   [{a['remainder']}]")


def _cases(lhs: str, items: list[dict]) -> str:
    """``lhs = <expr>`` for one piece, else a ``cases`` environment."""
    if len(items) == 1:
        return f"{lhs} = {items[0]['latex']}"
    rows = " \\\\\n".join(f"  {it['latex']} & \\text{{if }} {it['interval_latex']}" for it in items)
    return f"{lhs} = \\begin{{cases}}\n{rows}\n\\end{{cases}}"


def _series(lhs: str, e: dict, where: str, remainders: bool) -> str:
    tail = ""
    if e["remainder_latex"]:  # not exact: the remainder, or an ellipsis standing for it
        tail = f" + {e['remainder_latex']}" if remainders else r" + \dotsb"
    return f"{lhs} = {e['latex']}{tail} \\quad ({where})"


def latex_lines(rec: dict, remainders: bool = False) -> list[str]:
    """Display-math LaTeX of one record: f, its gate and derivatives as ``cases``, the
    expansions without their O(...) remainders unless ``remainders``."""
    params = ", ".join(f"{k}={v}" for k, v in rec["params"].items())
    out = [f"% {rec['family']}" + (f" ({params})" if params else "") + r" -- needs \usepackage{amsmath}",
           r"\begin{align*}"]
    body = [_cases("f(x)", rec["branches"])]
    if "gate" in rec:
        body.append(_cases("g(x)", rec["gate"]))
    for d in rec["derivatives"]:
        body.append(_cases(f"f^{{({d['order']})}}(x)", d["branches"]))
    for t in rec["taylor"]:
        for side, sign in (("left", "-"), ("right", "+")):
            e = t[side]
            body.append(_series("f(x)", e, f"x \\to {e['at_latex']}^{sign}", remainders))
    for a in rec["asymptotics"]:
        body.append(_series("f(x)", a, f"x \\to {a['at_latex']}", remainders))
    out.append(" \\\\\n".join(line.replace(" = ", " &= ", 1) for line in body))
    out.append(r"\end{align*}")
    return out


def run(args: argparse.Namespace) -> int:
    order = _count("order", args.order, 1, MAX_ORDER)
    n_der = _count("derivatives", args.derivatives, 0, MAX_DERIVATIVES)
    acts = bound_families(args)
    for act in acts:
        _check_degree(act, order, n_der)
    records = [describe(act, n_der, order) for act in acts]
    if args.json:
        print_json(records)
        return 0
    for i, rec in enumerate(records):
        if i:
            print()
        if args.latex:
            print("\n".join(latex_lines(rec, args.remainders)))
        else:
            _print_text(rec, "text")
    return 0
