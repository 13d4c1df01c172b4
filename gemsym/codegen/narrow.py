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

The claims are checked per value of the integer parameter (N = 1 .. ``MAX_INT``); the
generated formulas take the narrow body only for the values where they hold.  Real
parameters count as numbers below 2^128 in magnitude (and 0 or at least 2^-128, for the
reciprocals of a parameter) too: the generated code takes the narrow body only when they
are (``writer._narrow_lines``).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

import sympy as sp

from .stable import R, IPow, PowTimes, StableForm, XTimes
from .tails import Opaque

__all__ = ["INPUT_EXPONENT", "narrow_outputs"]

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


def _bound(e: sp.Expr, x: sp.Symbol, reals) -> tuple[float, float]:
    """(upper bound of log2 |e|, upper bound of log2 of every intermediate of its
    evaluation) for |x| and |theta| below 2^INPUT_EXPONENT, a concrete integer parameter.
    A reciprocal 1/b counts as at most 1: the denominators of a power form do not vanish on
    |x| > 1 (the form is finite there) and grow with |x| (x^j + c)."""
    if e.is_Number:
        v = math.log2(abs(float(e))) if e != 0 else -math.inf
        return v, v
    if isinstance(e, sp.Symbol):
        if e != x and e not in reals:
            raise _Unsupported(e)
        return float(INPUT_EXPONENT), float(INPUT_EXPONENT)
    if isinstance(e, (Opaque, sp.Abs)):
        return _bound(e.args[0], x, reals)
    if isinstance(e, IPow):
        if not e.args[1].is_Integer or e.args[1] < 0:
            raise _Unsupported(e)
        v, m = _bound(e.args[0], x, reals)
        return int(e.args[1]) * max(v, 0.0), max(m, int(e.args[1]) * max(v, 0.0))
    if isinstance(e, XTimes):
        if not e.args[2].is_Integer:
            raise _Unsupported(e)
        (v, m), (w, n) = _bound(e.args[0], x, reals), _bound(e.args[1], x, reals)
        total = v + int(e.args[2]) * max(w, 0.0)
        return total, max(m, n, total)
    if isinstance(e, sp.Pow):
        if not e.exp.is_Integer:
            raise _Unsupported(e)
        v, m = _bound(e.base, x, reals)
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
        parts = [_bound(a, x, reals) for a in e.args]
        value = sum(v for v, _ in parts)
        running = sum(max(v, 0.0) for v, _ in parts)  # any order of the products
        return value, max([running, *(m for _, m in parts)])
    if isinstance(e, sp.Add):
        parts = [_bound(a, x, reals) for a in e.args]
        value = max(v for v, _ in parts) + math.log2(len(parts))
        return value, max([value, *(m for _, m in parts)])
    if isinstance(e, sp.Piecewise):  # both sides and the conditions are evaluated
        parts = [_bound(a, x, reals) for a in (*(v for v, _ in e.args),
                                           *(c for _, c in e.args if c is not sp.true))]
        return max(v for v, _ in parts), max(m for _, m in parts)
    if isinstance(e, sp.core.relational.Relational):
        parts = [_bound(e.lhs, x, reals), _bound(e.rhs, x, reals)]
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


def narrow_outputs(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                   ints: Sequence[sp.Symbol], reals: Sequence[sp.Symbol]
                   ) -> tuple[tuple[int, ...], list[tuple[str, tuple[StableForm, ...]]]] | None:
    """(integer parameter values, outputs) for the narrow body: every power form without
    its |x| > 1 side (``large`` None) and with its limits at -oo and +oo (``limits``), valid
    for those values; None where there is no power form, more than one integer parameter,
    or no value passes.  The printed forms keep the symbolic integer parameter (the same
    code as the general body on |x| <= 1)."""
    if len(ints) > 1 or not any(f.kind == "power" for _, fs in outputs for f in fs):
        return None
    candidates = list(range(1, MAX_INT + 1)) if ints else [None]
    passed: list[int | None] = []
    new: list[tuple[str, tuple[StableForm, ...]]] | None = None
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
                    return _done(passed, new)
                try:
                    _, worst = _bound(small_n, x, set(reals))
                except _Unsupported:
                    return _done(passed, new)
                if worst > BUDGET:
                    return _done(passed, new)
                plain = _plain(small_n, x)
                limits = (_limit(plain, x, -sp.oo), _limit(plain, x, sp.oo))
                if None in limits:
                    return _done(passed, new)
                row_sym.append(replace(form, small=small, large=None, limits=limits))
            symbolic.append((name, tuple(row_sym)))
        if new is not None and [f.limits for _, fs in new for f in fs if f.kind == "power"] != \
                [f.limits for _, fs in symbolic for f in fs if f.kind == "power"]:
            break  # the limits depend on N: the first values only
        new = new if new is not None else symbolic
        passed.append(n)
    return _done(passed, new)


def _done(passed, new):
    if not passed or new is None:
        return None
    values = tuple(n for n in passed if n is not None)
    bare = [f for _, forms in new for f in forms if f.kind == "power" and f.large is None]
    subs = _shared_powers([f.small for f in bare], values)
    return values, [(name, tuple(replace(f, small=f.small.xreplace(subs)) if f in bare else f
                                 for f in forms))
                    for name, forms in new]


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
