"""SymPy forms that the Triton kernels evaluate by dedicated helpers.

A float32 kernel rounds the argument of exp, erfc, sin, cos and sigma before the function
sees it; where that argument is a constant times a few symbols, or a sum of such terms, the
rounding error becomes a large relative error of the result (exp(-x^2/2) and
erfc(-x/sqrt 2) in GELU's tails, tanh-GELU's cubic: 40-100 ulp; sin(a x) loses its phase
once a x passes 2^26).  :func:`kernel_forms` marks those calls (before ``sp.cse``, which
would otherwise split the product off) so that the printer emits helpers (see
``runtime/_triton_*.py``) carrying the argument as a float32 pair hi + lo, and
writes 1 - tanh(u)^2 as sech(u)^2.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["kernel_forms", "ExpProduct", "ErfcProduct", "SinProduct", "CosProduct",
           "SigmoidSum", "Sech2"]


def kernel_forms(e: sp.Expr) -> sp.Expr:
    """``e`` with exp and erfc of a constant times up to four (two) symbols as
    :class:`ExpProduct` / :class:`ErfcProduct`, sin and cos likewise, sigma of a sum of
    such terms as :class:`SigmoidSum` and 1 - tanh(u)^2 as :class:`Sech2`; a call whose
    float32 argument is exact (exp(x), exp(-2 x)) stays as it is."""
    def exp_product(f: sp.Expr) -> sp.Expr:
        split = _constant_times_symbols(f.args[0], 4)
        return f if split is None else ExpProduct(*split)

    def sigmoid_sum(f: sp.Expr) -> sp.Expr:
        terms = [_constant_times_symbols(t, 4, always=True)
                 for t in sp.Add.make_args(f.args[0])]
        if len(terms) < 2 or None in terms:
            return f
        return SigmoidSum(*[a for t in terms for a in (sp.Integer(len(t) - 2), *t)])

    def erfc_product(f: sp.Expr) -> sp.Expr:
        split = _constant_times_symbols(f.args[0], 2)
        return f if split is None else ErfcProduct(*split)

    e = e.replace(lambda f: isinstance(f, sp.exp), exp_product)
    e = e.replace(lambda f: type(f).__name__ == "Erfc", erfc_product)
    for fn, product in ((sp.sin, SinProduct), (sp.cos, CosProduct)):
        e = e.replace(lambda f: isinstance(f, fn),  # noqa: B023
                      lambda f: _product_of(f, product))  # noqa: B023
    e = e.replace(lambda f: type(f).__name__ == "Sigmoid", sigmoid_sum)
    return e.replace(_is_one_minus_tanh_squared, lambda f: Sech2(_tanh_of(f)))


class ExpProduct(sp.Function):
    """exp((hi + lo) * a * b ...) for float32 numbers hi, lo (a constant c as the float32
    pair nearest it: ``sp.cse`` keeps number atoms in place) and symbols a, b, ...
    (Triton: evaluated with the product's rounding error carried, ``_exp_prod``)."""

    def _eval_rewrite_as_exp(self, hi, lo, *factors, **kwargs):
        return sp.exp(sp.Mul(hi + lo, *factors))


class ErfcProduct(sp.Function):
    """erfc((hi + lo) * a * b ...), as :class:`ExpProduct` (Triton: ``_erfc_prod``)."""

    def _eval_rewrite_as_erfc(self, hi, lo, *factors, **kwargs):
        return sp.erfc(sp.Mul(hi + lo, *factors))


class SinProduct(sp.Function):
    """sin((hi + lo) * a * b), as :class:`ExpProduct` (Triton: ``_sin_prod``; the phase of
    a rounded product is off by ulp(a b)/2, all of 2 pi once a b passes 2^26)."""

    def _eval_rewrite_as_sin(self, hi, lo, *factors, **kwargs):
        return sp.sin(sp.Mul(hi + lo, *factors))


class CosProduct(sp.Function):
    """cos((hi + lo) * a * b), as :class:`SinProduct` (Triton: ``_cos_prod``)."""

    def _eval_rewrite_as_cos(self, hi, lo, *factors, **kwargs):
        return sp.cos(sp.Mul(hi + lo, *factors))


def _product_of(f: sp.Expr, product: type) -> sp.Expr:
    """``product(hi, lo, symbols...)`` for f(c * symbols) where that product rounds, else f."""
    split = _constant_times_symbols(f.args[0], 2)
    return f if split is None else product(*split)


class SigmoidSum(sp.Function):
    """sigma(sum of (hi + lo) * a * b ...): groups (k, hi, lo, k symbols) flattened into
    atoms, so that ``sp.cse`` keeps the sum whole (Triton: the sum carried with its
    rounding error, ``_sigmoid_dd``; tanh-GELU's cubic argument: 42 ulp at x = -7.9
    otherwise)."""


class Sech2(sp.Function):
    """sech(u)^2 = 1 - tanh(u)^2, written as 4 e/(1 + e)^2 with e = exp(-2|u|) (Triton:
    ``_sech2``): 1 - tanh^2 cancels once tanh(u) is near 1 (Mish d/dx: 7 ulp at x = 9)."""

    def _eval_rewrite_as_tanh(self, u, **kwargs):
        return 1 - sp.tanh(u) ** 2


def _tanh_of(e: sp.Expr) -> sp.Expr:
    """u in 1 - tanh(u)**2 (see :func:`_is_one_minus_tanh_squared`)."""
    square = next(t for t in e.args if t != 1)
    return (-square).base.args[0]


def _is_one_minus_tanh_squared(e: sp.Expr) -> bool:
    if not (isinstance(e, sp.Add) and len(e.args) == 2 and sp.S.One in e.args):
        return False
    square = -next(t for t in e.args if t != 1)
    return square.is_Pow and square.exp == 2 and isinstance(square.base, sp.tanh)


def _constant_times_symbols(arg: sp.Expr, most: int, always: bool = False):
    """(hi, lo, symbols...) when ``arg`` is a number c = hi + lo (float32 pair) times at
    most ``most`` symbol factors (with repetition) and its float32 evaluation rounds (two
    or more factors, or a c that float32 does not hold); else None."""
    factors = sp.Mul.make_args(arg)
    c = sp.Mul(*[f for f in factors if f.is_number])
    if not (c.is_real and c.is_finite) or c == 0:
        return None
    symbols: list[sp.Expr] = []
    for f in (f for f in factors if not f.is_number):
        if f.is_Symbol:
            symbols.append(f)
        elif f.is_Pow and f.base.is_Symbol and f.exp.is_Integer and 0 < f.exp <= most:
            symbols += [f.base] * int(f.exp)
        else:
            return None
    if not 1 <= len(symbols) <= most:
        return None
    hi, lo = _float32_pair(c)
    if len(symbols) == 1 and lo == 0.0 and not always:
        return None
    return (sp.Float(hi), sp.Float(lo), *symbols)


def _float32_pair(c: sp.Expr) -> tuple[float, float]:
    """(hi, lo): hi the float32 nearest c, lo the float32 nearest c - hi."""
    import numpy as np

    hi = float(np.float32(float(c)))
    lo = float(np.float32(float(sp.N(c - sp.Rational(hi), 30))))
    return hi, lo
