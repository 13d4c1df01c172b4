"""``gemsym show``: the closed forms of a family (branches, gate, derivatives,
one-sided Taylor expansions at each junction, asymptotics), as text, LaTeX or JSON."""

from __future__ import annotations

import argparse

import sympy as sp

from ..activation import Activation
from ..closed_forms import Expansion, asymptotic, derivatives, expansion_expr, taylor_at_junction
from ..limits import MAX_DERIVATIVES, MAX_ORDER, check_count
from .common import add_family_arguments, bound_families, expr_text, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_family_arguments(parser, default_N="1", default_eps=None)
    parser.add_argument("--order", default="3",
                        help=f"terms per Taylor/asymptotic expansion, 1..{MAX_ORDER} (default 3)")
    parser.add_argument("--derivatives", default="2",
                        help=f"print f^(1) .. f^(K), K in 0..{MAX_DERIVATIVES} (default 2)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--latex", action="store_true", help="print LaTeX")
    out.add_argument("--json", action="store_true", help="print JSON (text and LaTeX of each form)")


def _count(name: str, raw: str, lo: int, hi: int) -> int:
    return check_count(f"--{name}", raw, lo, hi)


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
    return {"side": exp.side, "at": expr_text(exp.center), **_form(body), "remainder": o_text}


def describe(act: Activation, n_derivatives: int, order: int) -> dict:
    """Every closed form of ``act`` as text and LaTeX."""
    x = act.x
    rec: dict = {
        "family": act.name,
        "params": {k: expr_text(v) for k, v in act.values.items()},
        "branches": [{"interval": i, **_form(b.expr)} for i, b in zip(_intervals(act), act.branches)],
    }
    if act.gate is not None:
        rec["gate"] = [{"interval": i, **_form(g)} for i, g in zip(_intervals(act), act.gate)]
    rec["derivatives"] = [
        {"order": k, "branches": [{"interval": i, **_form(e)}
                                  for i, e in zip(_intervals(act), derivatives(act, k))]}
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


def run(args: argparse.Namespace) -> int:
    order = _count("order", args.order, 1, MAX_ORDER)
    n_der = _count("derivatives", args.derivatives, 0, MAX_DERIVATIVES)
    records = [describe(act, n_der, order) for act in bound_families(args)]
    if args.json:
        print_json(records)
        return 0
    for i, rec in enumerate(records):
        if i:
            print()
        _print_text(rec, "latex" if args.latex else "text")
    return 0
