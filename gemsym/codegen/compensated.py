"""Where the generated formulas need compensated (double-double) arithmetic, decided on the
expression tree; the arithmetic itself is in the runtime's ``_compensated.py``.

Only the ``exact`` path needs it (compute dtype = input dtype, e.g. float64 inputs): the
other paths compute in a wider dtype than the result.  Two situations lose accuracy there:

- **a large argument of exp, erfc or sigma.**  d log g(t)/dt ~ |t| (exp), 2t (erfc),
  |t| (sigma at t << 0), so the relative error of g(t) is about |t| times the absolute error
  of t: the rounding of t = -x^2/2 ~ -700 (GELU near x = -37) costs hundreds of ULP.  When
  t is a polynomial expression in x, the parameters, 1/x and |.| with constant coefficients
  (:func:`argument_plan`), it is evaluated as hi + lo and g is corrected to first order
  (``_exp_dd``, ``_erfc_dd``, ``_sigmoid_dd``).
- **a polynomial that cancels.**  Near a real root of a numerator the terms cancel and
  their roundings become a large relative error of the quotient (safe Pade near
  x = -0.0411).  A polynomial in x and 1/x with numeric coefficients whose terms cancel by
  more than ``CANCELLATION`` in the region where the form is used (:func:`cancels`: a real
  root there, or the ratio of its terms' magnitudes to its value) is written through its
  real roots, ((x - r_hi) - r_lo) q(x) (:func:`factor_roots`: a few ULP also at the double
  nearest a root), else evaluated in double-double and rounded once; the quotient's
  denominator is then evaluated in double-double too (its rounding, squared in f', would
  dominate).

Constants enter as hi + lo of their exact SymPy value (sqrt(2/pi) is not rounded first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import sympy as sp
from sympy.codegen.cfunctions import hypot

from .stable import IPow, R

__all__ = ["DD", "Factored", "dd_tree", "argument_plan", "cancels", "factor_roots", "region",
           "COMPENSATED_FUNCTIONS"]

#: SymPy function class name -> runtime helper g(hi + lo) corrected to first order.
COMPENSATED_FUNCTIONS = {"exp": "_exp_dd", "erfc": "_erfc_dd", "Erfc": "_erfc_dd",
                         "Sigmoid": "_sigmoid_dd"}


@dataclass(frozen=True)
class DD:
    """One double-double operation.

    ``op``: ``leaf`` (``args = (expr,)``, a symbol evaluated as usual, exact),
    ``const`` (``args = (hi, lo)``), ``recip``, ``neg``, ``abs``, ``sq``, ``sqrt`` (one
    child), ``pow`` (child, k), ``scale`` (child, power of two), ``add``, ``mul``, ``div``,
    ``hypot`` (two children).
    ``exact``: the value has no low part (it is a double).
    """

    op: str
    args: tuple
    exact: bool


class _Unsupported(Exception):
    pass


def split_constant(c: sp.Expr) -> tuple[float, float]:
    """(hi, lo): hi the double nearest c, lo the double nearest c - hi (from SymPy's exact
    value at 40 digits, never from a rounded hi)."""
    hi = float(sp.N(c, 40))
    lo = float(sp.N(c - sp.Rational(hi), 40)) if hi != 0 and abs(hi) < float("inf") else 0.0
    return hi, lo


def _power_of_two(c: sp.Expr) -> bool:
    if not c.is_Rational or c == 0:
        return False
    p, q = abs(int(c.p)), int(c.q)
    return p & (p - 1) == 0 and q & (q - 1) == 0


def _const(c: sp.Expr) -> DD:
    if not (c.is_real and c.is_finite):
        raise _Unsupported
    hi, lo = split_constant(c)
    return DD("const", (hi, lo), lo == 0.0)


def _tree(e: sp.Expr, x: sp.Symbol) -> DD:
    if e.is_number:
        return _const(e)
    if e == R:
        return DD("recip", (DD("leaf", (x,), True),), False)
    if e.is_Symbol:
        return DD("leaf", (e,), True)
    if isinstance(e, sp.Abs):
        inner = _tree(e.args[0], x)
        return DD("abs", (inner,), inner.exact)
    if isinstance(e, hypot):
        return DD("hypot", (_tree(e.args[0], x), _tree(e.args[1], x)), False)
    if e.is_Pow and e.exp == sp.Rational(1, 2):
        return DD("sqrt", (_tree(e.base, x),), False)
    if e.is_Pow or isinstance(e, IPow):
        base, k = e.args
        if not k.is_Integer or base == sp.E:
            raise _Unsupported
        k = int(k)
        if k == 0:
            return _const(sp.Integer(1))
        b = _tree(base, x)
        power = b if abs(k) == 1 else (DD("sq", (b,), False) if abs(k) == 2
                                       else DD("pow", (b, abs(k)), False))
        return DD("recip", (power,), False) if k < 0 else power
    if e.is_Add:
        terms = [_tree(t, x) for t in e.as_ordered_terms()]
        out = terms[0]
        for t in terms[1:]:
            out = DD("add", (out, t), False)
        return out
    if e.is_Mul:
        coeff = sp.Mul(*[f for f in e.args if f.is_number])
        rest = [_tree(f, x) for f in e.args if not f.is_number]
        # a b^-1 as a division: 1/b is subnormal (fewer bits, its low part lost) where b is
        # beyond 2^1022 while a/b is not (ISRLU's (x/h)^3 at x = -1.5e308 was 4.5 ULP)
        num = [t for t in rest if t.op != "recip"]
        den = [t.args[0] for t in rest if t.op == "recip"]
        out = num[0] if num else DD("recip", (den.pop(0),), False)
        for t in num[1:]:
            out = DD("mul", (out, t), False)
        for t in den:
            out = DD("div", (out, t), False)
        if coeff == 1:
            return out
        if coeff == -1:
            return DD("neg", (out,), out.exact)
        if _power_of_two(coeff):
            return DD("scale", (out, float(coeff)), out.exact)
        return DD("mul", (_const(coeff), out), False)
    raise _Unsupported


def dd_tree(e: sp.Expr, x: sp.Symbol) -> DD | None:
    """The double-double evaluation of ``e`` (sums, products, integer powers, square roots,
    hypot and |.| of symbols, 1/x and constants), or None when ``e`` has anything else."""
    try:
        return _tree(sp.sympify(e), x)
    except _Unsupported:
        return None


def argument_plan(arg: sp.Expr, x: sp.Symbol) -> DD | None:
    """The double-double evaluation of a function's argument when plain evaluation would
    round it (None when it is exact, e.g. -x or x/2, or not a polynomial expression)."""
    if not arg.free_symbols:
        return None
    tree = dd_tree(arg, x)
    return None if tree is None or tree.exact else tree


def cancels(e: sp.Expr, x: sp.Symbol, lo: float = float("-inf"), hi: float = float("inf"),
            small: bool | None = None) -> bool:
    """Whether a sum inside ``e`` (sums, products and powers of x and 1/x, ``R``, with
    numeric coefficients) has a term that rounds and terms of both signs somewhere in
    lo < x < hi (|x| <= 1 when ``small``, |x| > 1 when ``small`` is False): there its
    terms cancel, the more the nearer a real root, and their roundings become a large
    relative error.  (A sum of exact terms, x + 3 near -3, is exact there by Sterbenz's
    lemma.)"""
    e = sp.sympify(e).replace(lambda t: isinstance(t, IPow), lambda t: t.args[0] ** t.args[1])
    for add in sp.preorder_traversal(e):
        if not add.is_Add:
            continue
        tree = dd_tree(add, x)
        if tree is None or tree.exact:
            continue
        if len(add.args) == 2 and all(dd_tree(t, x).exact for t in add.args):
            continue  # a - b of doubles is exact where it cancels (Sterbenz)
        if _mixed_signs(add.xreplace({R: 1 / x}), x, lo, hi, small):
            return True
    return False


#: A sum whose terms' magnitudes add up to more than this times its value somewhere in the
#: region is evaluated compensated (its roundings are amplified as much).
CANCELLATION = 2.0


def _mixed_signs(e: sp.Expr, x: sp.Symbol, lo: float, hi: float, small: bool | None) -> bool:
    """Terms c x^k (k of either sign) of both signs somewhere in the region, cancelling by
    more than ``CANCELLATION``: always near a real root in the (closed) region, else where
    sum |c x^k| / |sum c x^k| exceeds it on a grid of the region (x on |x| <= 1, 1/x
    beyond: the ratio is continuous there and tends to 1 at 0 and +-oo)."""
    if e.free_symbols != {x}:
        return False
    terms = []
    for term in sp.Add.make_args(sp.expand(e)):
        c, k = term.as_coeff_exponent(x)
        if not (c.is_number and c.is_real and k.is_Integer) or c == 0:
            return False
        terms.append((float(c), int(k)))
    if all(c > 0 for c, _ in terms) or all(c < 0 for c, _ in terms):
        if all(k % 2 == 0 for _, k in terms):
            return False  # one sign everywhere
    kmin = min(k for _, k in terms)
    poly = sp.Poly(sum(sp.nsimplify(c) * x ** (k - kmin) for c, k in terms), x)
    if any(lo <= float(r) <= hi and (small is None or (abs(r) <= 1) == small)
           for r in poly.real_roots() if r != 0):
        return True
    grid = [i / 256 for i in range(-256, 257) if i]
    points = ([t for t in grid] if small is not False else []) + \
        ([1 / t for t in grid] if small is not True else [])
    for t in points:
        if not lo < t < hi:
            continue
        values = [c * t ** k for c, k in terms]
        total = abs(sum(values))
        if total == 0 or sum(abs(v) for v in values) > CANCELLATION * total:
            return True
    return False


@dataclass(frozen=True)
class Factored:
    """A polynomial in x (``large`` False) or in 1/x (``large`` True) written through its
    real roots x_i: c q(x) prod (x - x_i), resp. Q(1/x) prod (x - x_i)/x.  Each root is a
    pair (hi, lo), x_i = hi + lo to 2^-106, so that (x - hi) - lo is exact near the root
    (Sterbenz) up to one rounding: the relative error stays a few ULP through the zero,
    also at the double nearest to it.  ``coefficients``: q (or Q) by ascending powers of x
    (of 1/x), rounded from 50-digit values; q has no real root in the branch."""

    roots: tuple[tuple[float, float], ...]
    coefficients: tuple[float, ...]
    large: bool


def factor_roots(e: sp.Expr, x: sp.Symbol, lo: float, hi: float,
                 large: bool) -> Factored | None:
    """``e`` through its real roots in lo <= x <= hi (see :class:`Factored`), or None when
    it is not a polynomial with rational coefficients in x (either side of |x| = 1) or, for
    ``large`` (|x| > 1), in 1/x, or has no such root."""
    import mpmath as mp

    e = sp.sympify(e).replace(lambda t: isinstance(t, IPow), lambda t: t.args[0] ** t.args[1])
    e = e.xreplace({R: 1 / x})
    if e.free_symbols != {x}:
        return None
    num, den = sp.fraction(sp.together(e))
    try:
        pn, pd = sp.Poly(sp.expand(num), x), sp.Poly(sp.expand(den), x)
    except sp.PolynomialError:
        return None
    if len(pd.terms()) != 1 or not all(c.is_Rational for c in pn.coeffs() + pd.coeffs()):
        return None
    (k,), c = pd.terms()[0]
    if k != 0 and (not large or pn.degree() > k):
        return None
    large = k != 0  # a polynomial in x is written in x on either side of |x| = 1
    roots = [r for r in pn.real_roots() if lo <= float(r) <= hi]
    if not roots:
        return None
    with mp.workdps(60):
        coeffs = [mp.mpf(sp.Rational(a).p) / sp.Rational(a).q / (mp.mpf(c.p) / c.q)
                  for a in pn.all_coeffs()]  # descending powers
        pairs = []
        for r in roots:
            v = mp.mpf(sp.N(r, 60))
            out = [coeffs[0]]  # synthetic division by (x - v)
            for a in coeffs[1:]:
                out.append(a + out[-1] * v)
            coeffs = out[:-1]
            rh = float(v)
            pairs.append((rh, float(v - mp.mpf(rh))))
        # q by ascending powers of x; Q(1/x) = x^(m - k) q(x) by ascending powers of 1/x
        q = [float(a) for a in reversed(coeffs)]
    if large:
        shift = k - len(roots)
        q = [0.0] * (shift - (len(q) - 1)) + q[::-1] if shift >= len(q) - 1 else None
        if q is None:
            return None
    return Factored(tuple(pairs), tuple(q), large)


def region(junctions: Sequence[sp.Expr], branch: int) -> tuple[float, float]:
    """The interval of branch ``branch`` between numeric junctions (the whole line when
    a bounding junction is symbolic)."""
    def bound(j, default):
        return float(j) if j is not None and j.is_number else default

    lo = bound(junctions[branch - 1], float("-inf")) if branch > 0 else float("-inf")
    hi = bound(junctions[branch], float("inf")) if branch < len(junctions) else float("inf")
    return lo, hi
