"""A sum over the two sides of one sigmoid as one expression, on the narrow path.

An output K_p x^k sigma(s) + K_n x^k sigma(-s), s = c x + d, with K_p and K_n expressions
of the parameters alone (Sqish with a >= 0: x sigma(s) + a x sigma(-s), s = 2 gamma (1 - a)
x - log(beta)), is on the narrow path (float64 arithmetic for a float32 or 16-bit result)
one :class:`~.stable.SigmoidRatio` times x^k.  The PyTorch runtime (``_sigmoid_ratio``)
evaluates it, with u = -s and the values of K_p and K_n read, as

    x^k (K_p + (K_n - K_p) sigma(u))    where |K_n| >= |K_p|,
    x^k (K_n + (K_p - K_n) sigma(-u))   otherwise,

one ``torch.sigmoid``, then the product by the difference unless it is 1 and the sum
unless the base is 0 (Sqish's forward at its default a = 0, beta = 1: 3 eager ops, c x,
the sigmoid and the product by x; with the pair and the sum of its sides, 15).  Where the
values cannot be read (a compiled trace) and in the C++ kernels it is the quotient
x^k (K_p + K_n E)/(1 + E), E = e^(-s) with -s clamped at 600 (sigma(s) = 1/(1 + E),
sigma(-s) = E/(1 + E)): one exponential and one division.

It holds, within a few float64 roundings (a few units of 2^-53, far below a float32 ULP),
where these are shown:

- K_p K_n >= 0 under the conditions on the parameters the body is taken for (Sqish's
  ``a < 0`` false): the numerator has no cancellation, nor has the sum with sigma: K_n -
  K_p has K_p's sign where |K_n| >= |K_p| (K_p - K_n has K_n's otherwise), so both terms
  have one sign.  torch.sigmoid in float64 is within 2 units of 2^-53 of sigma (1.92 on
  7000 values of u in [-745, 745], vectorised and scalar) where sigma(u) >= 2^-1000;
  beyond u = -709.78 it is 0 (1/(1 + inf)), where sigma(u) < 2^-1023 and the dropped
  term, below 2^(129 - 1023) times |x|^k < 2^512, is below 2^-382: it changes no narrow
  result but at a tie of rounding;
- each of K_p, K_n is a number of magnitude below 2^128 or one real parameter (below 2^128
  on the narrow path): K_n E stays below 2^994 (E <= e^600 < 2^866), and the quotient,
  a weighted mean of K_p and K_n, below 2^128;
- k <= 4.  Where -s > 600 the clamp changes the value by |K_p - K_n| e^-600 at most: below
  2^-608 relative to K_n where K_n != 0, and where K_n = 0 the value x^k K_p/(1 + E) is
  below 2^(128 (k + 1) - 865) < 2^-225 then, as the exact one is: both round to the zero of
  their sign in every narrow dtype.

An output is rewritten only where every sigmoid of s in the outputs evaluated together is
one of these terms (else the pair is computed anyway, and the quotient's exponential would
come on top of it).  A family whose bodies have conditions on its parameters takes it in
the body those decide (``scalar_case``; Sqish); one without takes it on the narrow path
alone (:func:`ratio_forms`; SiLU, Swish-beta: K_n = 0, so no sign is needed).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

import sympy as sp

from ..stable import (SigmoidLinear, SigmoidRatio, StableForm, TailTimes, XTimes,
                      _sigmoid_linear_args)

__all__ = ["ratio_forms", "sigmoid_ratios"]

#: the largest power of x a quotient is multiplied by (see the module's docstring)
_MAX_POWER = 4


def sigmoid_ratios(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                   known: Mapping[sp.Basic, sp.Basic]
                   ) -> list[tuple[str, tuple[StableForm, ...]]]:
    """``outputs`` (narrow bodies' forms) with each sigmoid form whose expression is a sum
    over the sides of one sigmoid written as a :class:`~.stable.SigmoidRatio` times x^k,
    where the module's conditions hold for all of them (``known``: the parameter relations
    the body is taken under, with their truth values); unchanged otherwise."""
    new = []
    for name, forms in outputs:
        out = []
        for f in forms:
            if not f.small.has(SigmoidLinear):
                out.append(f)
                continue
            ratio = _ratio(f.small, x, known) if f.kind == "sigmoid" else None
            if ratio is None:
                return [(n, tuple(fs)) for n, fs in outputs]
            out.append(replace(f, small=ratio))
        new.append((name, tuple(out)))
    return new


def ratio_forms(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol
                ) -> list[tuple[str, tuple[StableForm, ...]]] | None:
    """:func:`sigmoid_ratios` of ``outputs`` with no parameter condition known (a family
    whose bodies have none: SiLU, Swish-beta), or None where it changes nothing."""
    new = sigmoid_ratios(outputs, x, {})
    changed = any(f.small.has(SigmoidRatio) for _, fs in new for f in fs)
    return new if changed else None


def _ratio(e: sp.Expr, x: sp.Symbol, known) -> sp.Expr | None:
    """``e`` as K_p x^k sigma(c x + d) + K_n x^k sigma(-(c x + d)) written as
    ``SigmoidRatio(K_p, K_n, c, x, d)`` times x^k, or None."""
    sides: dict[bool, sp.Expr] = {False: sp.S.Zero, True: sp.S.Zero}
    linear, power = None, None
    for term in sp.Add.make_args(e):
        parts = _term(term, x)
        if parts is None:
            return None
        coeff, sig, k = parts
        c, _, d, neg = _sigmoid_linear_args(sig)  # the printers' orientation of the pair
        key = (c, d)
        if linear is None:
            linear, power = key, k
        elif key != linear or k != power:
            return None
        sides[neg] += coeff
    kp, kn = sp.factor(sides[False]), sp.factor(sides[True])
    if power > _MAX_POWER or not all(_bounded(v) for v in (kp, kn)):
        return None
    if not _nonnegative(kp * kn, known):
        return None
    ratio = SigmoidRatio(kp, kn, linear[0], x, linear[1])
    return XTimes(ratio, x, power) if power else ratio


def _term(term: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, SigmoidLinear, int] | None:
    """(coefficient free of x, the sigmoid, k) of a term coefficient * sigma * x^k."""
    k = 0
    if isinstance(term, (TailTimes, XTimes)):
        term, k = term.args[0], int(term.args[2])
    coeff, rest = term.as_independent(x, as_Add=False)
    if not isinstance(rest, SigmoidLinear) or rest.args[1] != x:
        return None
    return coeff, rest, k


def _bounded(v: sp.Expr) -> bool:
    """A number below 2^128 in magnitude or one real parameter (narrow path: below 2^128)."""
    if v.is_number:
        return v.is_real is True and abs(float(v)) < 2.0**128
    return isinstance(v, sp.Symbol) and v.is_real is True


def _nonnegative(v: sp.Expr, known) -> bool:
    """Whether v >= 0 follows from the symbols' assumptions and the ``known`` relations of
    a parameter with 0 (p < 0 false: p >= 0, and so on)."""
    if v.is_number:
        return bool(v >= 0)
    subs = {}
    for rel, truth in known.items():
        if not isinstance(rel, sp.core.relational.Relational) or rel.rhs != 0:
            continue
        p = rel.lhs
        if not isinstance(p, sp.Symbol):
            continue
        holds = truth == sp.true
        op = rel.rel_op if holds else {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}.get(rel.rel_op)
        if op in (">=", ">"):
            subs[p] = sp.Dummy(p.name, nonnegative=True) if op == ">=" else sp.Dummy(
                p.name, positive=True)
        elif op in ("<=", "<"):
            subs[p] = -(sp.Dummy(p.name, nonnegative=True) if op == "<=" else sp.Dummy(
                p.name, positive=True))
    return v.xreplace(subs).is_nonnegative is True
