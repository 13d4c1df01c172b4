"""Closed forms of an activation: branches, gate, derivatives of any order, one-sided
Taylor expansions at each junction and asymptotic expansions at -oo and +oo.

Derivatives are taken branch by branch (SymPy's ``Piecewise.diff`` is wrong at junctions);
expansions come from the exact one-sided series engine, so they hold for symbolic N too.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activation import Activation
from .parameters import domain_substitution
from .series import NotExpandable, Series, SeriesEngine

__all__ = [
    "Expansion",
    "simplify_branch",
    "derivatives",
    "taylor_at_junction",
    "asymptotic",
    "expansion_expr",
]


@dataclass(frozen=True)
class Expansion:
    """f(x) = sum(c * (x - center)**e) + O(|x - center|**prec) as x -> center from ``side``;
    at infinity ``center`` is +-oo and the terms are c * x**e with the O-term in x**prec."""

    center: sp.Expr
    side: str  # "-" or "+"
    terms: tuple[tuple[sp.Expr, sp.Expr], ...]  # (exponent, coefficient), increasing order
    prec: sp.Expr
    exact: bool = True  # False when only the asymptote line could be derived


def simplify_branch(e: sp.Expr) -> sp.Expr:
    """A readable equivalent form: algebraic branches are factored over a common
    denominator; transcendental ones are left as differentiated (``simplify`` on them is
    slow and rarely shorter)."""
    if e.atoms(sp.Function):
        return e
    return sp.factor(sp.cancel(sp.together(e)))


def derivatives(act: Activation, k: int) -> tuple[sp.Expr, ...]:
    """f^{(k)} on each branch, simplified."""
    if not isinstance(k, int) or k < 0:
        raise ValueError(f"k must be a non-negative integer (got {k!r})")
    return tuple(simplify_branch(e) for e in act.derivative(k))


def _first_terms(engine: SeriesEngine, expr: sp.Expr, count: int) -> Series:
    """Expand until ``count`` nonzero terms (or the exact expansion) are known."""
    target: sp.Expr = sp.S.One
    s = engine.expand(expr, target)
    for _ in range(4 * count + 8):
        if len(s.terms) >= count or s.prec == sp.oo:
            return s
        target = sp.expand(s.prec + 1)
        s = engine.expand(expr, target)
    return s


def _ordered(engine: SeriesEngine, s: Series, count: int):
    exps = engine.sorted_exponents(s.terms)
    kept = exps[:count]
    prec = s.prec if len(exps) <= count else exps[count]
    return tuple((e, s.terms[e]) for e in kept), prec


def taylor_at_junction(act: Activation, index: int, terms: int = 3) -> tuple[Expansion, Expansion]:
    """The first ``terms`` nonzero terms of f at junction ``index`` from the left and
    from the right, in powers of (x - c)."""
    if not 0 <= index < len(act.junctions):
        raise ValueError(f"index must be in [0, {len(act.junctions) - 1}] (got {index})")
    c = act.junctions[index]
    t = sp.Symbol("t", positive=True)
    engine = SeriesEngine(t)
    out = []
    for side, branch, sub in (("-", act.branches[index], c - t), ("+", act.branches[index + 1], c + t)):
        s = _first_terms(engine, branch.expr.subs(act.x, sub), terms)
        ordered, prec = _ordered(engine, s, terms)
        if side == "-":
            # f(c - t) = sum b t^e  ->  sum b (-1)^e (x - c)^e
            ordered = tuple((e, sp.simplify((-1) ** e * b)) for e, b in ordered)
        out.append(Expansion(c, side, ordered, prec))
    return out[0], out[1]


def asymptotic(act: Activation, side: str, terms: int = 3) -> Expansion:
    """Expansion of f as x -> +oo (``side='+'``) or -oo (``'-'``) in powers of x.
    Where no power expansion exists (exponentially small corrections, as for Sqish),
    the asymptote line slope*x + intercept is derived instead (``exact=False``)."""
    if side not in {"+", "-"}:
        raise ValueError(f"side must be '+' or '-' (got {side!r})")
    branch = act.branches[-1] if side == "+" else act.branches[0]
    x = act.x
    t = sp.Symbol("t", positive=True)
    sign = 1 if side == "+" else -1
    center = sp.oo if side == "+" else -sp.oo
    try:
        engine = SeriesEngine(t)
        s = _first_terms(engine, branch.expr.subs(x, sign / t), terms)
        ordered, prec = _ordered(engine, s, terms)
        # c t^e with t = sign/x  ->  c sign^e x^{-e}
        mapped = tuple((sp.expand(-e), sp.simplify(c * sign**e)) for e, c in ordered)
        return Expansion(center, side, mapped, sp.expand(-prec))
    except NotExpandable:
        pass
    forward, backward = domain_substitution(act.parameters)
    expr = branch.expr.subs(forward)
    slope = sp.simplify(sp.limit(expr / x, x, center))
    intercept = sp.simplify(sp.limit(expr - slope * x, x, center))
    slope, intercept = sp.simplify(slope.subs(backward)), sp.simplify(intercept.subs(backward))
    pairs = tuple((e, c) for e, c in ((sp.S.One, slope), (sp.S.Zero, intercept)) if c != 0)
    return Expansion(center, side, pairs, sp.S.NegativeInfinity, exact=False)


def expansion_expr(exp: Expansion, x: sp.Symbol) -> sp.Expr:
    """The expansion's terms as one expression in x (the O-term left out)."""
    base = x if exp.center in (sp.oo, -sp.oo) else x - exp.center
    return sp.Add(*[c * base**e for e, c in exp.terms])
