"""Theorems about any family (catalogue member or ``module:attribute``), built from the
same analyses as the registry's: the class at each junction (:mod:`gemsym.smoothness`),
the Lipschitz constant and shape at the defaults (:mod:`gemsym.shape`) and the L^p
distance to a declared limit (:mod:`gemsym.lp`).  No family is special-cased by name.

A theorem is written only when its analysis decides it: an analysis that cannot decide
(``Undecided``, an uncertified distance, ...) gives a :class:`NotProved` entry instead,
listed in the README as not proved.  Every smoothness certificate at a finite junction
is re-checked numerically at the defaults (one-sided mpmath derivatives of the branch
expressions) before it is written; a disagreement is an error, never a theorem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import mpmath
import sympy as sp

from ..activation import Activation
from ..evaluate import certified_mpf
from ..smoothness import JunctionSmoothness
from .render import Theorem, expr
from .theorems import _branch_tex, _branches, _num_text, _smoothness_theorem, _steps_from

__all__ = ["NotProved", "family_slug", "family_plan"]

#: digits to which the numeric one-sided derivatives must match the certificate
CHECK_DIGITS = 12


@dataclass(frozen=True)
class NotProved:
    """Theorem ``id`` was not established: ``reason`` says which analysis could not decide."""

    id: str
    reason: str


def family_slug(act: Activation) -> str:
    """The id stem of ``act``'s theorems: its name, lower case, runs of other characters
    than letters and digits as one '-' (a safe file name)."""
    slug = re.sub(r"[^a-z0-9]+", "-", act.name.lower()).strip("-")
    if not slug:
        raise ValueError(f"family name {act.name!r}: needs a letter or a digit for theorem ids")
    return slug


# ---------------------------------------------------------------- smoothness re-check
def _one_sided(fn: Callable, c, k: int, side: int):
    """f^(k)(c^side) by mpmath's one-sided finite differences at working precision."""
    return mpmath.diff(fn, mpmath.mpf(c), k, direction=side)


def numeric_check(act: Activation, j: JunctionSmoothness) -> dict:
    """Re-check, at the defaults, the certificate of junction ``j``: every agreeing
    derivative and the two differing ones against one-sided mpmath derivatives of the
    branch expressions.  Returns what was compared; raises ArithmeticError on a
    disagreement (the theorem is then not written)."""
    concrete = act.with_defaults()
    subs = {p.symbol: concrete.values[p.name] for p in act.parameters}
    c = sp.sympify(j.junction).subs(subs)
    index = next(i for i, b in enumerate(concrete.branches) if b.upper == c)
    x = concrete.x
    left = sp.lambdify(x, concrete.branches[index].expr, "mpmath")
    right = sp.lambdify(x, concrete.branches[index + 1].expr, "mpmath")
    listed = {sp.sympify(o).subs(subs): (l, r) for o, l, r in j.coefficients}
    rows = list(j.coefficients)
    k_mis = None if j.first_mismatch_order is None else sp.sympify(j.first_mismatch_order).subs(subs)
    if k_mis is not None and k_mis.is_Integer:
        # every order below the mismatch not listed vanishes on both sides
        rows += [(o, 0, 0) for o in range(min(int(k_mis), 9)) if sp.Integer(o) not in listed]
    if j.first_mismatch_order is not None and j.left is not None:
        rows.append((j.first_mismatch_order, j.left, j.right))
    rows.sort(key=lambda row: sp.sympify(row[0]).subs(subs))
    checked = []
    with mpmath.workdps(40):
        for order, lv, rv in rows:
            k, lv, rv = (sp.sympify(e).subs(subs) for e in (order, lv, rv))
            if not (k.is_Integer and lv.is_finite and rv.is_finite) or int(k) > 8:
                continue  # an infinite one-sided value or a high order: no finite difference
            nl, nr = _one_sided(left, c, int(k), -1), _one_sided(right, c, int(k), 1)
            for exact, num in ((lv, nl), (rv, nr)):
                ref = certified_mpf(exact, 40)
                if abs(num - ref) > mpmath.mpf(10) ** -CHECK_DIGITS * max(1, abs(ref)):
                    raise ArithmeticError(
                        f"{act.name}: the certificate's derivative of order {k} at x = {c} "
                        f"({exact}) disagrees with mpmath's one-sided derivative ({num})")
            checked.append({"order": expr(k), "left": _num_text(nl, 20),
                            "right": _num_text(nr, 20)})
    return {"parameters": {n: expr(v) for n, v in concrete.values.items()},
            "junction": expr(c), "method": "mpmath.diff one-sided (dps 40)",
            "agrees_to_digits": CHECK_DIGITS, "derivatives": checked}


# ---------------------------------------------------------------- shape at the defaults
def shape_theorem(act: Activation, slug: str) -> Theorem:
    """Lipschitz constant and shape of ``act`` at its defaults, as decided by
    :func:`gemsym.shape.shape_properties` (or that it has none, with the reason); the
    analysis' Undecided propagates where it cannot decide."""
    from ..shape import shape_properties

    concrete = act.with_defaults()
    props = shape_properties(concrete)
    title = f"${act.title}$" if act.title else f"`{act.name}`"

    def exact(e) -> bool:  # short rationals and infinities exactly, the rest as 25 digits
        return not e.is_finite or (e.is_Rational and e.q <= 10 ** 6 and abs(e.p) <= 10 ** 12)

    defaults = ", ".join(
        f"{sp.latex(act.parameter(k).symbol)} "
        + (f"= {sp.latex(v)}" if exact(sp.sympify(v)) or not sp.sympify(v).is_number
           else f"\\approx {_num_text(v)}")
        for k, v in concrete.values.items())
    at = f" with its defaults (${defaults}$)" if defaults else ""
    if props.lipschitz is None:  # decided: a jump, a pole or an unbounded f'
        return _not_lipschitz(act, concrete, props, slug, title, at)

    def num(e) -> str:
        e = sp.sympify(e)
        return sp.latex(e) if exact(e) else _num_text(e)

    def num_cert(e) -> str:
        e = sp.sympify(e)
        return expr(e) if exact(e) else _num_text(e)

    lo, hi = props.derivative_range
    L, where = props.lipschitz, props.lipschitz_point
    attained = where is not None and props.lipschitz_attained
    stretch = props.lipschitz_stretch
    statement = (f"For {title}{at}: $\\inf f' = {num(lo)}$, $\\sup f' = {num(hi)}$, so its "
                 f"Lipschitz constant is $L = {num(L)}$, "
                 + (f"attained at every $x \\in {sp.latex(stretch)}$." if stretch is not None
                    else f"attained at $x^* = {num(where)}$." if attained else
                    "approached but not attained."))
    mono = ", ".join(f"{label} on ${sp.latex(i)}$" for i, label in props.monotonicity)
    facts = (f"Shape computed in the same run: {mono}; $\\inf f = {num(props.bounds[0])}$ "
             f"({'attained' if props.bounds_attained[0] else 'not attained'}), "
             f"$\\sup f = {num(props.bounds[1])}$ "
             f"({'attained' if props.bounds_attained[1] else 'not attained'}).")
    steps = ["The function:\n\n" + _branch_tex(concrete), *_steps_from(props.steps), facts]
    cert = {
        "kind": "lipschitz",
        "family": act.name,
        "parameters": {k: expr(v) for k, v in concrete.values.items()},
        "branches": _branches(concrete),
        "lipschitz": num_cert(L),
        "lipschitz_point": None if where is None else num_cert(where),
        "lipschitz_attained": attained,
        "lipschitz_stretch": None if stretch is None else [expr(stretch.inf), expr(stretch.sup)],
        "derivative_range": [num_cert(lo), num_cert(hi)],
        "monotone": props.monotone,
        "minima": [{"location": expr(m), "value": expr(v)} for m, v in props.minima],
        "bounds_attained": list(props.bounds_attained),
        "asymptotes": {k: expr(v) for k, v in sorted(props.asymptotes.items())},
    }
    summary = f"{act.name}{' at its defaults' if defaults else ''}: Lipschitz constant " + (
        expr(L) if exact(sp.sympify(L)) else _num_text(L, 15))
    conclusion = f"$\\sup_x |f'(x)| = {num(L)}$ for {title}{at}."
    return Theorem(slug, f"Lipschitz constant of {act.name}", summary, statement,
                   tuple(steps), conclusion, cert)


def _not_lipschitz(act: Activation, concrete: Activation, props, slug: str, title: str,
                   at: str) -> Theorem:
    """The theorem that ``act`` (at its defaults) has no Lipschitz constant, with the
    reason :func:`gemsym.shape.shape_properties` gave."""
    reason = props.lipschitz_reason or "f is not Lipschitz"
    statement = f"{title}{at} is not Lipschitz on $\\mathbb{{R}}$: {reason}."
    steps = ["The function:\n\n" + _branch_tex(concrete), *_steps_from(props.steps)]
    cert = {
        "kind": "lipschitz",
        "family": act.name,
        "parameters": {k: expr(v) for k, v in concrete.values.items()},
        "branches": _branches(concrete),
        "lipschitz": None,
        "reason": reason,
        "derivative_range": [expr(e) for e in props.derivative_range],
        "breakpoints": [{"at": expr(b.point), "kind": b.kind} for b in props.breakpoints],
    }
    summary = f"{act.name}{' at its defaults' if at else ''} is not Lipschitz ({reason})"
    return Theorem(slug, f"{act.name} is not Lipschitz", summary, statement, tuple(steps),
                   statement, cert)


# ---------------------------------------------------------------- the plan of one family
def _lp_plan(act: Activation):
    lam = act.parameter(act.limit.parameter)
    if not (lam.domain.inf == 0 and lam.domain.sup == sp.oo):
        raise ValueError(f"the limit parameter {lam.name} ranges over {lam.domain}, "
                         "not the positive reals the theorem's wording assumes")
    defaults = {p.name: p.default for p in act.parameters}
    fixed = {k: v for k, v in defaults.items() if k != lam.name}
    ps = ("1", "2", "inf")
    return (lambda: act, fixed, ps, [(defaults, p) for p in ps])


def family_plan(act: Activation) -> list[tuple[str, Callable[[], Theorem]]]:
    """The theorems about ``act``, as (id, builder) in writing order: ``smoothness-<slug>``
    (``smoothness-<slug>-<i>`` at the i-th of several junctions), ``lipschitz-<slug>``
    and, where a limit is declared, ``lp-<slug>``.  A builder raises where its analysis
    cannot decide (the caller lists it as not proved)."""
    slug = family_slug(act)
    report_junctions = max(1, len(act.branches) - 1)
    plan: list[tuple[str, Callable[[], Theorem]]] = []
    for i in range(report_junctions):
        tid = f"smoothness-{slug}" + (f"-{i + 1}" if report_junctions > 1 else "")
        plan.append((tid, lambda i=i, tid=tid: _smoothness_theorem(
            lambda: act, tid, i, check=numeric_check if len(act.branches) > 1 else None)))
    plan.append((f"lipschitz-{slug}", lambda: shape_theorem(act, f"lipschitz-{slug}")))
    if act.limit is not None:
        def lp() -> Theorem:
            from .distances import distance_theorem
            return distance_theorem(f"lp-{slug}", _lp_plan(act))
        plan.append((f"lp-{slug}", lp))
    return plan
