"""Real zeros and signs of a branch expression on its interval (:mod:`gemsym.shape.properties`).

Zeros are found by factoring.  A factor that involves p only through one power w = p^k
(k may be symbolic, e.g. 2N) is a polynomial equation in w.  Transcendental equations with
only exponentials are tried with ``solve`` (Sqish with a = 0: Lambert W); every candidate
is checked numerically, and for concrete parameters completed by the certified isolation
of :mod:`gemsym.shape.isolate`, which alone handles every other concrete factor.
"""

from __future__ import annotations

import sympy as sp

from .isolate import certified_zeros
from .signs import (DPS, CHART_P, POWER_W, Step, Undecided, chart, end_limit, is_concrete,
                    is_identically_zero, numeric, sign)

__all__ = ["power_form", "real_zeros", "sign_on"]


def power_form(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(k, g) with expr(p) = g(w) at w = p^k, when p occurs only through that power."""
    f = sp.powsimp(sp.expand(sp.cancel(sp.expand_power_exp(expr))), combine="exp")
    exps = {a.exp for a in f.atoms(sp.Pow) if a.base == CHART_P}
    if f.subs({CHART_P**k: 1 for k in exps}).has(CHART_P):
        exps.add(sp.S.One)
    if not exps:
        return None
    for k in sorted(exps, key=sp.default_sort_key):
        ratios = {e: sp.simplify(e / k) for e in exps}
        if all(r.is_integer and r.is_positive for r in ratios.values()):
            g = f.replace(lambda a: a.is_Pow and a.base == CHART_P,
                          lambda a: POWER_W ** ratios[a.exp])
            if sp.S.One in exps:
                g = g.subs(CHART_P, POWER_W ** ratios[sp.S.One])
            if not g.has(CHART_P):
                return k, g
    return None


def _w_roots(g: sp.Expr) -> list[sp.Expr]:
    """Positive roots of a rational function of w."""
    num = sp.numer(sp.together(g))
    if not num.is_polynomial(POWER_W):
        return []
    out = []
    for w in sp.solve(num, POWER_W):
        if w.is_positive or (is_concrete(w) and w.is_real and numeric(w) > 0):
            out.append(w)
    return out


def _check_candidate(factor: sp.Expr, root: sp.Expr) -> bool:
    """Is ``root`` a real root of ``factor``? (exactly numeric, or at sample values)."""
    syms = (factor.free_symbols | root.free_symbols) - {CHART_P}
    for subs in _samples(syms):
        r = numeric(root.subs(subs))
        if not r.is_real or r <= 0:
            return False
        if abs(numeric(factor.subs(subs).subs(CHART_P, r))) > sp.Float(10) ** (-DPS // 2):
            return False
    return True


def _complete(exact: list[sp.Expr], certified: list[sp.Expr]) -> list[sp.Expr]:
    """The exact zeros ``solve`` found, plus those of the certified isolation that none of
    them matches (``solve`` may return only one branch of a Lambert W equation)."""
    tol = sp.Float(10) ** (-DPS // 2)
    values = [numeric(e) for e in exact]
    extra = [c for c in certified if all(abs(c - v) > tol * max(1, abs(v)) for v in values)]
    return exact + extra


def _solvable(fac: sp.Expr) -> bool:
    funcs = {type(f) for f in fac.atoms(sp.Function)}
    return funcs <= {sp.exp}


def real_zeros(expr: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr,
           steps: list[Step]) -> list[sp.Expr] | None:
    """Zeros of ``expr`` inside (lo, hi) (None: identically zero there)."""
    if is_identically_zero(expr, x):
        return None
    if lo == -sp.oo and hi == sp.oo:
        out = real_zeros(expr, x, -sp.oo, sp.S.Zero, steps) or []
        if is_identically_zero(expr.subs(x, 0), x):
            out.append(sp.S.Zero)
        return out + (real_zeros(expr, x, sp.S.Zero, sp.oo, steps) or [])
    xp, width = chart(lo, hi)
    num = sp.numer(sp.together(sp.powsimp(expr.subs(x, xp))))
    roots_p: list[sp.Expr] = []
    for fac, _ in sp.factor_list(num)[1]:
        if not fac.has(CHART_P) or fac.is_positive or fac.is_negative:
            continue
        form = power_form(fac)
        if form is not None and form[1].is_polynomial(POWER_W):
            k, g = form
            found = [w ** (1 / k) for w in _w_roots(g)]
            steps.append((f"zeros of a factor: with $w = p^{{{sp.latex(k)}}}$ ($p > 0$ the "
                          "distance to the end of the branch) it is a polynomial equation",
                          sp.Eq(g, 0)))
        else:
            found = []
            if _solvable(fac):
                try:
                    found = [c for c in sp.solve(fac, CHART_P) if _check_candidate(fac, c)]
                except NotImplementedError:
                    found = []
                if found and is_concrete(fac):
                    found = _complete(found, certified_zeros(fac, CHART_P, width))
                if found:
                    steps.append((f"zero in $p$ of the transcendental factor ${sp.latex(fac)}$ "
                                  "(SymPy solve; checked numerically)", sp.Tuple(*found)))
                    slope = sp.factor(sp.diff(fac, CHART_P))
                    if len(found) == 1 and (slope.is_positive or slope.is_negative):
                        steps.append(("the factor is strictly monotone in $p$ (its derivative "
                                      "has one sign), so this zero is its only one", slope))
            if not found:
                if not is_concrete(fac):
                    raise Undecided(f"cannot locate the zeros of {fac} with symbolic "
                                     "parameters; bind them")
                found = certified_zeros(fac, CHART_P, width)
        roots_p.extend(found)
    if width is not None:
        roots_p = [r for r in roots_p if not is_concrete(r) or numeric(r) < numeric(width)]
    roots = [xp.subs(CHART_P, r) for r in roots_p]
    if all(is_concrete(r) for r in roots):
        roots = sorted(set(roots), key=numeric)
    return roots


def _factor_sign(fac: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> int:
    """Sign of a factor that has no zero inside (lo, hi)."""
    if not fac.has(x):
        return sign(fac)
    if lo == -sp.oo and hi == sp.oo:
        g = fac
    else:
        g = sp.factor(sp.powsimp(fac.subs(x, chart(lo, hi)[0])))
    if g.is_positive:
        return 1
    if g.is_negative:
        return -1
    for point, right in ((hi, False), (lo, True)):
        if point in (sp.oo, -sp.oo):
            limit = end_limit(fac, x, point, right)
            if limit in (sp.oo, -sp.oo) or sign(limit) != 0:
                return sign(limit)
    slope = sp.factor(sp.diff(fac, x))
    if slope.is_positive or slope.is_negative:  # monotone factor vanishing at an end
        rising = 1 if slope.is_positive else -1
        if lo != -sp.oo and _check_zero(fac.subs(x, lo)):
            return rising
        if hi != sp.oo and _check_zero(fac.subs(x, hi)):
            return -rising
    raise Undecided(f"cannot decide the sign of {fac} on ({lo}, {hi}); bind the parameters")


def _samples(syms) -> list[dict]:
    """Three admissible value sets for parameter symbols (integer: 1, 2, 3; positive:
    1/3, 7/5, 3; otherwise -1/3, 1/5, -2, all below 1 as Sqish's a must be)."""
    table = [(sp.Integer(1), sp.Rational(1, 3), -sp.Rational(1, 3)),
             (sp.Integer(2), sp.Rational(7, 5), sp.Rational(1, 5)),
             (sp.Integer(3), sp.Integer(3), -sp.Integer(2))]
    if not syms:
        return [{}]
    return [{s: (i if s.is_integer else (p if s.is_positive else r)) for s in syms}
            for i, p, r in table]


def _check_zero(e: sp.Expr) -> bool:
    tol = sp.Float(10) ** (-DPS // 2)
    return all(abs(numeric(e.subs(s))) < tol for s in _samples(e.free_symbols))


def sign_on(expr: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> int:
    """Sign of ``expr`` on (lo, hi), where it has no zero."""
    if is_concrete(expr) and is_concrete(lo) and is_concrete(hi):
        if lo == -sp.oo and hi == sp.oo:
            m = sp.S.Zero
        elif lo == -sp.oo:
            m = hi - 1 - abs(hi)
        elif hi == sp.oo:
            m = lo + 1 + abs(lo)
        else:
            m = (lo + hi) / 2
        return sign(numeric(expr.subs(x, m)))
    num, den = sp.fraction(sp.factor(sp.together(expr)))
    total = 1
    for part in (num, den):
        coeff, factors = sp.factor_list(part)
        total *= sign(coeff)
        for fac, mult in factors:
            total *= _factor_sign(fac, x, lo, hi) ** mult
    return total
