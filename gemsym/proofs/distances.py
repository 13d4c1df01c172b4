"""Theorems on the L^p distance between a family and its limit, formatted from
:func:`gemsym.lp.lp_distance` (symbolic N, eps, gamma and p where it applies),
with concrete instances whose values the same call cross-checked by quadrature."""

from __future__ import annotations

import mpmath
import sympy as sp

from ..families import e_gem, se_gem, sqish
from ..lp import P, lp_distance
from .render import Theorem, display, expr

__all__ = ["distance_theorem", "PLANS"]

#: slug -> (family factory, symbolic bindings, p values, concrete instances (params, p))
PLANS = {
    "lp-e-gem": (e_gem, {}, ("symbolic", "inf"), [
        ({"N": 2, "eps": "1e-4"}, "1"), ({"N": 1, "eps": "1/100"}, "2"),
        ({"N": 3, "eps": "1/10"}, "inf"), ({"N": 1, "eps": "1/100"}, "1")]),
    "lp-se-gem": (se_gem, {}, ("symbolic", "inf"), [
        ({"N": 1, "eps": "1e-4"}, "2"), ({"N": 2, "eps": "1/10"}, "inf"),
        ({"N": 1, "eps": "1/10"}, "1")]),
    "lp-sqish": (sqish, {"a": 0, "beta": 1}, ("1", "2", "inf", "symbolic"), [
        ({"a": 0, "beta": 1, "gamma": 1}, "1"), ({"a": 0, "beta": 1, "gamma": 10}, "2"),
        ({"a": 0, "beta": 1, "gamma": 2}, "inf")]),
}


def _p_tex(p: sp.Expr) -> str:
    return "\\infty" if p == sp.oo else sp.latex(p)


def _norm(p: sp.Expr, name: str, limit: str) -> str:
    return f"\\|{name} - {limit}\\|_{{{_p_tex(p)}}}"


def _num(v, digits: int = 20) -> str | None:
    return None if v is None else mpmath.nstr(mpmath.mpf(v), digits)


def _certified(r) -> str | None:
    """The certified value, to at most 20 digits (all of them certified)."""
    return None if r.value is None else _num(r.value.value, min(20, r.value.digits))


def _below(rel) -> str:
    """A power of ten above the relative difference (at least 1e-30): deterministic text."""
    rel = max(mpmath.mpf(rel), mpmath.mpf(10) ** -30)
    return f"1e{int(mpmath.ceil(mpmath.log10(rel)))}"


def distance_theorem(slug: str, plan: tuple | None = None) -> Theorem:
    """The L^p theorem ``slug`` of :data:`PLANS`, or of ``plan`` (same shape: factory,
    parameters bound for the symbolic derivation, p values, instances).  With ``plan``,
    a p whose finiteness is undecided and an instance whose value is not certified are
    left out (never written as a claim)."""
    make, symbolic_values, ps, instances = PLANS[slug] if plan is None else plan
    act = make().bind(**symbolic_values)
    lam_name = act.limit.parameter
    lam = act.parameter(lam_name).symbol
    name, limit = act.title, act.limit.function.title
    direction = f"{sp.latex(lam)} \\to {sp.latex(act.limit.value)}"
    results = [lp_distance(act, p) for p in ps]
    if plan is not None:
        results = [r for r in results if r.converges is not None]
        if not results:
            raise ValueError(f"{act.name}: the finiteness of the distance is not decided")
    statement_parts, steps, records = [], [], []
    fixed = ", ".join(f"{sp.latex(act.parameter(k).symbol)} = {v}" for k, v in symbolic_values.items())
    for r in results:
        norm = _norm(r.p, name, limit)
        condition = r.condition
        if plan is not None and r.p != P:  # a concrete p: the condition on p is decided
            condition = sp.sympify(condition).subs(P, r.p)
        if r.converges is False:
            text = f"${norm} = \\infty$ for all admissible parameters"
        else:
            if condition == sp.true:
                text = "" if r.closed_form is not None else f"${norm}$ is finite for all parameters and"
            else:
                text = f"${norm}$ is finite if and only if ${sp.latex(condition)}$, and then"
            if r.closed_form is not None:
                text += f"\n\n$$\n{norm} = {sp.latex(r.closed_form)}\n$$\n\n"
            else:
                text += " has no closed form found by SymPy; "
            if r.rate is not None:
                text += (("which is" if r.closed_form is not None else "it is")
                         + f" $\\Theta({sp.latex(lam)}^{{{sp.latex(r.rate)}}})$ as ${direction}$")
        statement_parts.append(text)
        steps.append(f"$p = {_p_tex(r.p)}$: " + "; ".join(r.reason.split("; ")) + ".")
        records.append({"p": expr(r.p), "converges": r.converges, "condition": expr(r.condition),
                        "closed_form": expr(r.closed_form), "rate": expr(r.rate),
                        "rate_parameter": lam_name, "reason": r.reason})
    checks = []
    for values, p in instances:
        r = lp_distance(make().bind(**values), p)
        if plan is not None and (r.converges is None or (r.converges and r.check is None)
                                 or (r.converges and r.value is None)):
            continue
        checks.append({
            "params": {k: expr(sp.Rational(v) if isinstance(v, str) else v) for k, v in values.items()},
            "p": expr(r.p), "converges": r.converges,
            "value": _certified(r),
            "check_method": None if r.check is None else r.check.method,
            "check_value": None if r.check is None else _num(r.check.value, min(20, r.check.digits)),
            "check_rel_diff_below": None if r.check is None else _below(r.check.rel_diff),
        })
        steps.append(
            f"Instance ${', '.join(f'{sp.latex(act.parameter(k).symbol)} = {v}' for k, v in values.items())}$, $p = {_p_tex(r.p)}$: "
            + (f"value ${_certified(r)}$; independent check ({r.check.method}) agrees to "
               f"a relative difference below ${_below(r.check.rel_diff)}$."
               if r.converges and r.check else
               "infinite (" + r.reason.split("; ")[-1] + ")."))
    quantifier = ("For every integer $N \\ge 1$ and every $\\epsilon > 0$"
                  if "N" in act.parameter_names else f"For ${fixed}$ and every ${sp.latex(lam)} > 0$"
                  if fixed else f"For every ${sp.latex(lam)} > 0$")
    statement = (quantifier + " and real $p \\ge 1$ (with $p = \\infty$ the sup norm): "
                 + "; ".join(statement_parts) + ".")
    cert = {
        "kind": "lp-distance",
        "family": act.name,
        "limit": act.limit.function.name,
        "limit_parameter": lam_name,
        "limit_value": expr(act.limit.value),
        "fixed": {k: expr(v) for k, v in symbolic_values.items()},
        "branches": [{"interval": [expr(b.lower), expr(b.upper)], "expr": expr(b.expr)}
                     for b in act.branches],
        "limit_branches": [{"interval": [expr(b.lower), expr(b.upper)], "expr": expr(b.expr)}
                           for b in act.limit.function.branches],
        "results": records,
        "instances": checks,
    }
    sym = next(r for r in results if r.p == P) if any(r.p == P for r in results) else results[0]
    finite = "always finite" if sym.condition == sp.true else f"finite iff {expr(sym.condition)}"
    summary = (f"||{act.name} - {act.limit.function.name}||_p: {finite}, "
               f"rate {lam_name}^({expr(sym.rate)}) as {lam_name} -> {expr(act.limit.value)}")
    if plan is not None:
        summary = (f"||{act.name} - {act.limit.function.name}||_p as {lam_name} -> "
                   f"{expr(act.limit.value)}: " + "; ".join(
                       f"p = {expr(r.p)}: " + ("infinite" if not r.converges else
                                                f"rate {lam_name}^({expr(r.rate)})"
                                                if r.rate is not None else "finite")
                       for r in results))
    conclusion = (f"The distance of ${name}$ to ${limit}$ goes to $0$ as ${direction}$ at the "
                  "rates above wherever it is finite; closed forms and conditions hold for all "
                  "parameter values at once (symbolic derivation), and the instances were "
                  "cross-checked numerically in the same run.")
    return Theorem(slug, f"L^p distance of {act.name} to its limit", summary, statement,
                   tuple(steps), conclusion, cert)
