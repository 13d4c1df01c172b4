"""The narrow bodies themselves: bounds of their intermediates, their guards dropped, their
limits, interval enclosures and the roundings they must reach (see the package docstring)."""

from __future__ import annotations

import functools
import math

import mpmath
import sympy as sp

from ..stable import R, IPow, PowTimes, StableForm, XTimes
from ..tails import Opaque
from .underflow import rounds_to_zero_near_zero

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


def _unguarded(e: sp.Expr, x: sp.Symbol, check: bool = True, reals=None) -> sp.Expr | None:
    """The cached ``_unguarded_body`` (the writers and the plans ask for the same bodies
    many times; each near-zero proof is interval arithmetic over a few spans)."""
    return _unguarded_body(e, x, check, None if reals is None else tuple(reals))


@functools.lru_cache(maxsize=4096)
def _unguarded_body(e: sp.Expr, x: sp.Symbol, check: bool, reals: tuple | None
                    ) -> sp.Expr | None:
    """``e`` with every underflow guard Piecewise((a, |x^k| >= T), (b, True)) replaced by
    a, when (``check``: k concrete) x^k stays a normal float64 number for every nonzero
    narrow input, or (``reals`` given: the real parameters' symbols) where it does not, the
    body rounds to the zero of its exact value's sign there in every narrow dtype
    (:func:`.underflow.rounds_to_zero_near_zero`); and every overflow guard
    Piecewise((1/b^k, |b^k| < M), ((1/b)^k, True)) (``tails._reciprocal_power``) replaced
    by 1/b^k, where b^k stays below 2^BUDGET for every narrow input (``_bound``: (x - 1)^2
    of a family written with 1 - x^3, whose SymPy factors are x - 1 and x^2 + x + 1);
    None if a guard cannot be dropped."""
    ok = True
    beyond = 0  # the largest k whose x^k is not normal for the smallest inputs

    def drop(p: sp.Piecewise) -> sp.Expr:
        nonlocal ok, beyond
        # a guard, then one or more forms for |x^k| below it (``tails.common_power_first``)
        (a, cond), (_, last) = (p.args[0], p.args[-1]) if len(p.args) >= 2 else ((None, None),) * 2
        if a is not None and last is sp.true and _within_budget(cond, x, reals or ()):
            return a
        if a is None or last is not sp.true or not isinstance(cond, sp.GreaterThan):
            ok = False
            return p
        inner = cond.lhs.args[0] if isinstance(cond.lhs, sp.Abs) else None
        inner = inner.args[0] if isinstance(inner, Opaque) else inner
        if inner == x:  # x^1 (x/(x + 1)): a normal number for every nonzero narrow input
            return a
        if not (isinstance(inner, IPow) and inner.args[0] == x) or (
                check and not inner.args[1].is_Integer):
            ok = False
            return p
        if check and int(inner.args[1]) * SMALLEST_EXPONENT > NORMAL_EXPONENT:
            if reals is None:
                ok = False
                return p
            beyond = max(beyond, int(inner.args[1]))
        return a

    out = e.replace(lambda t: isinstance(t, sp.Piecewise), drop)
    if not ok:
        return None
    if beyond:
        env = _params_env(reals)
        if env is None or not rounds_to_zero_near_zero(out, x, env, beyond):
            return None
    return out


def _within_budget(cond, x: sp.Symbol, reals) -> bool:
    """``cond`` is an overflow guard's |b^k| < M (M at least 2^BUDGET) whose power stays
    below 2^BUDGET for every narrow input and real parameter (``_bound``): it always
    holds there."""
    if not isinstance(cond, sp.StrictLessThan) or not cond.rhs.is_Number:
        return False
    if float(cond.rhs) < 2.0 ** BUDGET or not isinstance(cond.lhs, sp.Abs):
        return False
    inner = cond.lhs.args[0]
    inner = inner.args[0] if isinstance(inner, Opaque) else inner
    if not isinstance(inner, IPow):
        return False
    try:
        value, worst = _bound(inner, x, reals)
    except _Unsupported:
        return False
    return max(value, worst) < BUDGET


def _plain(e: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``e`` as an ordinary SymPy expression (for limits)."""
    e = e.replace(lambda t: isinstance(t, Opaque), lambda t: t.args[0])
    e = e.replace(lambda t: isinstance(t, (XTimes, PowTimes)),
                  lambda t: t.args[0] * t.args[1] ** t.args[2])
    e = e.replace(lambda t: isinstance(t, IPow), lambda t: t.args[0] ** t.args[1])
    e = e.replace(lambda t: isinstance(t, sp.Piecewise), lambda t: t.args[0][0])
    return e.xreplace({R: 1 / x})


def _bodies(form: StableForm, values, x, ints, reals):
    """The narrow body of ``form`` without its guards, one per integer parameter value
    (None where a guard cannot be dropped)."""
    for n in values or (None,):
        yield _unguarded(form.small.xreplace({ints[0]: n} if ints else {}), x, reals=reals)


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


def _positive_zero(e: sp.Expr, x: sp.Symbol, at: sp.Expr, reals) -> bool:
    """``e`` evaluated in IEEE float64 at x = at (``_ieee``) is +0 (not numpy-evaluable: no
    claim made)."""
    import numpy as np

    v = _ieee(e, x, float(at), reals)
    return v is not None and bool(v == 0 and not np.signbit(v))
