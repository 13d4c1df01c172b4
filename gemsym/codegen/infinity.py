"""The values of a branch expression at x = -oo and +oo, for the generated code to return
there.

Evaluated in floating point, a formula is often NaN at an infinite input where the function
has a limit: GELU's x erfc(-x/sqrt 2)/2 is -oo * 0 at -oo (limit 0), Softsign's x/(1 + |x|)
is oo/oo (limit 1), leaky ReLU's alpha x is 0 * oo at alpha = 0 (limit 0).  The limit is
SymPy's, for every value of the parameters (:func:`limit_at`), and is kept only where an
independent evaluation agrees (:func:`branch_limits`: mpmath at |x| = 10^3 .. 10^7 with
the parameters at their defaults); where either fails the code keeps the formula's value.
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, hypot, log1p
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from .rules import Erfc, Softplus
from .stable import (R, Expm1, InfTimes, IPow, PowTimes, Sigmoid, SigmoidLinear, SmallestNormal,
                     XTimes)
from .tails import Opaque

__all__ = ["branch_limits", "given_limits", "limit_at", "plain_sympy"]

#: where the mpmath check evaluates the expression (|x|), and its working precision
_CHECK_AT = (10**3, 10**5, 10**7)
_CHECK_DIGITS = 30


def plain_sympy(e: sp.Expr) -> sp.Expr:
    """``e`` with the code generator's functions (sigma, softplus, erfc kept as written,
    expm1, log1p, hypot, integer powers, guarded products) written as SymPy's own, for
    ``sp.limit``."""
    e = e.replace(lambda t: isinstance(t, Opaque), lambda t: t.args[0])
    e = e.replace(lambda t: isinstance(t, SigmoidLinear),
                  lambda t: Sigmoid(t.args[0] * t.args[1] + t.args[2]))
    e = e.replace(lambda t: isinstance(t, SmallestNormal), lambda t: sp.Float(2.0**-1022))
    e = e.replace(lambda t: isinstance(t, (XTimes, PowTimes)),
                  lambda t: t.args[0] * t.args[1] ** t.args[2])
    e = e.replace(lambda t: isinstance(t, IPow), lambda t: t.args[0] ** t.args[1])
    e = e.replace(lambda t: isinstance(t, Sigmoid), lambda t: 1 / (1 + sp.exp(-t.args[0])))
    e = e.replace(lambda t: isinstance(t, Softplus), lambda t: sp.log(1 + sp.exp(t.args[0])))
    e = e.replace(lambda t: isinstance(t, Erfc), lambda t: sp.erfc(t.args[0]))
    e = e.replace(lambda t: isinstance(t, (Expm1, expm1)), lambda t: sp.exp(t.args[0]) - 1)
    e = e.replace(lambda t: isinstance(t, log1p), lambda t: sp.log(1 + t.args[0]))
    e = e.replace(lambda t: isinstance(t, hypot),
                  lambda t: sp.sqrt(t.args[0] ** 2 + t.args[1] ** 2))
    return e


@functools.lru_cache(maxsize=4096)  # SymPy's limit of the same body, asked for again
def limit_at(e: sp.Expr, x: sp.Symbol, to: sp.Expr) -> sp.Expr | None:
    """lim_{x -> to} e for every value of its parameters, or None.  SymPy answers for a
    generic parameter: a x -> -oo sign(a) at -oo, which is 0 oo = NaN at a = 0, where a x
    is 0 and so is its limit.  Each sign(g) of the answer whose argument g vanishes for one
    value of one parameter is split there: Piecewise((answer, g != 0), (the limit of e at
    that value, True)); None where that value cannot be found."""
    try:
        v = sp.limit(e, x, to)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if v.has(sp.nan, sp.zoo, sp.AccumBounds, sp.Limit) or v.has(x):
        return None
    for g in sorted(v.atoms(sp.sign), key=sp.default_sort_key):
        arg = g.args[0]
        if len(arg.free_symbols) != 1:
            return None
        (s,) = arg.free_symbols
        try:
            roots = sp.solve(arg, s)
        except (NotImplementedError, ValueError, TypeError):
            return None
        real = [r for r in roots if r.is_real]
        if len(real) != len(roots) or len(real) > 1:
            return None
        if not real:
            continue
        at_root = limit_at(e.xreplace({s: real[0]}), x, to)
        if at_root is None:
            return None
        v = sp.Piecewise((v, sp.Ne(arg, 0)), (at_root, True))
    return v


def _agrees(e: sp.Expr, x: sp.Symbol, sign: int, limit: sp.Expr, defaults: dict) -> bool:
    """Whether mpmath's values of ``e`` at x = sign 10^3, 10^5, 10^7 (parameters at
    ``defaults``) approach ``limit``: within 10^-6 of a finite limit at 10^7 and no
    farther from it than at 10^5; for an infinite one, of its sign and growing at least
    5-fold from 10^3 to 10^5 and from 10^5 to 10^7 (a power of x does; a logarithm is not
    confirmed).  False where mpmath cannot evaluate it (tanh(e^x) at 10^7 is fine, at
    10^16 its exponent alone would not fit in memory)."""
    at = {s: v for s, v in defaults.items() if s in e.free_symbols or s in limit.free_symbols}
    e, limit = e.xreplace(at), limit.xreplace(at)
    if e.free_symbols - {x} or limit.free_symbols:
        return False
    try:
        f = sp.lambdify(x, e, modules="mpmath")
        with mpmath.workdps(_CHECK_DIGITS):
            values = [mpmath.mpf(f(mpmath.mpf(sign * m))) for m in _CHECK_AT]
            if limit in (sp.oo, -sp.oo):
                direction = 1 if limit == sp.oo else -1
                return bool(direction * values[2] > 5 * abs(values[1])
                            and direction * values[1] > 5 * abs(values[0]))
            target = mpmath.mpf(sp.Float(limit, _CHECK_DIGITS))
            far, near = (abs(v - target) for v in values[1:])
            return bool(near <= 1e-6 * (1 + abs(target)) and near <= far)
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError, AttributeError,
            MemoryError):
        return False


def _near_end(e: sp.Expr, x: sp.Symbol, sign: int) -> sp.Expr | None:
    """``e`` with each Piecewise replaced by its piece taken at x = sign 10^7 (its
    conditions compare x with numbers there); None where a condition is not decided."""
    undecided = False

    def piece(pw: sp.Piecewise) -> sp.Expr:
        nonlocal undecided
        for expr, cond in pw.args:
            held = cond.xreplace({x: sp.Integer(sign * _CHECK_AT[-1])})
            if held is sp.true:
                return expr
            if held is not sp.false:
                break
        undecided = True
        return pw
    out = e.replace(lambda t: isinstance(t, sp.Piecewise), piece)
    return None if undecided else out


def given_limits(code: sp.Expr, limits, x: sp.Symbol) -> tuple[bool, bool]:
    """For each of ``limits`` (at -oo, at +oo), whether ``code`` (a form's expression, in x
    and r = 1/x) gives it when evaluated at x = -+oo as IEEE arithmetic would (SymPy's:
    oo/oo and 0 oo are NaN, sin(oo) too): not where it is NaN, or another value, or a
    parameter decides the limit (a Piecewise); False for a None limit."""
    out = []
    for limit, sign in zip(limits, (-1, 1)):
        if limit is None:
            out.append(False)
            continue
        # sin(oo) is NaN in IEEE arithmetic, SymPy's [-1, 1], which oo + absorbs
        ieee = plain_sympy(code).replace(
            lambda t: isinstance(t, TrigonometricFunction),
            lambda t: sp.Function(f"_{type(t).__name__}")(*t.args))
        near = _near_end(ieee, x, sign)
        value = None if near is None else near.xreplace({R: sp.S.Zero}).xreplace(
            {x: sign * sp.oo})
        given = (value is not None and not limit.has(sp.Piecewise)
                 and not value.has(sp.nan, sp.zoo, sp.AccumBounds, sp.Piecewise, x)
                 and (value == limit if limit.is_infinite or value.is_infinite
                      else sp.simplify(value - limit) == 0))
        out.append(bool(given))
    return out[0], out[1]


def branch_limits(expr: sp.Expr, x: sp.Symbol, lower: sp.Expr, upper: sp.Expr,
                  defaults: dict) -> tuple[sp.Expr | None, sp.Expr | None] | None:
    """The limits of ``expr`` at the infinite ends of its branch [lower, upper): (at -oo,
    at +oo), each found by :func:`limit_at` and confirmed by mpmath (``_agrees``), None
    for a finite end or one without a confirmed limit; None where neither has one."""
    out: list[sp.Expr | None] = []
    for end, to, sign in ((lower, -sp.oo, -1), (upper, sp.oo, 1)):
        e = _near_end(plain_sympy(expr), x, sign) if end == to else None
        limit = limit_at(e, x, to) if e is not None else None
        check = None if limit is None else limit.xreplace(defaults)
        if check is None or check.has(sp.Piecewise) or not _agrees(e, x, sign, check,
                                                                    defaults):
            limit = None
        out.append(None if limit is None else _inf_times(limit))
    return None if out == [None, None] else (out[0], out[1])


def _inf_times(v: sp.Expr) -> sp.Expr:
    """``v`` with each oo sign(c) written InfTimes(c) (-oo sign(c): InfTimes(-c)), which
    every printer has (``limit_at``'s answer for c != 0)."""
    def convert(m: sp.Expr) -> sp.Expr:
        c, rest = m.as_coeff_Mul()
        if c in (sp.oo, -sp.oo) and isinstance(rest, sp.sign):
            return InfTimes(rest.args[0] if c == sp.oo else -rest.args[0])
        return m
    return v.replace(lambda t: t.is_Mul and t.has(sp.sign), convert)
