"""The parameters' derivatives as sums of shared terms times constants, for their sums.

A real parameter's derivative is only ever summed over the input, weighted by the incoming
gradient g: the backward needs S_p = sum_x g df/dtheta_p, never df/dtheta_p itself.  Where
each derivative is, on each branch, a sum of terms c(theta) h(x, theta) whose factor c is
free of x,

    S_p = sum_j c_pj (sum_x g h_j),

so each distinct term h_j is evaluated and summed once, and the constants multiply the
sums (numbers) instead of every element.  Sqish's three derivatives share their terms:
x sigma(s) sigma(-s) times (a - 1)/beta (d/dbeta), x^2 sigma(s) sigma(-s) times 2 gamma (a - 1)
(in d/da) and 2 (a - 1)^2 (d/dgamma), and x sigma(s) (in d/da): the parameters' part of
its backward is 9 float64 operations on the input's size instead of 16.  An output whose
terms lie on several branches stays whole (its terms apart would each need the branches'
selection).

Accuracy: each S_p differs from the sum of the rounded elementwise terms g c h only by
the roundings of c h (one per element, each within 2^-53 relative) and of the final
products and sums of numbers, so it is within the same bound as that sum (a few units of
2^-53 times sum |g c h| over the terms), far below the narrow result's rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import sympy as sp

from .stable import R, StableForm, XTimes

__all__ = ["Factored", "factored"]


@dataclass(frozen=True)
class Factored:
    """The summed outputs as ``sum_j c_pj h_j``: ``terms`` are the outputs h_j, named, with
    one form per branch (a term of one branch is the constant 0 on the others); for each
    summed output p, ``coefficients[p]`` lists its (term index, c_pj), c_pj free of x."""

    terms: tuple[tuple[str, tuple[StableForm, ...]], ...]
    coefficients: tuple[tuple[tuple[int, sp.Expr], ...], ...]


def factored(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
             prefix: str = "_h") -> Factored | None:
    """The summed ``outputs`` (name, one form per branch) as terms times constants (see
    the module docstring): the terms of an output that is nonzero on one branch only, or
    the output whole; None where a form has points (values fixed at removable
    singularities, which a term would not keep) or no output has a term."""
    if not outputs or any(f.points for _, forms in outputs for f in forms):
        return None
    branches = len(outputs[0][1])
    zero = StableForm("const", sp.Integer(0))
    keys: dict[tuple, int] = {}
    terms: list[tuple[StableForm, ...]] = []
    coefficients = []
    for _, forms in outputs:
        split = [_terms(form, x) for form in forms]
        if sum(1 for t in split if t) > 1:
            # terms on several branches would each need the branches' selection: the
            # output whole, one term
            split = [[(sp.Integer(1), tuple(forms))]]
        else:
            split = [[(c, tuple(h if i == b else zero for i in range(branches)))
                      for c, h in t] for b, t in enumerate(split)]
        mine: dict[int, sp.Expr] = {}
        for c, term in (ct for t in split for ct in t):
            key = tuple((f.kind, f.small, f.large) for f in term)
            if key not in keys:
                keys[key] = len(terms)
                terms.append(term)
            j = keys[key]
            mine[j] = mine.get(j, sp.Integer(0)) + c
        coefficients.append(tuple((j, c) for j, c in sorted(mine.items()) if c != 0))
    if not terms:
        return None
    return Factored(tuple((f"{prefix}{j}", t) for j, t in enumerate(terms)), tuple(coefficients))


def _terms(form: StableForm, x: sp.Symbol) -> list[tuple[sp.Expr, StableForm]]:
    """[(c, h)]: ``form`` as the sum of c h over its terms, h a form of the same kind."""
    if form.kind == "const":
        if form.small == 0:
            return []
        return [(form.small, StableForm("const", sp.Integer(1)))]
    if form.kind == "sigmoid":
        # every term apart: the Bernstein form's terms are its sides' products
        out = []
        for t in sp.Add.make_args(form.small):
            c, h = _split(t, x)
            out.append((c, StableForm("const" if h.is_number else "sigmoid", h)))
        return out
    # a power or plain form: one term, its constant factor apart where the |x| > 1 side
    # (in r = 1/x) has the same one
    c, small = _split(form.small, x)
    if form.large is not None:
        c_large, large = _split(form.large, x)
        if c_large != c:
            return [(sp.Integer(1), form)]
        form = replace(form, large=large)
    limits = None if form.limits is None else tuple(None if v is None else sp.simplify(v / c)
                                                    for v in form.limits)
    return [(c, replace(form, small=small, limits=limits))]


def _split(term: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """(c, h) with term = c h and c the product of the factors free of x (and of r = 1/x),
    including those of the value a ``TailTimes`` / ``XTimes`` multiplies by powers of x,
    v x^k, which becomes (((v x) x) ...) as nested ``XTimes``: the same products, where
    sp.cse then shares v x between v x and v x^2 (Sqish's x sigma sigma(-) and x^2 sigma
    sigma(-)).  A ``TailTimes`` evaluates so only where the compute dtype is wider than
    the output's (its tail forms are for float64 outputs): the terms are for the narrow
    path alone."""
    c, h = term.as_independent(x, R, as_Add=False)
    if isinstance(h, XTimes):  # TailTimes too
        v, var, k = h.args[:3]
        cv, out = v.as_independent(x, R, as_Add=False)
        for _ in range(int(k)):
            out = XTimes(out, var, 1)
        return c * cv, out
    return c, h
