"""Exact rewrites of branch expressions into floating-point-safe primitives.

Applied to every branch before it is differentiated (the derivatives of the primitives are
their ``fdiff``, so they stay safe) and again to every derivative.  Each rule replaces a
subexpression by an equal one built from SymPy function classes, as
``sympy.codegen.cfunctions`` does with ``expm1``/``log1p``:

* ``log(1 + c e^t)`` -> ``Softplus(t + log c)`` (no overflow of e^t; d/dt is sigma(t));
* ``k e^t - k`` -> ``k Expm1(t)`` (no cancellation near t = 0);
* complements: ``k + k tanh(z)`` -> ``2k sigma(2z)``, ``k - k tanh(z)`` -> ``2k sigma(-2z)``,
  ``k + k erf(z)`` -> ``k erfc(-z)``, ``k - k erf(z)`` -> ``k erfc(z)``, and ``2k - k erfc(z)``
  (SymPy's spelling of ``k erfc(-z)``) -> ``k erfc(-z)`` (tails without cancellation);
* ``(a u^2 + c)^(p/2)`` (a, c > 0) -> ``hypot(sqrt(a) u, sqrt(c))^p`` (no overflow of u^2);
* ``u + k h`` with h a hypot and k^2 h^2 - u^2 = D free of the input -> ``(D/k) / (h - u/k)``
  where u and k h have opposite signs (no cancellation: Squareplus as x -> -oo);
* ``k h + c`` with c the constant term and k^2 h^2 - c^2 = d one term -> ``d / (k h - c)``
  where k h and c have opposite signs and |d| < 3 c^2 (the bent identity near x = 0).

:func:`removable_points` finds where a branch expression cannot be evaluated although its
one-sided limit is finite (x log x at 0), so that the code can use the limit there.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import hypot

from .stable import Expm1, Sigmoid

__all__ = ["Softplus", "Erfc", "to_primitives", "removable_points"]


class Softplus(sp.Function):
    """softplus(t) = log(1 + e^t), evaluated as max(t, 0) + log1p(e^{-|t|})."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return Sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, t, **kwargs):
        return sp.log(1 + sp.exp(t))

    def _eval_rewrite_as_Max(self, t, **kwargs):
        from sympy.codegen.cfunctions import log1p

        return sp.Max(t, 0) + log1p(sp.exp(-sp.Abs(t)))


class Erfc(sp.Function):
    """erfc(t) = 1 - erf(t), kept as written (SymPy's ``erfc(-t)`` evaluates to
    ``2 - erfc(t)``, the cancellation this class avoids)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        t = self.args[0]
        return -2 * sp.exp(-t**2) / sp.sqrt(sp.pi)

    def _eval_rewrite_as_erf(self, t, **kwargs):
        return 1 - sp.erf(t)


def to_primitives(expr: sp.Expr, x: sp.Symbol, conjugate: bool = True) -> sp.Expr:
    """``expr`` with the rewrites of this module applied (an equal expression);
    ``conjugate``: also the u + k h rule (applied to branches, not to their derivatives,
    which inherit it)."""
    expr = expr.replace(_is_log_one_plus_exp, _softplus)
    expr = expr.replace(lambda e: e.is_Pow and _half_quadratic(e, x) is not None,
                        lambda e: _half_quadratic(e, x))
    expr = expr.replace(lambda e: e.is_Add, lambda e: _rewrite_add(e, x, conjugate))
    return expr


def removable_points(expr: sp.Expr, x: sp.Symbol, lower: sp.Expr,
                     upper: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
    """Points p of [lower, upper) (the lower end is where the branch starts to be used)
    where ``expr`` cannot be evaluated (0 * oo, oo - oo, 0/0) while its limit from the
    right is finite: (p, limit) pairs.  Candidates are the branch's lower end and 0."""
    out = []
    for p in {sp.sympify(lower), sp.S.Zero}:
        if not p.is_number or not p.is_finite:
            continue
        if not (bool(p >= lower) and bool(p < upper)):
            continue
        try:
            value = expr.xreplace({x: p})
            # only where the plain value is certainly undefined (a symbolic value of
            # unknown finiteness is not worth a limit: sp.limit is slow)
            if not (value.has(sp.nan, sp.zoo) or value.is_infinite):
                continue
            lim = sp.limit(expr, x, p, "+")
        except (NotImplementedError, ValueError, TypeError):
            continue
        if lim.is_finite and not lim.has(x, sp.nan, sp.zoo, sp.AccumBounds):
            out.append((p, lim))
    return tuple(sorted(out, key=lambda pl: float(pl[0])))


# ---------------------------------------------------------------- rules
def _is_log_one_plus_exp(e: sp.Expr) -> bool:
    if not (isinstance(e, sp.log) and e.args[0].is_Add and len(e.args[0].args) == 2):
        return False
    one, other = e.args[0].as_coeff_Add()
    if one != 1:
        return False
    exps = [f for f in sp.Mul.make_args(other) if isinstance(f, sp.exp)]
    rest = sp.Mul(*[f for f in sp.Mul.make_args(other) if not isinstance(f, sp.exp)])
    return len(exps) == 1 and not rest.has(sp.exp) and bool(rest.is_positive)


def _softplus(e: sp.Expr) -> sp.Expr:
    _, other = e.args[0].as_coeff_Add()
    factors = sp.Mul.make_args(other)
    t = next(f for f in factors if isinstance(f, sp.exp)).args[0]
    c = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
    return Softplus(t + sp.log(c)) if c != 1 else Softplus(t)


def _half_quadratic(e: sp.Pow, x: sp.Symbol):
    """(a u^2 + c)^(p/2) -> hypot(sqrt(a) u, sqrt(c))^p for a, c > 0 and u = x."""
    k = e.exp
    if not (k.is_Rational and k.q == 2) or not e.base.has(x):
        return None
    try:
        poly = sp.Poly(e.base, x)
    except sp.PolynomialError:
        return None
    if poly.degree() != 2:
        return None
    a, b, c = poly.all_coeffs()
    if b != 0 or not (a.is_positive and c.is_positive):
        return None
    return hypot(sp.sqrt(a) * x, sp.sqrt(c)) ** k.p


#: f -> (1 + f(z), 1 - f(z)) in forms without cancellation
_COMPLEMENTS = {
    sp.tanh: (lambda z: 2 * Sigmoid(2 * z), lambda z: 2 * Sigmoid(-2 * z)),
    sp.erf: (lambda z: Erfc(-z), lambda z: Erfc(z)),
}


def _rewrite_add(e: sp.Add, x: sp.Symbol, conjugate: bool) -> sp.Expr:
    const, rest = e.as_independent(x, as_Add=True)
    terms = list(sp.Add.make_args(rest))
    if const != 0:
        for i, term in enumerate(terms):
            k, f = term.as_independent(x, as_Mul=True)
            if isinstance(f, sp.exp) and sp.simplify(const + k) == 0:
                terms[i] = k * Expm1(f.args[0])
                return sp.Add(*terms)
            # SymPy writes erfc(-z) as 2 - erfc(z), which cancels as z -> +oo: back to Erfc(-z)
            if isinstance(f, sp.erfc) and sp.simplify(const + 2 * k) == 0:
                terms[i] = -k * Erfc(-f.args[0])
                return sp.Add(*terms)
            for fn, (plus, minus) in _COMPLEMENTS.items():
                if isinstance(f, fn):
                    if sp.simplify(const - k) == 0:
                        terms[i] = k * plus(f.args[0])
                        return sp.Add(*terms)
                    if sp.simplify(const + k) == 0:
                        terms[i] = const * minus(f.args[0])
                        return sp.Add(*terms)
    return _conjugate(e, x) if conjugate else e


def _conjugate(e: sp.Add, x: sp.Symbol) -> sp.Expr:
    """u + k h = (k^2 h^2 - u^2) / (k h - u) where u and k h have opposite signs."""
    for term in e.args:
        k, h = term.as_coeff_Mul()
        if not isinstance(h, hypot) or not k.is_number:
            continue
        u = e - term
        d = sp.expand(k**2 * (h.args[0] ** 2 + h.args[1] ** 2) - u**2)
        if d.has(x) or d == 0:
            continue
        cond = u < 0 if k > 0 else u > 0
        # (d/(2k)) / (h/2 - u/(2k)): the two terms of h - u/k have the same sign and reach
        # |u/k| ~ h, so h - u/k overflows from h = M/2 on, where h does not (Squareplus
        # d/db = 1/(2 t) - ... was 0 against 2.6e-309 at x = -9.8e307); the halved sum
        # cannot overflow, and halving is exact (h >= sqrt(c) is far from the subnormals;
        # a subnormal u/(2k) is below h's rounding), so elsewhere it is the same quotient
        return sp.Piecewise(((d / (2 * k)) / (h / 2 - u / (2 * k)), cond), (e, True))
    return _conjugate_constant(e, x)


def _conjugate_constant(e: sp.Add, x: sp.Symbol) -> sp.Expr:
    """k h + c = d / (k h - c), d = k^2 h^2 - c^2, for the constant c of ``e`` where d is
    one term (no cancellation of its own: the bent identity's sqrt(x^2 + 1)/2 - 1/2 has
    d = x^2/4) and k h, c have opposite signs; used where |d| < 3 c^2 (k h within 2 |c|,
    where the sum cancels, and d cannot overflow), the sum elsewhere."""
    c, rest = e.as_independent(x, as_Add=True)
    if c == 0:
        return e
    for term in sp.Add.make_args(rest):
        k, h = term.as_coeff_Mul()
        if not isinstance(h, hypot) or not k.is_number:
            continue
        d = sp.expand(k**2 * (h.args[0] ** 2 + h.args[1] ** 2) - c**2)
        if d.is_Add or d == 0 or not d.has(x):
            continue
        cond = sp.And(c < 0 if k > 0 else c > 0, sp.Abs(d) < 3 * c**2)
        if cond == sp.false:
            continue
        return rest - term + sp.Piecewise((d / (term - c), cond), (term + c, True))
    return e
