"""Signs, comparisons and one-sided limits of expressions, decided for every admissible
parameter value (the symbolic groundwork of :mod:`gemsym.properties`).

On a branch (c, oo) resp. (-oo, c) the variable is written x = c + p resp. x = c - p with
p > 0 (:func:`chart`), so that SymPy's assumptions decide the sign of most factors even for
symbolic N and eps.  Limits at the ends of a branch are leading terms of the one-sided
generalized series of :mod:`gemsym.series` (symbolic exponents allowed), or of the
algebraic part left when :mod:`gemsym.shape.flat` splits off a part that vanishes faster
than any power (tanh, erf, exp of an argument tending to +-oo); SymPy's ``limit`` is the
fallback for what neither decides.  Comparisons
between symbolic candidates are decided for every N >= 1 by writing N = m + 1 and reading
signs of polynomials in m; a product of powers with symbolic exponents summing to an
integer S is first bounded by weighted AM-GM, prod r_i^{s_i} <= (sum (s_i/S) r_i)^S.
"""

from __future__ import annotations

import sympy as sp
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from ..activation import X
from ..evaluate import Imprecise, strict
from ..series import NotExpandable, SeriesEngine, Undecidable, is_zero
from .flat import algebraic_part

__all__ = [
    "Undecided", "DPS", "CHART_P", "POWER_W", "SCALED_U", "SERIES_T", "Step",
    "chart", "is_identically_zero", "end_limit", "end_sign", "extreme", "greater", "is_concrete", "numeric", "sign", "tidy",
]

DPS = 30
#: x = c + p (or c - p) on a branch; w = p^k a power; u = w / s scaled; t the series variable.
CHART_P = sp.Symbol("p", positive=True)
SERIES_T = sp.Symbol("t", positive=True)
POWER_W = sp.Symbol("w", positive=True)
SCALED_U = sp.Symbol("u", positive=True)


class Undecided(ValueError):
    """The analysis cannot decide a shape property (a sign that depends on parameters
    left symbolic, zeros that cannot be isolated, a limit that does not exist): the
    command says why and exits 3; nothing is claimed."""


#: One derivation step as performed: (what was done, in words; the resulting expression).
Step = tuple[str, sp.Basic]


def chart(lo: sp.Expr, hi: sp.Expr) -> tuple[sp.Expr, sp.Expr | None]:
    """x as a function of p > 0 on (lo, hi), and the upper bound of p (None: none)."""
    if hi == sp.oo:
        return lo + CHART_P, None
    if lo == -sp.oo:
        return hi - CHART_P, None
    return lo + CHART_P, hi - lo


def is_concrete(e: sp.Basic) -> bool:
    return not (sp.sympify(e).free_symbols - {CHART_P, POWER_W, SCALED_U, X})


def numeric(e: sp.Expr) -> sp.Expr:
    return sp.N(e, DPS + 10)


def _accurate(c: sp.Expr) -> sp.Expr:
    """The concrete ``c`` to DPS + 10 digits for a decision: plain ``sp.N`` returns noise
    where terms cancel (4.55e-159 for GELU's branch at x = -40, which is -1.46e-348);
    strict evaluation is right or refuses, and then only an exact 0 is accepted."""
    try:
        return strict(c, DPS + 10)
    except Imprecise:
        if sp.simplify(c) == 0:
            return sp.S.Zero
        raise Undecided(f"cannot evaluate {c} accurately enough to decide its sign "
                        "(its terms cancel)") from None


def tidy(v: sp.Expr) -> sp.Expr:
    """Canonical form: exp(W(z) + c) -> e^c z / W(z), then factor / simplify
    (trigonometric and hyperbolic expressions are left as they are: their ``simplify``
    can take minutes and only changes how a step reads)."""
    v = sp.sympify(v)
    if v.is_Float or v in (sp.oo, -sp.oo):
        return v
    if v.has(sp.Float) and is_concrete(v):
        try:
            return sp.Float(strict(v, DPS), DPS)
        except Imprecise:
            return v  # left unevaluated: a printed number would be noise
    if v.has(TrigonometricFunction, HyperbolicFunction):
        return v
    if v.has(sp.LambertW):
        def unfold(e):
            c, w = e.args[0].as_independent(sp.LambertW, as_Add=True)
            if isinstance(w, sp.LambertW):
                return sp.exp(c) * w.args[0] / w
            return e
        v = v.replace(lambda e: isinstance(e, sp.exp), unfold)
        return sp.simplify(v)
    v = sp.simplify(v)
    syms = v.free_symbols
    if syms and v.is_rational_function(*syms):
        return sp.factor(v)
    return v


def is_identically_zero(expr: sp.Expr, x: sp.Symbol) -> bool:
    """expr == 0 for every x: a nonzero value at a sample point decides 'no' at once
    (``simplify`` of trigonometric or hyperbolic expressions can take minutes)."""
    if is_concrete(expr):
        for t in (sp.Rational(3, 7), sp.Rational(-5, 3), sp.Rational(11, 2)):
            try:  # strict: noise where terms cancel must not read as "nonzero"
                v = strict(expr.subs(x, t), 20)
            except (Imprecise, TypeError, ValueError):
                continue
            if v.is_number and v.is_finite and v != 0 and abs(v) > sp.Float(10) ** -15:
                return False
    return sp.simplify(expr) == 0


def _approach(point: sp.Expr, from_right: bool) -> sp.Expr:
    """x written through t -> 0+: point +- t, or +-1/t at infinity."""
    if point == sp.oo:
        return 1 / SERIES_T
    if point == -sp.oo:
        return -1 / SERIES_T
    return point + SERIES_T if from_right else point - SERIES_T


def _leading_limit(engine: SeriesEngine, g: sp.Expr) -> sp.Expr:
    """lim g as t -> 0+ from the leading term c t^e of g's one-sided series."""
    s = engine.leading_expansion(g, sp.S.One)
    e = engine.low(s)
    c = sp.simplify(s.terms[e])
    if engine.lt(e, 0):
        return sp.oo if sign(c) > 0 else -sp.oo
    return tidy(c) if e == 0 else sp.S.Zero


def end_limit(expr: sp.Expr, x: sp.Symbol, point: sp.Expr, from_right: bool) -> sp.Expr:
    """lim f(x) as x -> point (from the right when ``from_right``): the leading term of
    the one-sided series in t -> 0+ (x = point +- t, or x = +-1/t at infinity)."""
    sub = _approach(point, from_right)
    g = expr.subs(x, sub)
    engine = SeriesEngine(SERIES_T)
    try:
        return _leading_limit(engine, g)
    except (NotExpandable, Undecidable):
        pass
    try:
        # g = A + (a part that is o(t^n) for every n): lim g = lim A, no Gruntz needed
        a = algebraic_part(g, SERIES_T)
        return sp.S.Zero if is_zero(a) else _leading_limit(engine, a)
    except (NotExpandable, Undecidable, Undecided):
        pass
    where = f"{x} -> {point}" + ("" if point in (sp.oo, -sp.oo) else ("+" if from_right else "-"))
    if g.has(HyperbolicFunction):
        g = g.rewrite(sp.exp)  # Gruntz is several times faster on exponentials
    try:
        value = sp.limit(g, SERIES_T, 0, "+")
    except (NotImplementedError, ValueError, TypeError) as exc:
        raise Undecided(f"cannot find the limit of {expr} as {where} ({exc})") from None
    if isinstance(value, sp.AccumBounds):
        raise Undecided(f"{expr} has no limit as {where}: it oscillates within {value}")
    if value.has(sp.Limit, sp.nan, sp.zoo, sp.AccumBounds) or value.is_extended_real is False:
        raise Undecided(f"cannot find the limit of {expr} as {where} (SymPy gives {value})")
    return tidy(value)


def end_sign(expr: sp.Expr, x: sp.Symbol, point: sp.Expr, from_right: bool) -> int:
    """The sign of f(x) for x close to ``point``: that of the leading term of its
    one-sided series (so also where f tends to 0), else of its nonzero limit."""
    sub = _approach(point, from_right)
    engine = SeriesEngine(SERIES_T)
    g = expr.subs(x, sub)
    try:
        s = engine.leading_expansion(g, sp.S.One)
        return sign(sp.simplify(s.terms[engine.low(s)]))
    except (NotExpandable, Undecidable):
        pass
    try:
        # g = A + (a part that is o(t^n) for every n): A's leading term dominates unless A = 0
        a = algebraic_part(g, SERIES_T)
        if not is_zero(a):
            s = engine.leading_expansion(a, sp.S.One)
            return sign(sp.simplify(s.terms[engine.low(s)]))
    except (NotExpandable, Undecidable, Undecided):
        pass
    value = end_limit(expr, x, point, from_right)
    if value == 0 and x.is_positive and (point == sp.oo or point.is_positive
                                         or (point.is_zero and from_right)):
        # one sign for every x > 0 is that sign near the point: tanh(u) - 1 written with
        # exponentials is -2/(e^{2u} + 1), whose sign the assumptions decide
        whole = sp.factor(sp.together(expr.rewrite(sp.exp)))
        if whole.is_positive or whole.is_negative:
            return 1 if whole.is_positive else -1
    if value == 0:
        raise Undecided(f"cannot decide the sign of {expr} near {x} = {point}: it tends to 0")
    return sign(value)


def sign(c: sp.Expr) -> int:
    """Sign (+1, -1, 0) of a constant valid for every admissible parameter value."""
    if c in (sp.oo, -sp.oo):
        return 1 if c == sp.oo else -1
    if is_concrete(c):
        v = _accurate(c)
        if v.is_real is not True or not v.is_finite:
            raise Undecided(f"{c} is not a finite real number")
        return 1 if v > 0 else (-1 if v < 0 else 0)
    c = sp.factor(sp.simplify(c))
    if c == 0:
        return 0
    if c.is_positive:
        return 1
    if c.is_negative:
        return -1
    verdict = _shifted_positive(c)
    if verdict is not None:
        return 1 if verdict else -1
    raise Undecided(f"the sign of {c} depends on the parameters; bind them")


def _shifted_positive(e: sp.Expr) -> bool | None:
    """Decide e > 0 for all admissible values by writing each positive integer parameter
    as m + 1 (m >= 0) and reading the signs of the expanded numerator and denominator."""
    subs = {s: sp.Symbol(f"{s.name}_m", integer=True, nonnegative=True) + 1
            for s in e.free_symbols if s.is_integer and s.is_positive}
    num, den = sp.fraction(sp.cancel(sp.together(e.subs(subs))))
    num, den = sp.expand(num), sp.expand(den)
    if (num.is_positive and den.is_positive) or (num.is_negative and den.is_negative):
        return True
    if (num.is_positive and den.is_negative) or (num.is_negative and den.is_positive):
        return False
    return None


def _amgm_upper(e: sp.Expr) -> sp.Expr | None:
    """Upper bound of e = C prod r_i^{s_i} (C, r_i > 0, s_i >= 0 symbolic) by weighted
    AM-GM when S = sum s_i is a positive integer (a single power with 0 < s < 1 is
    completed by 1^{1-s}: Bernoulli's inequality)."""
    coeff, pows = sp.S.One, []
    for fac in sp.Mul.make_args(sp.powsimp(e)):
        if fac.is_Pow and fac.exp.free_symbols and fac.base.is_positive \
                and _shifted_positive(fac.exp):
            pows.append((fac.base, fac.exp))
        else:
            coeff *= fac
    if not pows or not coeff.is_positive:
        return None
    total = sp.simplify(sum(s for _, s in pows))
    if not total.is_Integer and len(pows) == 1 and _shifted_positive(1 - pows[0][1]):
        pows.append((sp.S.One, 1 - pows[0][1]))
        total = sp.S.One
    if not (total.is_Integer and total > 0):
        return None
    mean = sp.together(sum(s / total * r for r, s in pows))
    return coeff * mean**total


def greater(a: sp.Expr, b: sp.Expr, steps: list[Step]) -> bool:
    """a >= b for every admissible parameter value (False: proven a < b); ValueError
    when it cannot be decided.  Non-trivial decisions are recorded in ``steps``."""
    if a == b or a == sp.oo or b == -sp.oo:
        return True
    if b == sp.oo or a == -sp.oo:
        return False
    if is_concrete(a) and is_concrete(b):
        return sign(a - b) >= 0
    d = sp.factor(sp.simplify(a - b))
    if d == 0 or d.is_nonnegative:
        return True
    if d.is_negative:
        return False
    verdict = _shifted_positive(d)
    if verdict is not None:
        steps.append(("difference of two candidate values; its sign is the same for every "
                      "$N \\ge 1$ (write $N = m + 1$: numerator and denominator are "
                      "polynomials in $m \\ge 0$ with coefficients of one sign)", d))
        return verdict
    for big, small, result in ((a, b, True), (b, a, False)):
        bound = _amgm_upper(small)
        if bound is None:
            continue
        gap = sp.factor(big - bound)
        if _shifted_positive(gap):
            steps.append(("weighted AM-GM, $\\prod r_i^{s_i} \\le (\\sum_i (s_i/S) r_i)^S$ with "
                          "$S = \\sum_i s_i$, bounds a candidate value from above",
                          sp.Le(small, bound)))
            steps.append(("the other candidate exceeds that bound by (positive for every "
                          "$N \\ge 1$)", gap))
            return result
    raise Undecided(f"cannot compare {a} and {b} for all parameter values; bind them")


def extreme(values: list[tuple[sp.Expr, sp.Expr]], largest: bool, steps: list[Step]):
    """The (value, where) pair that is >= (<=) every other value."""
    for cand in values:
        trial: list[Step] = []
        try:
            ok = all(
                (greater(cand[0], v[0], trial) if largest else greater(v[0], cand[0], trial))
                for v in values if v is not cand
            )
        except ValueError:
            ok = False
        if ok:
            steps.extend(trial)
            return cand
    raise Undecided("cannot decide which of " + ", ".join(str(v[0]) for v in values)
                     + " is " + ("largest" if largest else "smallest") + "; bind the parameters")
