"""``gemsym verify-smoothness``: the exact class at every junction of each family."""

from __future__ import annotations

import argparse
import sys

import sympy as sp

from ..limits import MAX_EXPONENT_VERIFY, MAX_INTEGER_PARAMETER_VERIFY
from ..smoothness import JunctionSmoothness, SmoothnessReport, smoothness
from .common import add_family_arguments, bound_families, expr_json, expr_text, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # the class is read off one-sided series whose cost hardly grows with N
    add_family_arguments(parser, default_N="1", default_eps="symbolic",
                         max_integer=MAX_INTEGER_PARAMETER_VERIFY, max_exponent=MAX_EXPONENT_VERIFY)
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def condition_text(cond: sp.Basic, names: dict) -> str:
    """``Eq(epsilon, 1)`` -> ``eps = 1`` (parameter names as the CLI spells them)."""
    cond = cond.subs(names)
    if isinstance(cond, sp.Eq):
        return f"{cond.lhs} = {cond.rhs}"
    return str(cond)


_RELATIONS = {sp.Eq: "=", sp.Ne: "!=", sp.Lt: "<", sp.Le: "<=", sp.Gt: ">", sp.Ge: ">="}


def condition_data(cond: sp.Basic, names: dict) -> dict:
    """A condition as data: {"lhs", "relation", "rhs"} for a comparison, {"all": [...]} /
    {"any": [...]} for a conjunction / disjunction, {"not": ...}, {"otherwise": true} for
    the last case of a ``Piecewise``; every expression as text."""
    cond = cond.subs(names) if names else cond
    if cond == sp.true:
        return {"otherwise": True}
    if type(cond) in _RELATIONS:
        return {"lhs": expr_text(cond.lhs), "relation": _RELATIONS[type(cond)],
                "rhs": expr_text(cond.rhs)}
    if isinstance(cond, (sp.And, sp.Or)):
        key = "all" if isinstance(cond, sp.And) else "any"
        return {key: [condition_data(c, {}) for c in cond.args]}
    if isinstance(cond, sp.Not):
        return {"not": condition_data(cond.args[0], {})}
    return {"text": expr_text(cond)}


def claimed_record(claimed, names: dict):
    """The claimed class as JSON: the integer (or "oo") when it holds for every parameter
    value, else {"text", "cases": [{"condition", "condition_data", "smoothness", "text"}]}
    with the cases in order, the first whose condition holds applying."""
    claimed = sp.sympify(claimed) if claimed is not None else None
    if not isinstance(claimed, sp.Piecewise):
        return expr_json(claimed)
    return {
        "text": _class_text(claimed, names),
        "cases": [{"condition": "otherwise" if c == sp.true else condition_text(c, names),
                   "condition_data": condition_data(c, names),
                   "smoothness": expr_json(v), "text": _class_text(v)}
                  for v, c in claimed.args],
    }


def _names(act) -> dict:
    return {p.symbol: sp.Symbol(p.name) for p in act.parameters}


def _param_text(act, name: str, value) -> str:
    return "symbolic" if value == act.parameter(name).symbol else expr_text(value)


def _case_list(j: JunctionSmoothness, names: dict) -> list[dict]:
    out = []
    for c in j.cases:
        out.append({
            "condition": condition_text(c.condition, names),
            "condition_data": condition_data(c.condition, names),
            "smoothness": expr_json(c.result.smoothness),
            "first_mismatch_order": expr_json(c.result.first_mismatch_order),
            "left": expr_text(c.result.left),
            "right": expr_text(c.result.right),
        })
    return out


def report_records(report: SmoothnessReport) -> list[dict]:
    act = report.activation
    records = []
    for j in report.junctions:
        records.append({
            "family": act.name,
            "N": (None if "N" not in act.values else
                  "symbolic" if act.values["N"] == act.parameter("N").symbol
                  else expr_json(act.values["N"])),
            "params": {k: _param_text(act, k, v) for k, v in act.values.items()},
            "junction": expr_text(j.junction),
            "smoothness": expr_json(j.smoothness),
            "cases": _case_list(j, _names(act)),
            "first_mismatch_order": expr_json(j.first_mismatch_order),
            "left": expr_text(j.left),
            "right": expr_text(j.right),
            "claimed": claimed_record(report.claimed, _names(act)),
            "holds": report.holds,
            "branches_regular": j.regular_branches,
        })
    return records


def _class_text(k, names: dict | None = None) -> str:
    k = sp.sympify(k)
    if isinstance(k, sp.Piecewise):  # a claim for special parameter values (ELU at alpha = 1)
        return ", ".join(f"else {_class_text(v)}" if c == sp.true
                         else f"{_class_text(v)} if {condition_text(c, names or {})}"
                         for v, c in k.args)
    if k == sp.oo:
        return "C^inf"
    if k == -1:
        return "not continuous"
    return f"C^{k}" if k.is_Integer else f"C^({k})"


def _text_lines(report: SmoothnessReport) -> list[str]:
    act = report.activation
    head = act.label
    lines = []
    for j in report.junctions:
        where = "no junction" if j.junction is None else f"junction x = {j.junction}"
        line = f"{head:<32} {where}: {_class_text(j.smoothness)}"
        if j.first_mismatch_order is not None:
            k, c = j.first_mismatch_order, j.junction
            line += (f"; first differing order {k}: f^({k})({c}-) = {expr_text(j.left)}, "
                     f"f^({k})({c}+) = {expr_text(j.right)}")
        lines.append(line)
        for case in j.cases:
            r = case.result
            extra = ""
            if r.first_mismatch_order is not None:
                extra = (f" (order {r.first_mismatch_order}: {expr_text(r.left)} vs "
                         f"{expr_text(r.right)})")
            cond = condition_text(case.condition, _names(act))
            lines.append(f"{'':<34}case {cond}: {_class_text(r.smoothness)}{extra}")
        if j.regular_branches is None:
            lines.append(f"{'':<34}(branch interiors: regularity not decided)")
        if report.claimed is not None:
            verdict = "holds" if report.holds else "FAILS"
            lines.append(f"{'':<34}claimed {_class_text(report.claimed, _names(act))}: "
                         f"{verdict}")
    return lines


def run(args: argparse.Namespace) -> int:
    reports = [smoothness(act) for act in bound_families(args)]
    records = [r for rep in reports for r in report_records(rep)]
    if args.json:
        print_json(records)
    else:
        for rep in reports:
            print("\n".join(_text_lines(rep)))
    failed = [r for r in records if r["holds"] is False]
    for r in failed:
        claimed = r["claimed"]["text"] if isinstance(r["claimed"], dict) else f"C^{r['claimed']}"
        print(f"claim fails: {r['family']} at x = {r['junction']}: claimed {claimed}, "
              f"found C^{r['smoothness']}", file=sys.stderr)
    return 1 if failed else 0
