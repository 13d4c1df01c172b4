"""Exact smoothness class of a piecewise activation at each junction.

At a junction c the class is C^k with k the largest order such that the one-sided
derivatives f^{(j)}(c-) and f^{(j)}(c+) exist and agree for j = 0..k.  They are read off
the one-sided generalized series of the two branch expressions (:mod:`gemsym.series`):
    f^{(j)}(c+) = j! [t^j] f_R(c + t),   f^{(j)}(c-) = (-1)^j j! [t^j] f_L(c - t).
Exponents may be symbolic in N, so one run proves the class for all N >= 1.  Where the
first differing coefficient vanishes for special parameter values (e.g. SE-GEM at eps = 1),
those values are listed as cases with their own, higher class; where the order of two
exponents depends on N, N is split into the finitely many small values and a shifted tail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .activation import Activation, check_real_branches
from .series import NotExpandable, SeriesEngine, Undecidable, is_zero, tidy

__all__ = ["Case", "JunctionSmoothness", "SmoothnessReport", "junction_smoothness", "smoothness"]

INF = sp.oo


@dataclass(frozen=True)
class Case:
    """Under ``condition`` the class is ``result.smoothness`` (a nested result)."""

    condition: sp.Basic
    result: "JunctionSmoothness"


@dataclass(frozen=True)
class JunctionSmoothness:
    """Smoothness at one junction (``junction`` is None for a single-branch function).

    ``smoothness`` is the class for every admissible parameter value (``-1``: not
    continuous, ``oo``: C^infinity); ``left``/``right`` are the one-sided derivatives of
    order ``first_mismatch_order``; ``coefficients`` lists, per order up to the mismatch,
    the one-sided derivative values (the certificate a checker needs)."""

    junction: sp.Expr | None
    smoothness: sp.Expr
    first_mismatch_order: sp.Expr | None = None
    left: sp.Expr | None = None
    right: sp.Expr | None = None
    cases: tuple[Case, ...] = ()
    coefficients: tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...] = ()
    regular_branches: bool | None = True


@dataclass(frozen=True)
class SmoothnessReport:
    """The class at every junction, and whether the claimed class holds."""

    activation: Activation
    junctions: tuple[JunctionSmoothness, ...]
    claimed: sp.Expr | None
    holds: bool | None = field(default=None)


def _conditions_for_zero(diff: sp.Expr, act: Activation) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Admissible parameter values at which the coefficient difference vanishes."""
    out = []
    for param in act.parameters:
        sym = param.symbol
        if sym not in diff.free_symbols:
            continue
        try:
            roots = sp.solve(sp.numer(sp.together(diff)), sym)
        except (NotImplementedError, ValueError):
            continue
        for r in roots:
            if r.free_symbols:
                continue
            if param.integer and not r.is_integer:
                continue
            if param.domain.contains(r) == sp.true:
                out.append((param, r))
    return out


def _derivative_value(order: sp.Expr, coef: sp.Expr) -> sp.Expr:
    return sp.factorial(order) * coef


def _compare(act: Activation, index: int, engine: SeriesEngine, max_rounds: int):
    left_b, right_b = act.branches[index], act.branches[index + 1]
    c, x, t = right_b.lower, act.x, engine.t
    right = right_b.expr.subs(x, c + t)
    left = left_b.expr.subs(x, c - t)
    if is_zero(sp.expand(left_b.expr - right_b.expr)):
        return None, ()
    target: sp.Expr = sp.S.One
    coefficients = []
    for _ in range(max_rounds):
        rs = engine.expand(right, target)
        ls = engine.expand(left, target)
        prec = engine.min(rs.prec, ls.prec)
        exps = engine.sorted_exponents(set(rs.terms) | set(ls.terms))
        coefficients = []
        for e in exps:
            if not engine.lt(e, prec):
                break
            r = rs.terms.get(e, sp.S.Zero)
            raw_l = ls.terms.get(e, sp.S.Zero)
            if engine.lt(e, 0):
                return (sp.S.Zero, e, raw_l, r, "pole"), tuple(coefficients)
            if e.is_integer is not True:
                if e.is_integer is False:
                    return (e, e, raw_l, r, "fractional"), tuple(coefficients)
                raise Undecidable(e)
            l = (-1) ** e * raw_l
            l, r = tidy(l), tidy(r)
            if not is_zero(r - l):
                return (e, e, l, r, "mismatch"), tuple(coefficients)
            coefficients.append((e, _derivative_value(e, l), _derivative_value(e, r)))
        if prec == INF:
            return None, tuple(coefficients)
        target = sp.expand(prec + 1)
    raise NotExpandable(f"no differing coefficient found below t^{target}")


def junction_smoothness(
    act: Activation, index: int, max_rounds: int = 12, _depth: int = 0
) -> JunctionSmoothness:
    """Exact class at junction ``index`` (between branches index and index+1)."""
    junction = act.branches[index].upper
    engine = SeriesEngine(sp.Symbol("t", positive=True))
    try:
        found, coefficients = _compare(act, index, engine, max_rounds)
    except Undecidable as exc:
        return _split_on_N(act, index, exc.expr, max_rounds, _depth)
    if found is None:
        return JunctionSmoothness(junction, INF, coefficients=coefficients)
    order, e, l, r, kind = found
    if kind == "pole":
        return JunctionSmoothness(junction, sp.Integer(-1), sp.S.Zero, sp.oo if l else l,
                                  sp.oo if r else r, coefficients=coefficients)
    if kind == "fractional":
        k = sp.floor(e) + 1
        return JunctionSmoothness(junction, sp.floor(e), k,
                                  sp.zoo if l else sp.S.Zero, sp.zoo if r else sp.S.Zero,
                                  coefficients=coefficients)
    cases = []
    if _depth < 3:
        for param, value in _conditions_for_zero(tidy(r - l), act):
            special = act.bind(**{param.name: value})
            sub = junction_smoothness(special, index, max_rounds, _depth + 1)
            cases.append(Case(sp.Eq(param.symbol, value), sub))
    return JunctionSmoothness(
        junction,
        sp.expand(order - 1),
        order,
        _derivative_value(order, l),
        _derivative_value(order, r),
        tuple(cases),
        coefficients,
    )


def _map_back(result: JunctionSmoothness, back: dict) -> JunctionSmoothness:
    """``result`` computed for the shifted family, with every expression (nested cases and
    the certificate's coefficients included) written in the original N again."""

    def sub(e):
        return None if e is None else sp.expand(sp.sympify(e).subs(back))

    return JunctionSmoothness(
        result.junction,
        sub(result.smoothness),
        sub(result.first_mismatch_order),
        None if result.left is None else sp.sympify(result.left).subs(back),
        None if result.right is None else sp.sympify(result.right).subs(back),
        tuple(Case(c.condition.subs(back), _map_back(c.result, back)) for c in result.cases),
        tuple((sub(o), sp.sympify(l).subs(back), sp.sympify(r).subs(back))
              for o, l, r in result.coefficients),
        result.regular_branches,
    )


def _split_on_N(act, index, expr, max_rounds, depth) -> JunctionSmoothness:
    """The order of two exponents depends on N: treat small N one by one and the tail
    N >= n0 by the substitution N -> N + n0 - 1 (which keeps N >= 1)."""
    n_params = [p for p in act.parameters if p.integer and p.symbol in expr.free_symbols]
    if not n_params or depth > 3:
        raise NotExpandable(f"the class depends on the sign of {expr}")
    param = n_params[0]
    N = param.symbol
    roots = [r for r in sp.solve(expr, N) if r.is_real]
    n0 = int(sp.floor(max(roots))) + 1 if roots else 2
    n0 = max(n0, 2)
    cases = []
    for n in range(1, n0):
        sub = junction_smoothness(act.bind(**{param.name: n}), index, max_rounds, depth + 1)
        cases.append(Case(sp.Eq(N, n), sub))
    shifted = act.substitute({N: N + n0 - 1})
    tail = junction_smoothness(shifted, index, max_rounds, depth + 1)
    tail = _map_back(tail, {N: N - (n0 - 1)})
    cases.append(Case(N >= n0, tail))
    if all(
        sp.expand(tail.smoothness.subs(N, n) - c.result.smoothness) == 0
        and c.result.first_mismatch_order is not None
        and tail.first_mismatch_order is not None
        and sp.expand(tail.first_mismatch_order.subs(N, n) - c.result.first_mismatch_order) == 0
        for n, c in zip(range(1, n0), cases)
    ):
        # The tail formula is right for the small N too: one expression for all N >= 1.
        return tail
    pieces = [(c.result.smoothness, c.condition) for c in cases]
    return JunctionSmoothness(act.branches[index].upper, sp.Piecewise(*pieces), cases=tuple(cases))


def branches_regular(act: Activation) -> bool | None:
    """True when no branch denominator vanishes inside its interval (None: undecided)."""
    verdict: bool | None = True
    for b in act.branches:
        den = sp.denom(sp.together(b.expr))
        if not den.has(act.x):
            continue
        lo, hi = b.lower, b.upper
        ok = None
        if lo == 0 and hi == sp.oo or lo == -sp.oo and hi == 0:
            p = sp.Symbol("p", positive=True)
            probe = den.subs(act.x, p if lo == 0 else -p)
            probe = sp.expand(probe, power_base=True, force=False)
            if probe.is_positive or probe.is_negative:
                ok = True
        if ok is None and not den.free_symbols - {act.x}:
            try:
                roots = sp.solveset(den, act.x, sp.Interval.open(lo, hi))
                ok = roots is sp.S.EmptySet or (roots.is_empty is True)
                if isinstance(roots, sp.ConditionSet):
                    ok = None
            except NotImplementedError:
                ok = None
        if ok is None and lo == -sp.oo and hi == sp.oo and den.is_positive:
            ok = True
        if ok is False:
            return False
        if ok is None:
            verdict = None
    return verdict


def smoothness(act: Activation) -> SmoothnessReport:
    """The class at every junction of ``act`` and whether it meets the claimed class.
    Raises :class:`~gemsym.activation.BranchError` (a ValueError) for a branch that is not
    a real function (complex, NaN, zoo): no class is claimed for it."""
    check_real_branches(act)
    regular = branches_regular(act)
    if len(act.branches) == 1:
        results = (JunctionSmoothness(None, INF, regular_branches=regular),)
    else:
        results = tuple(
            _with_regular(junction_smoothness(act, i), regular) for i in range(len(act.branches) - 1)
        )
    claimed = act.claimed_smoothness
    holds = None
    if claimed is not None:
        holds = all(_claim_holds(r, claimed) for r in results) and regular is not False
    return SmoothnessReport(act, results, claimed, holds)


def _with_regular(r: JunctionSmoothness, regular) -> JunctionSmoothness:
    from dataclasses import replace

    return replace(r, regular_branches=regular)


def _claim_holds(r: JunctionSmoothness, claimed: sp.Expr) -> bool:
    """Whether the class at ``r`` is at least the claim.  A claim that depends on parameter
    values (``Piecewise((1, Eq(alpha, 1)), (0, True))``: ELU) is checked at every special
    value named by the claim or by the result's cases, and in general (neither)."""
    if not isinstance(claimed, sp.Piecewise):
        return _at_least(r.smoothness, claimed)
    general = [value for value, cond in claimed.args if cond == sp.true]
    special = [cond for _, cond in claimed.args if cond != sp.true]
    special += [c.condition for c in r.cases if c.condition not in special]
    if not general or not all(isinstance(c, sp.Eq) and c.lhs.is_Symbol for c in special):
        return False  # only conditions 'parameter = value' are decided here
    for cond in special:
        cls = next((c.result.smoothness for c in r.cases if c.condition == cond), r.smoothness)
        if not _at_least(cls, claimed.subs(cond.lhs, cond.rhs)):
            return False
    return _at_least(r.smoothness, general[0])


def _at_least(value: sp.Expr, claimed: sp.Expr) -> bool:
    if claimed == INF:
        return value == INF
    if value == INF:
        return True
    if isinstance(value, sp.Piecewise):
        return all(_at_least(v, claimed) for v, _ in value.args)
    d = sp.expand(value - claimed)
    return bool(d == 0 or d.is_nonnegative)
