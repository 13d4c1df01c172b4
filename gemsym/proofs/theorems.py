"""The theorems gemsym establishes, each built from what one analysis module returns:
smoothness classes (:mod:`gemsym.smoothness`), L^p distances to the limits
(:mod:`gemsym.lp`), Lipschitz constants and minima (:mod:`gemsym.shape`).

Builders only format; every number and expression comes from the analysis call.
"""

from __future__ import annotations

from typing import Callable

import mpmath
import sympy as sp

from ..activation import Activation
from ..evaluate import certified_mpf
from ..families import e_gem, gem, se_gem, sqish
from ..shape import monotonicity_and_minima, shape_properties
from ..smoothness import JunctionSmoothness, smoothness
from .render import Theorem, display, expr, tex

__all__ = ["THEOREMS"]

INSTANCE_N = (1, 2, 3, 4)


def _branches(act: Activation) -> list[dict]:
    return [{"interval": [expr(b.lower), expr(b.upper)], "expr": expr(b.expr)}
            for b in act.branches]


def _branch_tex(act: Activation) -> str:
    if len(act.branches) == 1:
        return display(sp.Eq(sp.Function("f")(act.x), act.branches[0].expr))
    rows = []
    for b in act.branches:
        if b.lower == -sp.oo:
            cond = f"x < {sp.latex(b.upper)}"
        elif b.upper == sp.oo:
            cond = f"x > {sp.latex(b.lower)}"
        else:
            cond = f"{sp.latex(b.lower)} < x < {sp.latex(b.upper)}"
        rows.append(f"{sp.latex(b.expr)} & \\text{{for }} {cond}")
    return "$$\nf(x) = \\begin{cases} " + " \\\\ ".join(rows) + " \\end{cases}\n$$"


def _class_tex(k) -> str:
    k = sp.sympify(k)
    return "C^\\infty" if k == sp.oo else f"C^{{{sp.latex(k)}}}"


def _param_tex(p) -> str:
    """'integer $N \\ge 1$', '$\\epsilon > 0$', '$a < 1$' from the parameter's domain."""
    sym, lo, hi = sp.latex(p.symbol), p.domain.inf, p.domain.sup
    if p.integer:
        return f"integer ${sym} \\ge {sp.latex(lo)}$"
    le, parts = "\\le", []
    if lo != -sp.oo:
        parts.append(f"{sp.latex(lo)} {'<' if p.domain.left_open else le} ")
    parts.append(sym)
    if hi != sp.oo:
        parts.append(f" {'<' if p.domain.right_open else le} {sp.latex(hi)}")
    return "$" + "".join(parts) + "$"


def _class_text(k) -> str:
    k = sp.sympify(k)
    if k == sp.oo:
        return "C^oo"
    return f"C^{k}" if k.is_Integer else f"C^({k})"


def _condition_text(c) -> str:
    if isinstance(c, sp.Eq):
        return f"{c.lhs} = {c.rhs}"
    return str(c)


def _junction_record(j: JunctionSmoothness) -> dict:
    return {
        "smoothness": expr(j.smoothness),
        "first_mismatch_order": expr(j.first_mismatch_order),
        "left_derivative": expr(j.left),
        "right_derivative": expr(j.right),
        "agreeing_nonzero_derivatives": [[expr(o), expr(l), expr(r)] for o, l, r in j.coefficients],
        "cases": [{"condition": expr(c.condition), **_junction_record(c.result)} for c in j.cases],
    }


def _instances(j: JunctionSmoothness, N: sp.Symbol) -> list[dict]:
    out = []
    for n in INSTANCE_N:
        def at(e):
            return None if e is None else expr(sp.simplify(sp.sympify(e).subs(N, n)))
        out.append({"N": n, "smoothness": at(j.smoothness),
                    "first_mismatch_order": at(j.first_mismatch_order),
                    "left_derivative": at(j.left), "right_derivative": at(j.right),
                    "cases": [{"condition": expr(c.condition),
                               "first_mismatch_order": at(c.result.first_mismatch_order),
                               "left_derivative": at(c.result.left),
                               "right_derivative": at(c.result.right)} for c in j.cases]})
    return out


def _for_all(act: Activation) -> tuple[str, str, str]:
    """The quantifier over the parameters as (Markdown prefix, summary suffix,
    conclusion suffix); GEM-type families keep their 'every N >= 1' wording."""
    params = ", ".join(_param_tex(p) for p in act.parameters)
    if "N" in act.parameter_names:
        return f"For every {params}: ", " for all N >= 1", ", for every $N \\ge 1$ at once"
    if params:
        return (f"For every {params}: ", " for all parameters",
                ", for every admissible parameter value at once")
    return "", "", ""


def _smoothness_theorem(make: Callable[[], Activation], slug: str, index: int = 0,
                        check: Callable[[Activation, JunctionSmoothness], dict] | None = None
                        ) -> Theorem:
    """The class of ``make()`` at its junction ``index`` (the whole line if it has a
    single branch).  ``check``, if given, re-checks the certificate numerically and
    returns what it compared (stored in the certificate as ``numeric_check``)."""
    act = make()
    report = smoothness(act)
    j = report.junctions[index]
    name = f"${act.title}$" if act.title else f"`{act.name}`"
    params = ", ".join(_param_tex(p) for p in act.parameters)
    quantifier, for_all, at_once = _for_all(act)
    steps = ["The branches, exactly as defined by the family:\n\n" + _branch_tex(act)]
    if j.junction is None:
        statement = (f"For all parameter values ({params}), {name} is " if params else
                     f"{name} is ") + f"${_class_tex(j.smoothness)}$ on $\\mathbb{{R}}$."
        steps.append("There is a single branch on the whole real line (no junction).")
        summary = (f"{act.name} is {_class_text(j.smoothness)}"
                   + (" for all parameters" if params else ""))
    else:
        k, c = j.first_mismatch_order, j.junction
        statement = (f"{quantifier}{name} is ${_class_tex(j.smoothness)}$ at "
                     f"$x = {sp.latex(c)}$ and not ${_class_tex(k)}$: "
                     f"$f^{{({sp.latex(k)})}}({sp.latex(c)}^-) = {sp.latex(j.left)} \\ne "
                     f"{sp.latex(j.right)} = f^{{({sp.latex(k)})}}({sp.latex(c)}^+)$")
        if j.smoothness == -1:  # C^{-1} written out: no class, f itself jumps (or blows up)
            statement = statement.replace(f"is ${_class_tex(-1)}$ at", "is not continuous at", 1)
            statement = statement.replace(f" and not ${_class_tex(k)}$:", ":", 1)
        for case in j.cases:
            statement += (f"; when ${sp.latex(case.condition)}$ the class is "
                          f"${_class_tex(case.result.smoothness)}$")
        statement += "."
        steps.append(
            "Each branch was expanded one-sidedly at the junction with exponents symbolic "
            "in the parameters (`gemsym.series`, exact arithmetic): "
            f"$f^{{(j)}}({sp.latex(c)}^+) = j!\\,[t^j] f_R({sp.latex(c)} + t)$ and "
            f"$f^{{(j)}}({sp.latex(c)}^-) = (-1)^j j!\\,[t^j] f_L({sp.latex(c)} - t)$, $t \\to 0^+$.")
        agree = ", ".join(f"$f^{{({sp.latex(o)})}} = {sp.latex(l)}$" for o, l, _ in j.coefficients)
        steps.append(
            f"All orders $j \\le {sp.latex(j.smoothness)}$ agree: "
            + (f"the nonzero one-sided derivatives below the mismatch are {agree} on both sides, "
               "all others vanish on both sides." if agree else
               "every one-sided derivative of order below the mismatch vanishes on both sides."))
        steps.append(
            f"First differing order ${sp.latex(k)}$: left ${sp.latex(j.left)}$, right "
            f"${sp.latex(j.right)}$; their difference is"
            f"\n\n{display(sp.simplify(j.right - j.left))}\n\n"
            "which vanishes for no admissible parameter value other than those of the cases.")
        for case in j.cases:
            r = case.result
            agree = ", ".join(f"$f^{{({sp.latex(o)})}} = {sp.latex(l)}$" for o, l, _ in r.coefficients)
            steps.append(
                f"Case ${sp.latex(case.condition)}$: the same comparison on the specialised "
                f"branches gives ${_class_tex(r.smoothness)}$"
                + (f" (nonzero derivatives that agree below the mismatch: {agree})" if agree else "")
                + f", first differing order ${sp.latex(r.first_mismatch_order)}$ with left "
                f"${sp.latex(r.left)}$ and right ${sp.latex(r.right)}$.")
        summary = (f"{act.name} is "
                   + ("not continuous" if j.smoothness == -1 else
                      f"{_class_text(j.smoothness)} (not {_class_text(k)})")
                   + f" at x = {expr(c)}{for_all}"
                   + "".join(f"; {_class_text(cs.result.smoothness)} when "
                             f"{_condition_text(cs.condition)}" for cs in j.cases))
    regular = {True: "no branch denominator vanishes inside its interval, so each branch is "
                     "$C^\\infty$ there",
               None: "the regularity of the branch interiors was not decided",
               False: "a branch denominator vanishes inside its interval"}[j.regular_branches]
    steps.append(regular[0].upper() + regular[1:] + ".")
    if report.claimed is not None:
        steps.append(f"Claimed class ${_class_tex(report.claimed)}$: "
                     + ("holds." if report.holds else "does **not** hold."))
    N = act.parameter("N").symbol if "N" in act.parameter_names else None
    cert = {
        "kind": "smoothness",
        "family": act.name,
        "branches": _branches(act),
        "junction": expr(j.junction),
        **_junction_record(j),
        "claimed": expr(report.claimed),
        "claim_holds": report.holds,
        "branches_regular": j.regular_branches,
        "instances": _instances(j, N) if N is not None and j.junction is not None else [],
    }
    if check is not None:
        cert["numeric_check"] = check(act, j)
    elsewhere = (" and $C^\\infty$ elsewhere" if len(report.junctions) == 1
                 and j.regular_branches else "")
    conclusion = statement if j.junction is None else (
        (f"{name} is not continuous at the junction" if j.smoothness == -1 else
         f"{name} is exactly ${_class_tex(j.smoothness)}$ at the junction")
        + (f" $x = {sp.latex(j.junction)}$" if len(report.junctions) > 1 else "")
        + "".join(f" (${_class_tex(cs.result.smoothness)}$ when ${sp.latex(cs.condition)}$)"
                  for cs in j.cases)
        + f"{elsewhere}{at_once}.")
    return Theorem(slug, f"Smoothness class of {act.name}", summary, statement,
                   tuple(steps), conclusion, cert)


def _steps_from(pairs) -> list[str]:
    return [f"{text}:\n\n{display(e)}" for text, e in pairs]


def _lipschitz_theorem(make: Callable[[], Activation], slug: str) -> Theorem:
    act = make()
    props = shape_properties(act)
    N = act.parameter("N").symbol
    name = f"${act.title}$"
    L, where = props.lipschitz, props.lipschitz_point
    lo, hi = props.derivative_range
    statement = (f"For every integer $N \\ge 1$"
                 + (", every $\\epsilon > 0$" if "eps" in act.parameter_names else "")
                 + f": $\\inf f' = {sp.latex(lo)}$, $\\sup f' = {sp.latex(hi)}$, so the "
                 f"Lipschitz constant of {name} is"
                 f"\n\n{display(sp.Eq(sp.Symbol('L'), L))}\n\nattained at "
                 f"$x^* = {sp.latex(where)}$.")
    mono = ", ".join(f"{label} on ${sp.latex(i)}$" for i, label in props.monotonicity)
    facts = (f"Shape computed in the same run: {mono}; $\\inf f = {sp.latex(props.bounds[0])}$ "
             f"({'attained' if props.bounds_attained[0] else 'not attained'}), "
             f"$\\sup f = {sp.latex(props.bounds[1])}$; asymptotes "
             + ", ".join(f"$y = {sp.latex(v)}$ as $x \\to {sp.latex(sp.sympify(k.replace('+', '')))}$"
                         for k, v in sorted(props.asymptotes.items())) + ".")
    steps = ["The branches:\n\n" + _branch_tex(act), *_steps_from(props.steps), facts]
    cert = {
        "kind": "lipschitz",
        "family": act.name,
        "branches": _branches(act),
        "lipschitz": expr(L),
        "lipschitz_point": expr(where),
        "derivative_range": [expr(lo), expr(hi)],
        "monotonicity": [[expr(i), label] for i, label in props.monotonicity],
        "bounds": [expr(b) for b in props.bounds],
        "bounds_attained": list(props.bounds_attained),
        "asymptotes": {k: expr(v) for k, v in sorted(props.asymptotes.items())},
        "instances": [{"N": n, "lipschitz": expr(sp.nsimplify(L.subs(N, n))),
                       "lipschitz_point": expr(where.subs(N, n))} for n in INSTANCE_N],
    }
    summary = f"sup|{act.name}'| = {expr(L)} for all N >= 1"
    conclusion = (f"$\\sup_x |f'(x)| = {sp.latex(L)}$ for {name}, for every $N \\ge 1$"
                  + (" and every $\\epsilon > 0$ (the value does not depend on $\\epsilon$)"
                     if "eps" in act.parameter_names else "") + ".")
    return Theorem(slug, f"Lipschitz constant of {act.name}", summary, statement,
                   tuple(steps), conclusion, cert)


def _num_text(e, digits: int = 25) -> str:
    return mpmath.nstr(certified_mpf(e, digits + 10), digits)


def _sqish_shape_theorem() -> Theorem:
    act = sqish().with_defaults()
    props = shape_properties(act)
    (loc, val), = props.minima
    lo, hi = props.derivative_range
    defaults = ", ".join(f"{sp.latex(act.parameter(k).symbol)} = {sp.latex(v)}"
                         for k, v in act.values.items())
    statement = (f"For Sqish with its defaults (${defaults}$): "
                 f"$\\inf f' = {_num_text(lo)}$, $\\sup f' = {_num_text(hi)}$, Lipschitz "
                 f"constant $L = {_num_text(props.lipschitz)}$; the minimum is "
                 f"$f({sp.latex(loc)}) = {sp.latex(val)}$.")
    steps = ["The function:\n\n" + _branch_tex(act), *_steps_from(props.steps)]
    cert = {
        "kind": "lipschitz",
        "family": act.name,
        "parameters": {k: expr(v) for k, v in act.values.items()},
        "branches": _branches(act),
        "lipschitz": _num_text(props.lipschitz),
        "lipschitz_point": _num_text(props.lipschitz_point),
        "derivative_range": [_num_text(lo), _num_text(hi)],
        "minimum": {"location": expr(loc), "value": expr(val),
                    "location_numeric": _num_text(loc), "value_numeric": _num_text(val)},
        "monotonicity": [[[_num_text(i.inf) if i.inf.is_finite else expr(i.inf),
                           _num_text(i.sup) if i.sup.is_finite else expr(i.sup)], label]
                         for i, label in props.monotonicity],
        "asymptotes": {k: expr(v) for k, v in sorted(props.asymptotes.items())},
    }
    summary = f"Sqish at its defaults: Lipschitz constant {_num_text(props.lipschitz, 15)}"
    conclusion = (f"$\\sup|f'| = {_num_text(props.lipschitz)}$ (critical point of $f'$ found "
                  "numerically to 30 digits; $f'$ tends to $a$ and $1$ at $\\mp\\infty$).")
    return Theorem("lipschitz-sqish", "Shape and Lipschitz constant of Sqish (defaults)",
                   summary, statement, tuple(steps), conclusion, cert)


def _sqish_minimum_theorem() -> Theorem:
    act = sqish().bind(a=0)
    steps_raw: list = []
    mono, minima, _ = monotonicity_and_minima(act, steps_raw)
    (loc, val), = minima
    B, G = (act.parameter(n).symbol for n in ("beta", "gamma"))
    statement = (f"For $a = 0$ and every $\\beta > 0$, $\\gamma > 0$, Sqish is decreasing on "
                 f"${sp.latex(mono[0][0])}$ and increasing on ${sp.latex(mono[1][0])}$; its "
                 f"minimum is attained at"
                 f"\n\n{display(sp.Eq(sp.Symbol('x^*'), loc))}\n\nwith value"
                 f"\n\n{display(sp.Eq(sp.Function('f')(sp.Symbol('x^*')), val))}\n\n"
                 "($W$ the principal branch of the Lambert W function).")
    steps = ["The function:\n\n" + _branch_tex(act), *_steps_from(steps_raw)]
    samples = [(1, 1), (2, 3), (sp.Rational(1, 10), sp.Rational(7, 10))]
    cert = {
        "kind": "minimum",
        "family": act.name,
        "parameters": {"a": "0", "beta": "symbolic", "gamma": "symbolic"},
        "branches": _branches(act),
        "monotonicity": [[expr(i), label] for i, label in mono],
        "minimum": {"location": expr(loc), "value": expr(val)},
        "instances": [{"beta": expr(b), "gamma": expr(g),
                       "location": _num_text(loc.subs({B: b, G: g})),
                       "value": _num_text(val.subs({B: b, G: g}))} for b, g in samples],
    }
    summary = f"Sqish (a = 0) has its minimum {expr(val)} at x = {expr(loc)} (Lambert W)"
    conclusion = (f"$\\min f = {sp.latex(val)}$ at $x^* = {sp.latex(loc)}$, for every "
                  "$\\beta, \\gamma > 0$.")
    return Theorem("sqish-minimum", "Minimum of Sqish with a = 0", summary, statement,
                   tuple(steps), conclusion, cert)


# the L^p theorems live in their own module (imported lazily: gemsym.lp)
def _lp(slug: str):
    def build() -> Theorem:
        from .distances import distance_theorem
        return distance_theorem(slug)
    return build


THEOREMS: dict[str, Callable[[], Theorem]] = {
    "smoothness-gem": lambda: _smoothness_theorem(gem, "smoothness-gem"),
    "smoothness-e-gem": lambda: _smoothness_theorem(e_gem, "smoothness-e-gem"),
    "smoothness-se-gem": lambda: _smoothness_theorem(se_gem, "smoothness-se-gem"),
    "smoothness-sqish": lambda: _smoothness_theorem(sqish, "smoothness-sqish"),
    "lipschitz-gem": lambda: _lipschitz_theorem(gem, "lipschitz-gem"),
    "lipschitz-e-gem": lambda: _lipschitz_theorem(e_gem, "lipschitz-e-gem"),
    "lipschitz-se-gem": lambda: _lipschitz_theorem(se_gem, "lipschitz-se-gem"),
    "lipschitz-sqish": _sqish_shape_theorem,
    "sqish-minimum": _sqish_minimum_theorem,
    "lp-e-gem": _lp("lp-e-gem"),
    "lp-se-gem": _lp("lp-se-gem"),
    "lp-sqish": _lp("lp-sqish"),
}
