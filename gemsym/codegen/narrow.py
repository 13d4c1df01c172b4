"""Power forms for inputs of a narrow dtype evaluated in float64: no |x| > 1 side.

A power form is evaluated as ``where(|x| <= 1, small, large)`` because the |x| <= 1 side
(x^k/(x^j + c), ...) overflows for large |x| in the compute dtype.  Finite float32, bfloat16
and float16 values are below 2^128 in magnitude; evaluated in float64 (whose largest value
is about 2^1024), a |x| <= 1 side whose intermediates stay below 2^1000 for |x| <= 2^128 is
exact enough everywhere (a few float64 roundings: 2^-50 relative, far below a float32 ULP)
and needs neither the |x| > 1 side, its comparisons nor its ``where``s.  At x = +-inf the
value is the form's limit there, computed here by SymPy.  The underflow guard of the
|x| <= 1 side (``tails.common_power_first``: x^k S^-m R where |x^k| < 2^-100) is not
needed either when x^k stays a normal float64 number for the smallest nonzero input,
2^-149 (the float32 subnormal; bfloat16's and float16's are larger).

The comparisons that remain (x < junction where an output is a constant piece there,
x == +-inf for the limits) each cost a comparison and a selection, about ten multiplications
on the eager PyTorch path; a :class:`Clamp` of x replaces them where the bodies allow it:
the constant pieces are the body's exact value at the junction, and the body at 2^136
rounds to the limit at +oo in every narrow dtype (checked with interval arithmetic over the
real parameters' range).

The claims are checked per value of the integer parameter (N = 1 .. ``MAX_INT``); the
generated formulas take the narrow body only for the values where they hold.  Real
parameters count as numbers below 2^128 in magnitude (and 0 or at least 2^-128, for the
reciprocals of a parameter) too: the generated code takes the narrow body only when they
are (``writer._narrow_lines``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple, Sequence

import mpmath

import sympy as sp

from .stable import R, IPow, PowTimes, StableForm, XTimes
from .tails import Opaque

__all__ = ["INPUT_EXPONENT", "Clamp", "NarrowPlan", "narrow_outputs"]

#: every finite float32/bfloat16/float16 value (and real parameter the runtime lets through)
#: is below 2^INPUT_EXPONENT in magnitude
INPUT_EXPONENT = 128
#: the smallest nonzero input of those dtypes is 2^-SMALLEST_EXPONENT (float32's subnormal)
SMALLEST_EXPONENT = 149
#: intermediates must stay below 2^BUDGET (float64 overflows at 2^1024; the margin covers
#: sums of a few terms and the rounding of the bound itself)
BUDGET = 1000
#: x^k is a normal float64 number with its 53 bits at or above 2^-969 (2^-1022 * 2^53)
NORMAL_EXPONENT = 969
#: the integer parameter values tried (the narrow body is printed for those that pass)
MAX_INT = 8


class _Unsupported(Exception):
    pass


def _bound(e: sp.Expr, x: sp.Symbol, reals, x_exp: float = INPUT_EXPONENT
           ) -> tuple[float, float]:
    """(upper bound of log2 |e|, upper bound of log2 of every intermediate of its
    evaluation) for |x| below 2^x_exp and |theta| below 2^INPUT_EXPONENT, a concrete
    integer parameter.
    A reciprocal 1/b counts as at most 1: the denominators of a power form do not vanish on
    |x| > 1 (the form is finite there) and grow with |x| (x^j + c)."""
    if e.is_Number:
        v = math.log2(abs(float(e))) if e != 0 else -math.inf
        return v, v
    if isinstance(e, sp.Symbol):
        if e != x and e not in reals:
            raise _Unsupported(e)
        v = float(x_exp if e == x else INPUT_EXPONENT)
        return v, v
    if isinstance(e, (Opaque, sp.Abs)):
        return _bound(e.args[0], x, reals, x_exp)
    if isinstance(e, IPow):
        if not e.args[1].is_Integer or e.args[1] < 0:
            raise _Unsupported(e)
        v, m = _bound(e.args[0], x, reals, x_exp)
        return int(e.args[1]) * max(v, 0.0), max(m, int(e.args[1]) * max(v, 0.0))
    if isinstance(e, XTimes):
        if not e.args[2].is_Integer:
            raise _Unsupported(e)
        (v, m), (w, n) = _bound(e.args[0], x, reals, x_exp), _bound(e.args[1], x, reals, x_exp)
        total = v + int(e.args[2]) * max(w, 0.0)
        return total, max(m, n, total)
    if isinstance(e, sp.Pow):
        if not e.exp.is_Integer:
            raise _Unsupported(e)
        v, m = _bound(e.base, x, reals, x_exp)
        power = abs(int(e.exp)) * max(v, 0.0)
        if e.exp > 0:
            return power, max(m, power)
        if not e.base.has(x):
            # 1/theta^k: the runtime's parameters are 0 or at least 2^-INPUT_EXPONENT in
            # magnitude; any other x-free denominator may be as small as it likes
            if e.base.is_Number or e.base in reals:
                small = (-math.log2(abs(float(e.base))) if e.base.is_Number
                         else float(INPUT_EXPONENT))
                return abs(int(e.exp)) * small, max(m, power, abs(int(e.exp)) * small)
            raise _Unsupported(e)
        return 0.0, max(m, power)
    if isinstance(e, sp.Mul):
        parts = [_bound(a, x, reals, x_exp) for a in e.args]
        value = sum(v for v, _ in parts)
        running = sum(max(v, 0.0) for v, _ in parts)  # any order of the products
        return value, max([running, *(m for _, m in parts)])
    if isinstance(e, sp.Add):
        parts = [_bound(a, x, reals, x_exp) for a in e.args]
        value = max(v for v, _ in parts) + math.log2(len(parts))
        return value, max([value, *(m for _, m in parts)])
    if isinstance(e, sp.Piecewise):  # both sides and the conditions are evaluated
        parts = [_bound(a, x, reals, x_exp) for a in (*(v for v, _ in e.args),
                                           *(c for _, c in e.args if c is not sp.true))]
        return max(v for v, _ in parts), max(m for _, m in parts)
    if isinstance(e, sp.core.relational.Relational):
        parts = [_bound(e.lhs, x, reals, x_exp), _bound(e.rhs, x, reals, x_exp)]
        return max(v for v, _ in parts), max(m for _, m in parts)
    raise _Unsupported(e)


def _unguarded(e: sp.Expr, x: sp.Symbol, check: bool = True) -> sp.Expr | None:
    """``e`` with every underflow guard Piecewise((a, |x^k| >= T), (b, True)) replaced by
    a, when (``check``: k concrete) x^k stays a normal float64 number for every nonzero
    narrow input; None if a guard cannot be dropped."""
    ok = True

    def drop(p: sp.Piecewise) -> sp.Expr:
        nonlocal ok
        # a guard, then one or more forms for |x^k| below it (``tails.common_power_first``)
        (a, cond), (_, last) = (p.args[0], p.args[-1]) if len(p.args) >= 2 else ((None, None),) * 2
        if a is None or last is not sp.true or not isinstance(cond, sp.GreaterThan):
            ok = False
            return p
        inner = cond.lhs.args[0] if isinstance(cond.lhs, sp.Abs) else None
        inner = inner.args[0] if isinstance(inner, Opaque) else inner
        if not (isinstance(inner, IPow) and inner.args[0] == x) or (check and not (
                inner.args[1].is_Integer
                and int(inner.args[1]) * SMALLEST_EXPONENT <= NORMAL_EXPONENT)):
            ok = False
            return p
        return a

    out = e.replace(lambda t: isinstance(t, sp.Piecewise), drop)
    return out if ok else None


def _plain(e: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``e`` as an ordinary SymPy expression (for limits)."""
    e = e.replace(lambda t: isinstance(t, Opaque), lambda t: t.args[0])
    e = e.replace(lambda t: isinstance(t, (XTimes, PowTimes)),
                  lambda t: t.args[0] * t.args[1] ** t.args[2])
    e = e.replace(lambda t: isinstance(t, IPow), lambda t: t.args[0] ** t.args[1])
    e = e.replace(lambda t: isinstance(t, sp.Piecewise), lambda t: t.args[0][0])
    return e.xreplace({R: 1 / x})


def _limit(e: sp.Expr, x: sp.Symbol, to: sp.Expr) -> sp.Expr | None:
    try:
        v = sp.limit(e, x, to)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if v.has(sp.nan, sp.zoo, sp.AccumBounds, sp.Limit) or v.has(x):
        return None
    return v


@dataclass(frozen=True)
class Clamp:
    """The narrow bodies of one output group evaluated at x clamped into [lo, hi] (None: no
    bound on that side), which replaces selections by one clamp (eager ``torch.where`` and
    ``masked_fill`` cost about ten multiplications each on 2^16 float64 elements):

    - ``hi`` (and ``lo`` when ``junction`` is false): a power of two beyond every finite
      narrow input (2^INPUT_EXPONENT), where an output's body rounds to its limit at +oo
      (-oo) in every narrow dtype (+-inf where the limit is infinite), so that +-inf inputs
      need no comparison for it;
    - ``junction``: ``lo`` is the family's one junction j, where every output is a constant
      c on x < j; where its right-hand body gives exactly c at j (+0 for 0), the comparison
      with j and the left piece are dropped.

    The outputs named in ``keep_lo`` / ``keep_hi`` fail those checks (another output of the
    group passed them): they keep their comparisons (x < j, or with -oo / +oo), made on the
    input before the clamp.  Finite inputs in [lo, hi] keep their bits; NaN stays NaN (a
    clamp propagates it)."""

    lo: sp.Expr | None
    hi: sp.Expr | None
    junction: bool = False
    keep_lo: frozenset = frozenset()
    keep_hi: frozenset = frozenset()
    #: each output is L(x_l) + R(x_r) instead of where(x < 0, L(x), R(x)) (see ``_sides``):
    #: x_l = min(x, -0) clamped at lo, x_r = max(x, +0) clamped at hi
    sides: bool = False


class NarrowPlan(NamedTuple):
    """The integer parameter values the narrow bodies hold for, the outputs with those
    bodies, and the clamp of x that they are evaluated at (None: none)."""

    values: tuple[int, ...]
    outputs: list[tuple[str, tuple[StableForm, ...]]]
    clamp: Clamp | None = None


#: exponents k tried for the clamp bound 2^k at +-oo (the smallest that passes is taken)
CLAMP_EXPONENTS = (136, 160, 200, 256)


def _bodies(form: StableForm, values, x, ints):
    """The narrow body of ``form`` without its guards, one per integer parameter value
    (None where a guard cannot be dropped)."""
    for n in values or (None,):
        yield _unguarded(form.small.xreplace({ints[0]: n} if ints else {}), x)


def _interval(e: sp.Expr, env: dict):
    """An interval enclosing ``e`` (mpmath.iv) for the values of its symbols in ``env``."""
    iv = mpmath.iv
    if e.is_Rational:
        return iv.mpf(int(e.p)) / iv.mpf(int(e.q))
    if e.is_Float:
        return iv.mpf(mpmath.mpf(e))
    if isinstance(e, sp.Symbol):
        if e not in env:
            raise _Unsupported(e)
        return env[e]
    if isinstance(e, sp.Add):
        out = iv.mpf(0)
        for a in e.args:
            out = out + _interval(a, env)
        return out
    if isinstance(e, sp.Mul):
        out = iv.mpf(1)
        for a in e.args:
            out = out * _interval(a, env)
        return out
    if isinstance(e, sp.Pow) and e.exp.is_Integer:
        b = _interval(e.base, env)
        k = int(e.exp)
        if k < 0:
            if 0 in b:
                raise _Unsupported(e)
            return 1 / b ** (-k)
        return b ** k
    if isinstance(e, sp.Abs):
        return abs(_interval(e.args[0], env))
    raise _Unsupported(e)


def _narrow_number(c: sp.Expr) -> bool:
    """c is exact in float32, bfloat16 and float16 (a small dyadic number): an evaluation
    within 2^-40 relative of it rounds to it in each."""
    if not c.is_Rational or c == 0:
        return False
    q = int(c.q)
    return q & (q - 1) == 0 and abs(int(c.p)) < 256 and 2.0 ** -14 <= abs(float(c)) <= 2.0 ** 15


def _rounds_to(v, limit: sp.Expr) -> bool:
    """Every value of the interval ``v``, evaluated in float64 to a few roundings, rounds to
    ``limit`` in every narrow dtype (the sign of a zero included: +0)."""
    big = mpmath.mpf(2) ** (INPUT_EXPONENT + 1)
    if limit == sp.oo:
        return v.a > big
    if limit == -sp.oo:
        return v.b < -big
    if limit == 0:
        return v.a >= 0 and v.b <= mpmath.mpf(2) ** -200
    if not _narrow_number(limit):
        return False
    c = mpmath.mpf(int(limit.p)) / int(limit.q)
    tol = abs(c) * mpmath.mpf(2) ** -40
    return c - tol <= v.a and v.b <= c + tol


def _params_env(reals) -> dict | None:
    """The real parameters as intervals: 2^-128 .. 2^128 for a positive one (the narrow
    bodies are taken for such values only); None if one may have either sign."""
    env = {}
    for s in reals:
        if not s.is_positive:
            return None
        bound = mpmath.mpf(2) ** INPUT_EXPONENT
        env[s] = mpmath.iv.mpf([1 / bound, bound])
    return env


def _end_bound(outputs, values, x, ints, reals, side: int
               ) -> tuple[sp.Expr | None, frozenset]:
    """(2^k (side +1) or -2^k (side -1), the names of the outputs that keep their
    comparison with +-oo): the smallest k of ``CLAMP_EXPONENTS`` at which the most outputs'
    outermost bodies on that side stay below 2^BUDGET and round to their limits there (a
    constant piece needs no comparison); (None, {}) if no body does."""
    env = _params_env(reals)
    if env is None:
        return None, frozenset()
    forms = {name: fs[-1] if side > 0 else fs[0] for name, fs in outputs}
    if any(f.kind not in ("const", "power") and not (f.kind == "sigmoid" and f.limits)
           for f in forms.values()):
        # a body with no comparison of its own at +-oo would be evaluated at +-2^k instead
        return None, frozenset()
    candidates = {name: f for name, f in forms.items() if f.kind == "power"
                  and f.large is None and f.limits is not None}
    best: tuple[sp.Expr | None, frozenset] = (None, frozenset())
    most = 0
    for k in CLAMP_EXPONENTS:
        at = mpmath.iv.mpf(2) ** k * side
        passed = set()
        for name, f in candidates.items():
            limit = f.limits[1 if side > 0 else 0]
            try:
                ok = all(small is not None and _bound(small, x, set(reals), k)[1] <= BUDGET
                         and _rounds_to(_interval(_plain(small, x), {**env, x: at}), limit)
                         for small in _bodies(f, values, x, ints))
            except _Unsupported:
                ok = False
            if ok:
                passed.add(name)
        if len(passed) > most:
            most = len(passed)
            best = (side * sp.Integer(2) ** k, frozenset(n for n in candidates if n not in passed))
    return best


def _positive_zero(e: sp.Expr, x: sp.Symbol, at: sp.Expr, reals) -> bool:
    """``e`` evaluated in IEEE float64 at x = at (``_ieee``) is +0 (not numpy-evaluable: no
    claim made)."""
    import numpy as np

    v = _ieee(e, x, float(at), reals)
    return v is not None and bool(v == 0 and not np.signbit(v))


def _exact_at(form: StableForm, values, x, ints, reals, at: sp.Expr, c: sp.Expr) -> bool:
    """The narrow body of ``form`` gives exactly c at x = at for every integer parameter
    value, +0 where c = 0 (its points' comparisons are made on the input before a clamp:
    they do not apply to an input moved to ``at``)."""
    if form.kind == "const":
        return sp.simplify(form.small - c) == 0 and (c != 0 or form.small.is_zero)
    if form.kind != "power" or form.large is not None:
        return False
    for small in _bodies(form, values, x, ints):
        if small is None:
            return False
        plain = _plain(small, x)
        v = plain.subs(x, at)
        if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or sp.simplify(v - c) != 0:
            return False
        if c == 0 and not _positive_zero(plain, x, at, reals):
            return False
    return True


#: a float64 value computed within a few roundings of an exact value of magnitude at least
#: 2^-NONZERO_EXPONENT is not zero (the narrow bodies' accuracy, see the module docstring)
NONZERO_EXPONENT = 900


def _nonzero(form: StableForm, values, x, ints, reals, lo: sp.Expr, hi: sp.Expr) -> bool:
    """The narrow body of ``form`` is at least 2^-NONZERO_EXPONENT in magnitude for every x
    between lo and hi (of one sign, excluding 0) and every real parameter's narrow value
    (interval arithmetic over spans of 2^8 in |x|), for every integer parameter value: its
    float64 value is never a zero there."""
    env = _params_env(reals)
    if env is None:
        return False
    sign = 1 if hi > 0 else -1
    a, b = (int(math.log2(abs(float(v)))) for v in ((lo, hi) if sign > 0 else (hi, lo)))
    small = mpmath.mpf(2) ** -NONZERO_EXPONENT
    for body in _bodies(form, values, x, ints):
        if body is None:
            return False
        plain = _plain(body, x)
        for e in range(a, b, 8):
            span = sorted((sign * mpmath.mpf(2) ** e, sign * mpmath.mpf(2) ** min(e + 8, b)))
            try:
                v = _interval(plain, {**env, x: mpmath.iv.mpf(span)})
            except (_Unsupported, ZeroDivisionError):
                return False
            if not (v.a >= small or v.b <= -small):
                return False
    return True


def _ieee(e: sp.Expr, x: sp.Symbol, at: float, reals):
    """``e`` evaluated in IEEE float64 at x = at, the real parameters 1.0 (the sign of a
    zero does not depend on positive magnitudes); None where numpy cannot evaluate it."""
    import numpy as np

    try:
        fn = sp.lambdify([x, *reals], e, "numpy")
        with np.errstate(all="ignore"):
            return np.float64(fn(np.float64(at), *[np.float64(1.0)] * len(reals)))
    except (TypeError, ValueError, NameError):
        return None


def _sides(left: StableForm, right: StableForm, values, x, ints, reals, lo, hi) -> bool:
    """An output L on x < 0, R on x > 0 is L(x_l) + R(x_r) bit for bit, where x_l = -0 for
    x > 0 (else max(x, lo)) and x_r = +0 for x < 0 (else min(x, hi)), x_l = x_r = -0 at
    x = -0, and x_r = +0, x_l = +0 or -0 at x = +0 (so a sum replaces a comparison and a
    selection, five times a multiplication on the eager PyTorch path; see
    ``TorchPrinter.side_clamp``), for every integer parameter value:

    - L(-0) and R(+0) are zeros, and at x = +0 (x_l either zero) and at x = -0 the sum is
      R's value there, bitwise (the sign of a zero included);
    - for x > 0 the sum is R(x) + L(-0): exact where L(-0) = -0, else R is never a zero
      there (``_nonzero``: R(x) = -0 would become +0);
    - for x < 0 the sum is L(x) + R(+0): likewise."""
    import numpy as np

    if not all(f.kind == "power" and f.large is None and not f.points for f in (left, right)):
        return False
    nonzero_needed = {"l": False, "r": False}
    for lb, rb in zip(_bodies(left, values, x, ints), _bodies(right, values, x, ints)):
        if lb is None or rb is None:
            return False
        lp, rp = _plain(lb, x), _plain(rb, x)
        # keyed by the sign's name: 0.0 and -0.0 are equal keys
        at = {side + z: _ieee(f, x, float(z + "0"), reals) for side, f in (("l", lp), ("r", rp))
              for z in ("+", "-")}
        if any(v is None for v in at.values()) or at["l-"] != 0 or at["r+"] != 0:
            return False
        for left_at, right_at in (("l+", "r+"), ("l-", "r+"), ("l-", "r-")):
            total, want = at[left_at] + at[right_at], at[right_at]
            if total != want or np.signbit(total) != np.signbit(want):
                return False
        # a +0 on one side's half line turns a -0 of the other side's into +0
        nonzero_needed["r"] |= not np.signbit(at["l-"])
        nonzero_needed["l"] |= not np.signbit(at["r+"])
    # _nonzero checks every integer parameter value at once
    tiny = sp.Integer(2) ** -SMALLEST_EXPONENT
    return ((not nonzero_needed["r"] or _nonzero(right, values, x, ints, reals, tiny, hi))
            and (not nonzero_needed["l"] or _nonzero(left, values, x, ints, reals, lo, -tiny)))


def _clamp(outputs, values, x, ints, reals, junctions, sides: bool = False) -> Clamp | None:
    """The :class:`Clamp` of the narrow outputs; None where neither end nor the junction
    qualifies for any output.  ``sides``: an output group with one junction at 0, both
    ends clamped for every output, may be evaluated as sums of its two sides (``_sides``;
    every output must pass)."""
    hi, keep_hi = _end_bound(outputs, values, x, ints, reals, +1)
    passed = set()
    if len(junctions) == 1 and all(len(fs) == 2 and fs[0].kind == "const" for _, fs in outputs):
        passed = {name for name, fs in outputs
                  if _exact_at(fs[1], values, x, ints, reals, junctions[0], fs[0].small)}
    if passed:
        lo, junction = junctions[0], True
        keep_lo = frozenset(name for name, _ in outputs if name not in passed)
    else:
        (lo, keep_lo), junction = _end_bound(outputs, values, x, ints, reals, -1), False
    if lo is None and hi is None:
        return None
    if (sides and not junction and lo is not None and hi is not None and not keep_lo
            and not keep_hi and len(junctions) == 1 and junctions[0] == 0
            and all(len(fs) == 2 and _sides(fs[0], fs[1], values, x, ints, reals, lo, hi)
                    for _, fs in outputs)):
        return Clamp(lo, hi, False, sides=True)
    return Clamp(lo, hi, junction, keep_lo, keep_hi)


def _drop_points(form: StableForm, values, x, ints, reals) -> StableForm:
    """``form`` without the points where its narrow body already gives the value."""
    keep = tuple((p, v) for p, v in form.points
                 if not _exact_at(form, values, x, ints, reals, p, v))
    return replace(form, points=keep)


def narrow_outputs(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                   ints: Sequence[sp.Symbol], reals: Sequence[sp.Symbol],
                   junctions: Sequence[sp.Expr] = (), sides: bool = False) -> NarrowPlan | None:
    """The :class:`NarrowPlan` of the narrow body: every power form without its |x| > 1
    side (``large`` None), with its limits at -oo and +oo (``limits``) and without the
    points where that body already gives the value, valid for the integer parameter values
    it lists, and the :class:`Clamp` of x that replaces comparisons (``junctions``: the
    family's, between the outputs' pieces; ``sides``: the clamp may make sums of the two
    sides, see ``Clamp``); None where there is no power form, more than
    one integer parameter, or no value passes.  The printed forms keep the symbolic integer
    parameter (the same code as the general body on |x| <= 1)."""
    if len(ints) > 1 or not any(f.kind == "power" for _, fs in outputs for f in fs):
        return None
    # one pass: past a body over the budget only where a lower clamp could apply
    more, new, strict = _collect(outputs, x, ints, reals, _constant_left(outputs, junctions))
    if len(more) > strict:
        low = _low_plan(more, new, x, ints, reals, tuple(junctions), strict)
        if low is not None:
            return low
    return _done(more[:strict], new, x, ints, reals, junctions, sides)


def _collect(outputs, x: sp.Symbol, ints, reals, tight: bool):
    """(the integer parameter values, first ones first, for which every power form has a
    narrow body with limits at -oo and +oo; the outputs with those bodies; how many of the
    first values have every body within the budget for |x| up to 2^INPUT_EXPONENT).
    ``tight``: a body over that budget passes, for ``_low_plan`` to bound x lower."""
    candidates = list(range(1, MAX_INT + 1)) if ints else [None]
    passed: list[int | None] = []
    new: list[tuple[str, tuple[StableForm, ...]]] | None = None
    strict: int | None = None
    for n in candidates:
        subs = {ints[0]: n} if ints else {}
        symbolic = []
        for name, forms in outputs:
            row_sym = []
            for form in forms:
                if form.kind != "power":
                    row_sym.append(form)
                    continue
                small_n = _unguarded(form.small.xreplace(subs), x)
                small = _unguarded(form.small, x, check=False)
                if small_n is None or small is None:
                    return passed, new, len(passed) if strict is None else strict
                try:
                    _, worst = _bound(small_n, x, set(reals))
                except _Unsupported:
                    return passed, new, len(passed) if strict is None else strict
                if worst > BUDGET and strict is None:
                    strict = len(passed)
                    if not tight:
                        return passed, new, strict
                plain = _plain(small_n, x)
                limits = (_limit(plain, x, -sp.oo), _limit(plain, x, sp.oo))
                if None in limits:
                    return passed, new, len(passed) if strict is None else strict
                row_sym.append(replace(form, small=small, large=None, limits=limits))
            symbolic.append((name, tuple(row_sym)))
        if new is not None and [f.limits for _, fs in new for f in fs if f.kind == "power"] != \
                [f.limits for _, fs in symbolic for f in fs if f.kind == "power"]:
            break  # the limits depend on N: the first values only
        new = new if new is not None else symbolic
        passed.append(n)
    return passed, new, len(passed) if strict is None else strict


#: exponents k tried, largest first, for an upper clamp at 2^k below the largest finite
#: narrow input (``_low_plan``)
LOW_CLAMP_EXPONENTS = (120, 112, 96, 80, 64, 48, 32, 24, 16)


def _tail(body: sp.Expr, x: sp.Symbol, limit: sp.Expr):
    """(t, numerator, denominator) of body(1/t) - limit as a quotient of polynomials in
    t = 1/x; None where that fails."""
    t = sp.Dummy("t", nonnegative=True)
    try:
        num, den = sp.fraction(sp.cancel(sp.together(_plain(body, x).subs(x, 1 / t) - limit)))
    except (sp.PolynomialError, TypeError, ValueError):
        return None
    return t, num, den


def _tail_rounds(tail, limit: sp.Expr, k: int, env: dict) -> bool:
    """For every x >= 2^k and every real parameter's narrow value, the exact body rounds to
    ``limit`` in every narrow dtype, and so does its float64 evaluation at 2^k
    (``_rounds_to``): limit + num(t)/den(t) enclosed by interval arithmetic over
    t = 1/x in [0, 2^-k], the denominator's enclosure excluding 0."""
    if tail is None or not (limit == 0 or _narrow_number(limit)):
        return False
    t, num, den = tail
    span = {**env, t: mpmath.iv.mpf([0, mpmath.mpf(2) ** -k])}
    try:
        d = _interval(den, span)
        if d.a <= 0 <= d.b:
            return False
        v = _interval(num, span) / d
    except (_Unsupported, ZeroDivisionError):
        return False
    return _rounds_to(v + mpmath.iv.mpf(int(limit.p)) / int(limit.q), limit)


def _constant_left(outputs, junctions) -> bool:
    """Every output is a constant left of the family's one junction and a power form right
    of it (the groups ``_low_plan`` may clamp)."""
    return len(junctions) == 1 and all(
        len(fs) == 2 and fs[0].kind == "const" and fs[1].kind == "power" for _, fs in outputs)


def _low_plan(passed, new, x, ints, reals, junctions, strict: int) -> NarrowPlan | None:
    """The plan of the longest prefix of ``passed`` (longer than the ``strict`` values'
    prefix) whose bodies fit the budget only for x below 2^k < 2^INPUT_EXPONENT: every output
    a constant on x < j (the family's one junction) that its body gives exactly at j, and a
    finite limit at +oo that the body rounds to beyond 2^k (``_tail_rounds``), so that x
    clamped into [j, 2^k] gives every finite narrow input's bits (its value rounds to the
    limit beyond 2^k, and so does the body at 2^k) and the limits at +-inf.  A float32 GEM
    f' with N = 2 (x^4 (x^4 + 5)/(x^4 + 1)^2, (x^4 + 1)^2 ~ 2^1024 at the largest float32)
    takes its narrow body with x clamped into [0, 2^120]."""
    env = _params_env(reals)
    if (env is None or not _constant_left(new, junctions)
            or any(fs[1].limits is None for _, fs in new)):
        return None
    tails: dict = {}
    # prefixes of ``passed`` itself: a family without an integer parameter has [None]
    for m in range(len(passed), strict, -1):
        values = tuple(n for n in passed[:m] if n is not None)
        if not all(_exact_at(fs[1], values, x, ints, reals, junctions[0], fs[0].small)
                   for _, fs in new):
            return None
        bodies = [(fs[1].limits[1], body) for _, fs in new
                  for body in _bodies(fs[1], values, x, ints)]
        if any(body is None for _, body in bodies):
            return None
        for limit, body in bodies:
            if (body, limit) not in tails:
                tails[(body, limit)] = _tail(body, x, limit)
        for k in LOW_CLAMP_EXPONENTS:
            if abs(junctions[0]) > sp.Integer(2) ** k:  # x in [j, 2^k]: |x| <= 2^k
                continue
            try:
                fits = all(_bound(body, x, set(reals), k)[1] <= BUDGET for _, body in bodies)
            except _Unsupported:
                return None
            if fits and all(_tail_rounds(tails[(body, limit)], limit, k, env)
                            for limit, body in bodies):
                return _done(passed[:m], new, x, ints, reals, junctions, False,
                             Clamp(junctions[0], sp.Integer(2) ** k, True))
    return None


def _done(passed, new, x, ints, reals, junctions, sides, clamp: Clamp | None = None
          ) -> NarrowPlan | None:
    """The plan of ``passed`` and ``new`` (``_collect``), with ``clamp`` or the one
    ``_clamp`` finds."""
    if not passed or new is None:
        return None
    values = tuple(n for n in passed if n is not None)
    new = [(name, tuple(_drop_points(f, values, x, ints, reals)
                        if f.kind == "power" and f.large is None else f for f in forms))
           for name, forms in new]
    if clamp is None:
        clamp = _clamp(new, values, x, ints, reals, tuple(junctions), sides)
    bare = [f for _, forms in new for f in forms if f.kind == "power" and f.large is None]
    subs = _shared_powers([f.small for f in bare], values)
    return NarrowPlan(values, [(name, tuple(replace(f, small=f.small.xreplace(subs))
                                            if f in bare else f for f in forms))
                               for name, forms in new], clamp)


def _shared_powers(exprs, values: tuple[int, ...]) -> dict:
    """{x^(k+1): x * x^k} where both powers occur in ``exprs`` (one output group) and k is
    a power of two for every integer parameter value in ``values``: one multiplication
    fewer, the same bits (binary powering of k + 1 on the plain path is x * x^k exactly
    when k is a power of two)."""
    powers = {}
    for e in exprs:
        for p in e.atoms(IPow):
            if isinstance(p.args[0], sp.Symbol):
                powers[(p.args[0], sp.expand(p.args[1]))] = p
    subs = {}
    for (base, k), p in powers.items():
        below = powers.get((base, sp.expand(k - 1)))
        if below is None:
            continue
        ints = [s for s in k.free_symbols if s.is_integer]
        ks = [int(sp.expand(k - 1).subs({s: n for s in ints})) for n in (values or (0,))]
        if all(v >= 2 and v & (v - 1) == 0 for v in ks):
            subs[p] = base * below
    return subs
