"""Shape properties of an activation: monotonicity, minima, range of f', Lipschitz
constant sup|f'|, bounds and linear asymptotes.

Everything is computed branch by branch (never on a ``Piecewise``).  On a branch
(c, oo) resp. (-oo, c) the variable is written x = c + p resp. x = c - p with p > 0, so
that SymPy's assumptions decide the sign of most factors even for symbolic N and eps.

* Zeros of f' and f'' are found by factoring.  A factor that involves p only through one
  power w = p^k (k may be symbolic, e.g. 2N) is a polynomial equation in w.  When f'
  itself is a function of w alone, its extrema are the zeros of d f'/dw (w is increasing
  in p); if moreover w = s u removes a positive parameter s (E-GEM: u = x^{2N}/eps gives
  f' = u (u + 2N + 1)/(u + 1)^2), the range of f' does not depend on s.
* Transcendental equations with only exponentials are tried with ``solve`` (Sqish with
  a = 0: Lambert W); every candidate is checked numerically.  Otherwise, for concrete
  parameters, sign changes on a geometric grid are refined by mpmath (30 digits).
* Limits at the ends of a branch are leading terms of the one-sided generalized series of
  :mod:`gemsym.series` (symbolic exponents allowed); SymPy's ``limit`` is the fallback for
  what that engine cannot expand (exponentials at infinity).
* Comparisons between symbolic candidates (which one is sup f'?) are decided for every
  N >= 1 by writing N = m + 1 and reading signs of polynomials in m; a product of powers
  with symbolic exponents summing to an integer S is first bounded by weighted AM-GM,
  prod r_i^{s_i} <= (sum (s_i/S) r_i)^S.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .activation import X, Activation
from .series import NotExpandable, SeriesEngine, Undecidable

__all__ = ["ShapeProperties", "Step", "shape_properties", "monotonicity_and_minima"]

DPS = 30
_P = sp.Symbol("p", positive=True)
_T = sp.Symbol("t", positive=True)
_W = sp.Symbol("w", positive=True)
_U = sp.Symbol("u", positive=True)

#: One derivation step as performed: (what was done, in words; the resulting expression).
Step = tuple[str, sp.Basic]


@dataclass(frozen=True)
class ShapeProperties:
    """Shape of f over the real line.

    ``monotonicity``: maximal closed intervals, left to right, labelled 'increasing',
    'decreasing' or 'constant'.  ``minima``: local minima (location, value); the location
    is an ``Interval`` where f is constant at a minimum (E-GEM on x <= 0).
    ``derivative_range`` = (inf f', sup f'); ``lipschitz`` = sup |f'|, attained at
    ``lipschitz_point`` (``oo``/``-oo`` where only approached).  ``bounds`` = (inf f, sup f)
    and ``bounds_attained`` says whether each is attained.  ``asymptotes`` maps '-oo'/'+oo'
    to the line a x + b that f approaches (the key is absent where there is none).
    ``steps`` is the derivation as performed, for :mod:`gemsym.proofs`."""

    activation: Activation
    monotonicity: tuple[tuple[sp.Interval, str], ...]
    minima: tuple[tuple[sp.Basic, sp.Expr], ...]
    derivative_range: tuple[sp.Expr, sp.Expr]
    lipschitz: sp.Expr
    bounds: tuple[sp.Expr, sp.Expr]
    asymptotes: dict[str, sp.Expr]
    lipschitz_point: sp.Expr | None = None
    bounds_attained: tuple[bool, bool] = (True, True)
    steps: tuple[Step, ...] = field(default=(), repr=False)


# --------------------------------------------------------------------------- helpers
def _chart(lo: sp.Expr, hi: sp.Expr) -> tuple[sp.Expr, sp.Expr | None]:
    """x as a function of p > 0 on (lo, hi), and the upper bound of p (None: none)."""
    if hi == sp.oo:
        return lo + _P, None
    if lo == -sp.oo:
        return hi - _P, None
    return lo + _P, hi - lo


def _concrete(e: sp.Basic) -> bool:
    return not (sp.sympify(e).free_symbols - {_P, _W, _U, X})


def _num(e: sp.Expr) -> sp.Expr:
    return sp.N(e, DPS + 10)


def _tidy(v: sp.Expr) -> sp.Expr:
    """Canonical form: exp(W(z) + c) -> e^c z / W(z), then factor / simplify."""
    v = sp.sympify(v)
    if v.is_Float or v in (sp.oo, -sp.oo):
        return v
    if v.has(sp.Float) and _concrete(v):
        return sp.Float(sp.N(v, DPS), DPS)
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


def _end_limit(expr: sp.Expr, x: sp.Symbol, point: sp.Expr, from_right: bool) -> sp.Expr:
    """lim f(x) as x -> point (from the right when ``from_right``): the leading term of
    the one-sided series in t -> 0+ (x = point +- t, or x = +-1/t at infinity)."""
    if point == sp.oo:
        sub = 1 / _T
    elif point == -sp.oo:
        sub = -1 / _T
    else:
        sub = point + _T if from_right else point - _T
    g = expr.subs(x, sub)
    engine = SeriesEngine(_T)
    try:
        s = engine.leading_expansion(g, sp.S.One)
        e = engine.low(s)
        c = sp.simplify(s.terms[e])
        if engine.lt(e, 0):
            return sp.oo if _sign(c) > 0 else -sp.oo
        return _tidy(c) if e == 0 else sp.S.Zero
    except (NotExpandable, Undecidable):
        return _tidy(sp.limit(g, _T, 0, "+"))


def _sign(c: sp.Expr) -> int:
    """Sign (+1, -1, 0) of a constant valid for every admissible parameter value."""
    if c in (sp.oo, -sp.oo):
        return 1 if c == sp.oo else -1
    if _concrete(c):
        v = _num(c)
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
    raise ValueError(f"the sign of {c} depends on the parameters; bind them")


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


def _greater(a: sp.Expr, b: sp.Expr, steps: list[Step]) -> bool:
    """a >= b for every admissible parameter value (False: proven a < b); ValueError
    when it cannot be decided.  Non-trivial decisions are recorded in ``steps``."""
    if a == b or a == sp.oo or b == -sp.oo:
        return True
    if b == sp.oo or a == -sp.oo:
        return False
    if _concrete(a) and _concrete(b):
        return bool(_num(a) >= _num(b))
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
    raise ValueError(f"cannot compare {a} and {b} for all parameter values; bind them")


def _extreme(values: list[tuple[sp.Expr, sp.Expr]], largest: bool, steps: list[Step]):
    """The (value, where) pair that is >= (<=) every other value."""
    for cand in values:
        trial: list[Step] = []
        try:
            ok = all(
                (_greater(cand[0], v[0], trial) if largest else _greater(v[0], cand[0], trial))
                for v in values if v is not cand
            )
        except ValueError:
            ok = False
        if ok:
            steps.extend(trial)
            return cand
    raise ValueError("cannot decide which of " + ", ".join(str(v[0]) for v in values)
                     + " is " + ("largest" if largest else "smallest") + "; bind the parameters")


# ------------------------------------------------------------------- zero finding
def _power_form(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(k, g) with expr(p) = g(w) at w = p^k, when p occurs only through that power."""
    f = sp.powsimp(sp.expand(expr), combine="exp")
    exps = {a.exp for a in f.atoms(sp.Pow) if a.base == _P}
    if f.subs({_P**k: 1 for k in exps}).has(_P):
        exps.add(sp.S.One)
    if not exps:
        return None
    for k in sorted(exps, key=sp.default_sort_key):
        ratios = {e: sp.simplify(e / k) for e in exps}
        if all(r.is_integer and r.is_positive for r in ratios.values()):
            g = f.replace(lambda a: a.is_Pow and a.base == _P, lambda a: _W ** ratios[a.exp])
            if sp.S.One in exps:
                g = g.subs(_P, _W ** ratios[sp.S.One])
            if not g.has(_P):
                return k, g
    return None


def _w_roots(g: sp.Expr) -> list[sp.Expr]:
    """Positive roots of a rational function of w."""
    num = sp.numer(sp.together(g))
    if not num.is_polynomial(_W):
        return []
    out = []
    for w in sp.solve(num, _W):
        if w.is_positive or (_concrete(w) and w.is_real and _num(w) > 0):
            out.append(w)
    return out


def _check_candidate(factor: sp.Expr, root: sp.Expr) -> bool:
    """Is ``root`` a real root of ``factor``? (exactly numeric, or at sample values)."""
    syms = (factor.free_symbols | root.free_symbols) - {_P}
    for subs in _samples(syms):
        r = _num(root.subs(subs))
        if not r.is_real or r <= 0:
            return False
        if abs(_num(factor.subs(subs).subs(_P, r))) > sp.Float(10) ** (-DPS // 2):
            return False
    return True


def _numeric_roots(factor: sp.Expr, width: sp.Expr | None) -> list[sp.Expr]:
    """Sign changes of a concrete factor on a geometric grid of p, refined by findroot."""
    g = sp.lambdify(_P, factor, modules="mpmath")
    roots = []
    with mpmath.workdps(DPS):
        top = mpmath.mpf(float(width)) if width is not None else mpmath.mpf(10) ** 4
        grid = [top * mpmath.mpf(10) ** (-k / mpmath.mpf(24)) for k in range(1, 289)][::-1]
        vals = [g(p) for p in grid]
        for (p0, v0), (p1, v1) in zip(zip(grid, vals), zip(grid[1:], vals[1:])):
            # exact zeros on the grid are cancellation (1 + erf(-p) at large p), not roots
            if v0 * v1 < 0:
                roots.append(mpmath.findroot(g, (p0, p1), solver="anderson"))
        return [sp.Float(mpmath.nstr(r, DPS + 5), DPS) for r in roots]


def _solvable(fac: sp.Expr) -> bool:
    funcs = {type(f) for f in fac.atoms(sp.Function)}
    return funcs <= {sp.exp}


def _zeros(expr: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr,
           steps: list[Step]) -> list[sp.Expr] | None:
    """Zeros of ``expr`` inside (lo, hi) (None: identically zero there)."""
    if sp.simplify(expr) == 0:
        return None
    if lo == -sp.oo and hi == sp.oo:
        out = _zeros(expr, x, -sp.oo, sp.S.Zero, steps) or []
        if sp.simplify(expr.subs(x, 0)) == 0:
            out.append(sp.S.Zero)
        return out + (_zeros(expr, x, sp.S.Zero, sp.oo, steps) or [])
    xp, width = _chart(lo, hi)
    num = sp.numer(sp.together(sp.powsimp(expr.subs(x, xp))))
    roots_p: list[sp.Expr] = []
    for fac, _ in sp.factor_list(num)[1]:
        if not fac.has(_P) or fac.is_positive or fac.is_negative:
            continue
        form = _power_form(fac)
        if form is not None and form[1].is_polynomial(_W):
            k, g = form
            found = [w ** (1 / k) for w in _w_roots(g)]
            steps.append((f"zeros of a factor: with $w = p^{{{sp.latex(k)}}}$ ($p > 0$ the "
                          "distance to the end of the branch) it is a polynomial equation",
                          sp.Eq(g, 0)))
        else:
            found = []
            if _solvable(fac):
                try:
                    found = [c for c in sp.solve(fac, _P) if _check_candidate(fac, c)]
                except NotImplementedError:
                    found = []
                if found:
                    steps.append((f"zero in $p$ of the transcendental factor ${sp.latex(fac)}$ "
                                  "(SymPy solve; checked numerically)", sp.Tuple(*found)))
                    slope = sp.factor(sp.diff(fac, _P))
                    if len(found) == 1 and (slope.is_positive or slope.is_negative):
                        steps.append(("the factor is strictly monotone in $p$ (its derivative "
                                      "has one sign), so this zero is its only one", slope))
            if not found:
                if not _concrete(fac):
                    raise ValueError(f"cannot locate the zeros of {fac} with symbolic "
                                     "parameters; bind them")
                found = _numeric_roots(fac, width)
        roots_p.extend(found)
    if width is not None:
        roots_p = [r for r in roots_p if not _concrete(r) or _num(r) < _num(width)]
    roots = [xp.subs(_P, r) for r in roots_p]
    if all(_concrete(r) for r in roots):
        roots = sorted(set(roots), key=_num)
    return roots


def _factor_sign(fac: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> int:
    """Sign of a factor that has no zero inside (lo, hi)."""
    if not fac.has(x):
        return _sign(fac)
    if lo == -sp.oo and hi == sp.oo:
        g = fac
    else:
        g = sp.factor(sp.powsimp(fac.subs(x, _chart(lo, hi)[0])))
    if g.is_positive:
        return 1
    if g.is_negative:
        return -1
    for point, right in ((hi, False), (lo, True)):
        if point in (sp.oo, -sp.oo):
            limit = _end_limit(fac, x, point, right)
            if limit in (sp.oo, -sp.oo) or _sign(limit) != 0:
                return _sign(limit)
    slope = sp.factor(sp.diff(fac, x))
    if slope.is_positive or slope.is_negative:  # monotone factor vanishing at an end
        rising = 1 if slope.is_positive else -1
        if lo != -sp.oo and _check_zero(fac.subs(x, lo)):
            return rising
        if hi != sp.oo and _check_zero(fac.subs(x, hi)):
            return -rising
    raise ValueError(f"cannot decide the sign of {fac} on ({lo}, {hi}); bind the parameters")


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
    return all(abs(_num(e.subs(s))) < sp.Float(10) ** (-DPS // 2) for s in _samples(e.free_symbols))


def _sign_on(expr: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> int:
    """Sign of ``expr`` on (lo, hi), where it has no zero."""
    if _concrete(expr) and _concrete(lo) and _concrete(hi):
        if lo == -sp.oo and hi == sp.oo:
            m = sp.S.Zero
        elif lo == -sp.oo:
            m = hi - 1 - abs(hi)
        elif hi == sp.oo:
            m = lo + 1 + abs(lo)
        else:
            m = (lo + hi) / 2
        return _sign(_num(expr.subs(x, m)))
    num, den = sp.fraction(sp.factor(sp.together(expr)))
    sign = 1
    for part in (num, den):
        coeff, factors = sp.factor_list(part)
        sign *= _sign(coeff)
        for fac, mult in factors:
            sign *= _factor_sign(fac, x, lo, hi) ** mult
    return sign


# --------------------------------------------------------------------------- analysis
def _branch_monotonicity(act: Activation, i: int, steps: list[Step]):
    """Pieces (lo, hi, label) of branch i and candidate values (value, where, attained) of f."""
    x, b = act.x, act.branches[i]
    d1 = sp.diff(b.expr, x)
    steps.append((f"$f'$ on the branch $({sp.latex(b.lower)}, {sp.latex(b.upper)})$", _tidy(d1)))
    zeros = _zeros(d1, x, b.lower, b.upper, steps)
    values = [(_end_limit(b.expr, x, b.lower, True), b.lower, b.lower.is_finite is True),
              (_end_limit(b.expr, x, b.upper, False), b.upper, b.upper.is_finite is True)]
    if zeros is None:
        values.append((_tidy(b.expr), sp.Interval(b.lower, b.upper), True))
        return [(b.lower, b.upper, "constant")], values
    pieces = []
    cuts = [b.lower, *zeros, b.upper]
    for lo, hi in zip(cuts, cuts[1:]):
        label = "increasing" if _sign_on(d1, x, lo, hi) > 0 else "decreasing"
        pieces.append((lo, hi, label))
    for z in zeros:
        values.append((_tidy(b.expr.subs(x, z)), z, True))
        steps.append((f"$f' = 0$ at $x = {sp.latex(z)}$; there $f$ equals", values[-1][0]))
    return pieces, values


def _merge(pieces) -> tuple[tuple[sp.Interval, str], ...]:
    out: list = []
    for lo, hi, label in pieces:
        if out and out[-1][2] == label:
            out[-1] = (out[-1][0], hi, label)
        else:
            out.append((lo, hi, label))
    return tuple((sp.Interval(lo, hi), label) for lo, hi, label in out)


def monotonicity_and_minima(act: Activation, steps: list[Step] | None = None):
    """(monotonicity, minima, candidate values of f): f' is positive / negative / zero
    on each interval; a local minimum sits where f stops decreasing and starts
    increasing (or on a constant stretch with no decreasing piece before it nor
    increasing-then-constant after it)."""
    steps = [] if steps is None else steps
    pieces, values = [], []
    for i in range(len(act.branches)):
        p, v = _branch_monotonicity(act, i, steps)
        pieces += p
        values += v
    mono = _merge(pieces)
    minima = []
    for k, (interval, label) in enumerate(mono):
        left = mono[k - 1][1] if k > 0 else None
        right = mono[k + 1][1] if k + 1 < len(mono) else None
        if label == "constant" and len(mono) > 1 and left in (None, "decreasing") \
                and right in (None, "increasing"):
            inner = interval.inf + 1 if interval.sup == sp.oo else interval.sup - 1
            if interval.inf != -sp.oo and interval.sup != sp.oo:
                inner = (interval.inf + interval.sup) / 2
            expr = act.branches[act.branch_index(inner)].expr
            minima.append((interval, _tidy(expr)))
        if label == "decreasing" and right == "increasing":
            c = interval.sup
            value = next((v for v, w, _ in values if w == c and not isinstance(w, sp.Set)), None)
            if value is None:
                value = _tidy(act.branches[act.branch_index(c)].expr.subs(act.x, c))
            minima.append((c, value))
    return mono, tuple(minima), values


def _derivative_candidates(act: Activation, i: int, steps: list[Step]):
    """(value, where) candidates for the extrema of f' on branch i: end limits and the
    critical points of f' (zeros of f'', or of d f'/du in the power substitution)."""
    x, b = act.x, act.branches[i]
    d1 = sp.diff(b.expr, x)
    out = [(_end_limit(d1, x, b.lower, True), b.lower),
           (_end_limit(d1, x, b.upper, False), b.upper)]
    if sp.simplify(d1) == 0:
        return out
    if b.lower != -sp.oo or b.upper != sp.oo:
        xp, width = _chart(b.lower, b.upper)
        form = _power_form(sp.factor(d1.subs(x, xp))) if width is None else None
        if form is not None:
            k, phi = form
            var, scale, phi = _W, sp.S.One, sp.factor(phi)
            for s in sorted(phi.free_symbols - {_W}, key=str):
                if s.is_positive and not s.is_integer:
                    trial = sp.factor(phi.subs(_W, s * _U))
                    if not trial.has(s):
                        phi, var, scale = trial, _U, s
                        break
            name = "u" if var == _U else "w"
            steps.append((f"substitute ${name} = p^{{{sp.latex(k)}}}"
                          + (f"/{sp.latex(scale)}" if scale != 1 else "")
                          + "$ ($p = |x - c|$, $c$ the end of the branch): $f'$ becomes a "
                          "function of one variable", sp.Eq(sp.Function("phi")(var), phi)))
            dphi = sp.factor(sp.diff(phi, var))
            steps.append((f"$d\\varphi/d{name}$, whose zeros are the critical points of $f'$ "
                          f"(${name}$ is increasing in $p$)", dphi))
            for r in sp.solve(sp.numer(sp.together(dphi)), var):
                if not (r.is_positive or (_concrete(r) and r.is_real and _num(r) > 0)):
                    continue
                value = _tidy(phi.subs(var, r))
                where = xp.subs(_P, (scale * r) ** (1 / k))
                steps.append((f"critical point ${name}^*$ and the value of $f'$ there",
                              sp.Tuple(r, value)))
                out.append((value, where))
            return out
    for z in _zeros(sp.diff(d1, x), x, b.lower, b.upper, steps) or []:
        value = _tidy(d1.subs(x, z))
        steps.append((f"$f'' = 0$ at $x = {sp.latex(z)}$; there $f'$ equals", value))
        out.append((value, z))
    return out


def _asymptote(act: Activation, end: str) -> sp.Expr | None:
    x = act.x
    b = act.branches[-1] if end == "+oo" else act.branches[0]
    point, from_right = (sp.oo, False) if end == "+oo" else (-sp.oo, True)
    slope = _end_limit(sp.expand(b.expr / x), x, point, from_right)
    if slope in (sp.oo, -sp.oo) or slope.has(sp.nan, sp.zoo):
        return None
    icept = _end_limit(b.expr - slope * x, x, point, from_right)
    if icept in (sp.oo, -sp.oo) or icept.has(sp.nan, sp.zoo):
        return None
    return _tidy(slope * x + icept)


def shape_properties(act: Activation) -> ShapeProperties:
    """Monotonicity, minima, (inf f', sup f'), sup |f'|, (inf f, sup f) and asymptotes of
    ``act`` over the real line: exact where SymPy finds the critical points (symbolic N
    and eps included), else to 30 digits.  Raises ValueError when a sign or comparison
    depends on parameters left symbolic."""
    steps: list[Step] = []
    mono, minima, f_values = monotonicity_and_minima(act, steps)
    d_values = []
    for i in range(len(act.branches)):
        d_values += _derivative_candidates(act, i, steps)
    sup_d = _extreme(d_values, True, steps)
    inf_d = _extreme(d_values, False, steps)
    lip = _extreme([sup_d, (-inf_d[0], inf_d[1])], True, steps)
    steps.append(("Lipschitz constant $\\sup |f'| = \\max(\\sup f', -\\inf f')$", lip[0]))
    pairs = [(v, w) for v, w, _ in f_values]
    inf_f, sup_f = _extreme(pairs, False, steps), _extreme(pairs, True, steps)
    attained = tuple(
        best[0] not in (sp.oo, -sp.oo)
        and any(a for v, _, a in f_values if _greater(v, best[0], []) and _greater(best[0], v, []))
        for best in (inf_f, sup_f)
    )
    asym = {end: line for end in ("-oo", "+oo") if (line := _asymptote(act, end)) is not None}
    return ShapeProperties(
        activation=act,
        monotonicity=mono,
        minima=minima,
        derivative_range=(inf_d[0], sup_d[0]),
        lipschitz=lip[0],
        bounds=(inf_f[0], sup_f[0]),
        asymptotes=asym,
        lipschitz_point=None if isinstance(lip[1], sp.Set) else lip[1],
        bounds_attained=attained,  # type: ignore[arg-type]
        steps=tuple(steps),
    )
