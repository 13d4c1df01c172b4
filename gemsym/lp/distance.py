r"""The L^p distance between a family and its declared limit.

For an activation f with ``f.limit = Limit(param, value, g)`` this module computes

    \|f - g\|_p = ( \int_{-\infty}^{\infty} |f(x) - g(x)|^p dx )^{1/p}   (1 <= p < oo),
    \|f - g\|_\infty = \sup_x |f(x) - g(x)|,

branch by branch (never on a ``Piecewise``): the real line is cut at the junctions of f
and of g, and on every interval the difference d = f - g is one expression (intervals where
the branches coincide contribute 0).  Then

* **finiteness** comes from the leading behaviour of d at +-oo and at the junctions
  (a power c x^e or an exponential decay), read off by the one-sided series engine or by
  SymPy's Gruntz limits: |d|^p ~ x^{pe} integrates at oo iff p e < -1;
* **the rate** comes from a scaling symmetry found by SymPy: if
  alpha x d_x + lambda d_lambda = beta d identically, then d(lambda^alpha u; lambda) =
  lambda^beta d(u; 1), so \|d\|_p = lambda^{beta + alpha/p} \|d(.; 1)\|_p;
* **the closed form** comes from reducing \int_0^oo |h|^p du to the Mellin integral
  \int_0^oo y^{s-1} (1 + y)^{-c} dy (evaluated by SymPy once, with its convergence
  condition) when |h|^p = K u^A (c0 + c1 u^B)^{-C}, from a polylog series when
  |h|^p = u^m R(e^{-k u}) with R rational (integer p), and from the critical points of h
  for p = oo;
* **the value** is the closed form evaluated by mpmath, or a quadrature of d where no closed
  form was found, and it is *certified* (``certify``): printed only to the digits on which
  an independent mpmath quadrature of |f - g|^p built from the branches of f and g
  themselves (cancellation-aware, different splitting) agrees with it; a value that no
  second method confirms is not returned (``undecided`` says why).

The pieces live in ``asymptotics`` (ends, finiteness, scaling), ``integrals`` (closed forms
on a half line), ``quadrature`` (mpmath numerics) and ``certify``; this module assembles
them into :class:`LpDistance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..activation import Activation, check_real_branches, order_points
from ..families import FAMILIES
from .asymptotics import P, End, decide, describe, end_behaviour, end_condition, scaling_symmetry
from .integrals import finite_interval_part, half_line_integral, half_line_sup
from .certify import CertifiedValue, Check, NotCertified, certify
from .quadrature import (Estimate, NotConverged, independent_check, interior_point, norm_by_quadrature,
                         piecewise_numeric, size_at_scale, stable, sup_by_critical_point, to_mpf)
from ..parameters import SYMBOLIC, ParameterError, parse_value
from ..series import is_zero

__all__ = ["Finiteness", "LpDistance", "P", "parse_p", "lp_distance"]

_U = sp.Symbol("u", positive=True)


@dataclass(frozen=True)
class Finiteness:
    """Whether ||f - limit||_p is finite: ``finite`` is True/False when decided for these
    parameter values and this p, None when not (``reason`` says why); ``condition`` is
    the exact condition on p and the parameters under which it is finite."""

    finite: bool | None
    condition: sp.Basic
    reason: str


@dataclass(frozen=True)
class LpDistance:
    """The distance ||f - limit||_p for one bound family and one p (see the module docstring).

    ``value`` is the certified value (None when there is none: divergent, symbolic, or
    not certified, then ``undecided`` says why); ``rate`` is the exponent r with
    ||f - limit||_p ~ C lambda^r, given only when the finiteness is decided."""

    activation: Activation
    limit: Activation
    parameter: str
    p: sp.Expr
    finiteness: Finiteness
    closed_form: sp.Expr | None
    rate: sp.Expr | None
    value: CertifiedValue | None
    undecided: str | None
    reason: str

    @property
    def converges(self) -> bool | None:
        return self.finiteness.finite

    @property
    def condition(self) -> sp.Basic:
        return self.finiteness.condition

    @property
    def check(self) -> Check | None:
        """The independent check of the printed value (the first one run; None when the
        value is an exact identity or there is no value)."""
        return None if self.value is None or not self.value.checks else self.value.checks[0]

    @property
    def decided(self) -> bool:
        """Every claim of the result is decided (exit status 0 rather than 3)."""
        return self.undecided is None


def parse_p(p) -> sp.Expr:
    """p as an exact number >= 1, ``oo`` for 'inf', or the positive symbol :data:`P`."""
    if p is sp.oo or (isinstance(p, float) and p == math.inf):
        return sp.oo
    if isinstance(p, str):
        text = p.strip().lower()
        if text in {"inf", "+inf", "oo", "infinity"}:
            return sp.oo
        if text == SYMBOLIC:
            return P
    if isinstance(p, sp.Symbol):
        if p.is_positive:
            return p
        raise ParameterError(f"p must be a positive symbol (got {p!r})")
    allowed = "allowed: a real number >= 1, 'inf' or 'symbolic'"
    try:
        value = parse_value("p", p)
    except ParameterError:
        raise ParameterError(f"p must be a number (got {p!r}); {allowed}") from None
    if not value.is_real or value < 1:
        raise ParameterError(f"p must be >= 1 (got {p!r}); {allowed}")
    return value


# --------------------------------------------------------------------- pieces of f - g
@dataclass(frozen=True)
class _Piece:
    lower: sp.Expr
    upper: sp.Expr
    diff: sp.Expr      # simplified f - g on (lower, upper)
    f_expr: sp.Expr    # the branch of f, as given
    g_expr: sp.Expr    # the branch of the limit, as given


def _simplify(e: sp.Expr) -> sp.Expr:
    try:
        return sp.cancel(sp.together(sp.powsimp(e)))
    except (sp.PolynomialError, NotImplementedError, TypeError):
        return e


def _pieces(f: Activation, g: Activation) -> list[_Piece]:
    """f - g on every interval between the junctions of f and g (zero pieces dropped)."""
    bounds = [-sp.oo, *order_points([*f.junctions, *g.junctions]), sp.oo]
    out = []
    for lo, hi in zip(bounds, bounds[1:]):
        m = interior_point(lo, hi)
        fe = f.branches[f.branch_index(m)].expr
        ge = g.branches[g.branch_index(m)].expr.subs(g.x, f.x)
        d = _simplify(fe - ge)
        if not _vanishes(d, f.x, m):
            out.append(_Piece(lo, hi, d, fe, ge))
    return out


def _vanishes(d: sp.Expr, x: sp.Symbol, m: sp.Expr) -> bool:
    """d == 0 identically; a clearly nonzero value at a sample point settles 'no' cheaply."""
    sample = {s: (2 if s.is_integer else sp.Rational(3, 7)) for s in d.free_symbols if s != x}
    for t in (m + sp.Rational(1, 3), m - sp.Rational(1, 3)):
        try:
            value = complex(sp.N(d.subs(sample).subs(x, t), 20))
        except (TypeError, ValueError):
            continue
        if abs(value) > 1e-12:
            return False
    return is_zero(d)


def _reparametrisation(act: Activation) -> tuple[dict, dict]:
    """Positive stand-ins for symbolic parameters bounded on one side (a < 1 -> a = 1 - A,
    A > 0), so that SymPy's assumptions know their signs.  Returns (forward, back)."""
    forward, back = {}, {}
    free = act.free_symbols
    for param in act.parameters:
        s = param.symbol
        if s not in free or s.is_positive or param.integer:
            continue
        lo, hi = param.domain.inf, param.domain.sup
        stand_in = sp.Dummy(f"{param.name}_", positive=True)
        if lo == -sp.oo and hi != sp.oo:
            forward[s], back[stand_in] = hi - stand_in, hi - s
        elif hi == sp.oo and lo != -sp.oo:
            forward[s], back[stand_in] = lo + stand_in, s - lo
    return forward, back


# --------------------------------------------------------------------- the analysis
def _with_symbolic_limit_parameter(act: Activation, unbound: Activation | None):
    """(the family with the limiting parameter symbolic and the others as in ``act``,
    the value of the limiting parameter in ``act`` or None)."""
    name = act.limit.parameter
    sym = act.parameter(name).symbol
    value = act.values.get(name, sym)
    if value == sym:
        return act, None
    candidates = [unbound] if unbound is not None else []
    if act.name in FAMILIES:  # the registry rebuilds a built-in family unbound
        candidates.append(FAMILIES[act.name]())
    others = {k: v for k, v in act.values.items() if k != name}
    for cand in candidates:
        try:
            rebuilt = cand.bind(**others)
            again = rebuilt.bind(**{name: value})
        except (ValueError, TypeError):
            continue
        same = [b.expr for b in again.branches] == [b.expr for b in act.branches] and [
            b.expr for b in again.limit.function.branches
        ] == [b.expr for b in act.limit.function.branches]
        if same:
            return rebuilt, value
    return None, value


def _families_with_limit() -> str:
    return ", ".join(n for n, make in FAMILIES.items() if make().limit is not None)


def lp_distance(act: Activation, p, *, dps: int = 30, check: bool = True,
                unbound: Activation | None = None) -> LpDistance:
    """\\|f - limit\\|_p for the family ``act`` (parameters concrete or symbolic) and
    p >= 1, 'inf' or 'symbolic': finiteness condition, closed form, rate in the limiting
    parameter, and the value certified by an independent quadrature (always run;
    ``check=True`` adds a second one at another precision and splitting).  ``unbound`` is the same
    family before binding (needed for the rate of a user family whose limiting parameter
    is bound; built-in families are rebuilt from the registry)."""
    p = parse_p(p)
    check_real_branches(act)
    if act.limit is None:
        raise ValueError(
            f"family {act.name!r} declares no limit; families with one: {_families_with_limit()}"
        )
    if not isinstance(dps, int) or dps < 15:
        raise ValueError(f"dps must be an integer >= 15 (got {dps!r})")
    name, x = act.limit.parameter, act.x
    lam = act.parameter(name).symbol
    work, lam_value = _with_symbolic_limit_parameter(act, unbound)
    notes: list[str] = []
    if work is None:
        work = act
        notes.append(f"the rate needs {name} symbolic: this family could not be rebuilt unbound")
    forward, back = _reparametrisation(work)
    pieces = _pieces(work, work.limit.function)
    diffs = [_simplify(pc.diff.subs(forward)) for pc in pieces]

    def finish(e):
        if e is None:
            return None
        e = e.subs(back)
        if lam_value is not None:
            e = e.subs(lam, lam_value)
        return e

    # finiteness ------------------------------------------------------------------
    ends = []
    for pc, d in zip(pieces, diffs):
        ends += [end_behaviour(d, x, pc.lower, +1), end_behaviour(d, x, pc.upper, -1)]
    p_general = sp.oo if p == sp.oo else P
    general = [finish(end_condition(e, p_general)) for e in ends]
    kept = [c for c in general if decide(c, work) is not True]
    condition = sp.And(*kept) if kept else sp.true
    actual = [c.subs(P, p) if p != sp.oo else c for c in general]
    verdicts = [decide(c, work) for c in actual]
    converges = False if False in verdicts else (True if all(verdicts) else None)
    behaviour = "; ".join(describe(e, x) for e in ends)
    lines = [f"f - limit is nonzero on {len(pieces)} interval(s); {behaviour}" if pieces
             else "f coincides with its limit"]
    if converges is False:
        bad = [describe(e, x) for e, v in zip(ends, verdicts) if v is False]
        what = "unbounded" if p == sp.oo else f"|f - limit|^{p} is not integrable"
        lines.append(f"infinite: {what} there ({'; '.join(bad)}); finite iff {condition}")
    elif converges is None:
        lines.append(f"finite iff {condition}")
    finite_reason = "; ".join(lines) if converges is not True else (
        lines[0] + ("; every end integrable" if p != sp.oo else "; bounded at every end"))

    # scaling and rate -------------------------------------------------------------
    rate, scaling = None, None
    if lam in work.free_symbols and act.limit.value in (0, sp.oo) and pieces:
        found = [scaling_symmetry(d, x, lam, -1 if pc.upper.is_nonpositive else 1)
                 for pc, d in zip(pieces, diffs)]
        if all(found) and len(set(found)) == 1 and all(
            _scales_like(c, lam, found[0][0]) for pc in pieces for c in (pc.lower, pc.upper)
        ):
            scaling = found[0]
            alpha, beta = scaling
            rate = finish(beta if p == sp.oo else beta + alpha / p)
            if converges is not False:
                lines.append(f"scaling: x = {lam}**({finish(alpha)})*u gives f - limit = "
                             f"{lam}**({finish(beta)})*h(u), so the distance ~ C*{lam}**({rate})")
                toward_zero = rate.is_positive if act.limit.value == 0 else rate.is_negative
                if toward_zero is False:
                    notes.append(f"the distance does not tend to 0 as {name} -> {act.limit.value}")
        else:
            notes.append(f"no scaling x = {lam}^alpha u found: no rate")
    elif not pieces:
        rate = None

    # closed form ------------------------------------------------------------------
    closed = None
    if converges is not False and pieces:
        closed = _closed_form(pieces, diffs, ends, x, lam, p, scaling, notes)
        closed = finish(closed)
        if closed is not None:
            closed = _tidy(closed)
    elif not pieces:
        closed = sp.S.Zero

    # value and its certificate ------------------------------------------------------
    value, undecided = None, None
    concrete = act.is_concrete and act.limit.function.is_concrete and p != P
    unknown_ends = [e for e in ends if e.kind == "unknown"]
    everything_concrete = act.is_concrete and act.limit.function.is_concrete and p != P
    if converges is None and (unknown_ends or everything_concrete):
        # not a condition on symbolic parameters: the behaviour somewhere is not determined
        undecided = "finiteness not decided: " + "; ".join(
            describe(e, x) for e in unknown_ends) if unknown_ends else f"finiteness not decided ({condition})"
        rate = None  # a rate of a distance that may be infinite is no claim
    elif converges and concrete and not pieces:
        # f - limit vanishes identically (decided symbolically, branch by branch)
        value = CertifiedValue(mpmath.mpf(0), dps, "symbolic identity f = limit", ())
    elif converges and concrete:
        value, refused = _certified_value(act, p, closed, scaling, lam_value, dps, check)
        if value is None:
            undecided = f"no value could be certified: {refused}"
            if closed is not None:
                notes.append(f"the closed form {closed} was not confirmed numerically")
                closed = None
        else:
            lines.append(f"value from the {value.source}, certified to {value.digits} digits by "
                         + " and ".join(c.method for c in value.checks))
    elif converges and not concrete:
        lines.append("no numerical value: some parameter or p is symbolic")
    if undecided is not None:
        notes.append(undecided)
    reason = "; ".join(lines + notes)
    return LpDistance(
        activation=act,
        limit=act.limit.function,
        parameter=name,
        p=p,
        finiteness=Finiteness(converges, condition, finite_reason),
        closed_form=closed if converges is not False else None,
        rate=rate if converges is not False else None,
        value=value,
        undecided=undecided,
        reason=reason,
    )


def _certified_value(act: Activation, p, closed, scaling, lam_value, dps: int, extra: bool):
    """(CertifiedValue, None) or (None, why not): the closed form evaluated (else a
    quadrature of the simplified difference) against the independent quadrature from the
    branches; ``extra`` adds the check at a second precision and splitting."""
    x = act.x
    with mpmath.workdps(dps + 10):
        scale = mpmath.mpf(1)
        if scaling is not None and lam_value is not None:
            scale = to_mpf(sp.Pow(lam_value, scaling[0]), dps)
        raw = _pieces(act, act.limit.function)
        intervals = [(pc.lower, pc.upper) for pc in raw]
        primary = None
        try:
            if closed is not None and not closed.free_symbols:
                primary = Estimate(to_mpf(closed, dps), mpmath.mpf(0), "closed form")
            else:
                fast = piecewise_numeric(
                    [(pc.lower, pc.upper, sp.lambdify(x, pc.diff, "mpmath")) for pc in raw])
                simplified = stable(fast, size_at_scale(fast, intervals, scale), scale)
                if p == sp.oo:
                    primary = Estimate(sup_by_critical_point(raw, x, intervals, scale, simplified), 0,
                                       "critical point of the simplified f - limit (mpmath.findroot)")
                else:
                    v, err = norm_by_quadrature(simplified, intervals, p, scale, 1)
                    primary = Estimate(v, err, "tanh-sinh quadrature of the simplified |f - limit|^p")
        except (NotConverged, ZeroDivisionError, ValueError, TypeError) as exc:
            primary = None  # the check below, run twice, is then the certificate
            why = str(exc)
        checks = []
        try:
            checks.append(independent_check(act, p, scale, dps))
            if primary is None or extra:
                with mpmath.workdps(dps + 20):
                    second = independent_check(act, p, scale, dps, stretch=mpmath.mpf(1) / 2)
                checks.append(Estimate(second.value, second.rel_error,
                                       second.method + " (second precision and splitting)"))
        except (NotConverged, ZeroDivisionError, ValueError, TypeError) as exc:
            return None, f"the independent quadrature did not converge ({exc})"
        if primary is None:
            primary, checks = checks[0], checks[1:]
            primary = Estimate(primary.value, primary.rel_error,
                               primary.method + f" (the simplified difference failed: {why})")
        try:
            return certify(primary, checks, dps, exact=primary.method == "closed form"), None
        except NotCertified as exc:
            return None, str(exc)


def _tidy(e: sp.Expr) -> sp.Expr:
    try:
        e = sp.powsimp(e.rewrite(sp.zeta) if e.has(sp.dirichlet_eta) else e)
        return sp.gammasimp(e) if not e.free_symbols and e.has(sp.gamma) else e
    except (TypeError, ValueError, NotImplementedError):
        return e


def _scales_like(c: sp.Expr, lam: sp.Symbol, alpha: sp.Expr) -> bool:
    """The junction c moves with the scaling x = lam^alpha u: c = c(lam = 1) lam^alpha
    (0 and +-oo always do; SmeLU's +-beta does for alpha = 1)."""
    if c in (0, sp.oo, -sp.oo):
        return True
    return is_zero(c - c.subs(lam, 1) * lam**alpha)


def _closed_form(pieces, diffs, ends, x, lam, p, scaling, notes) -> sp.Expr | None:
    """Sum over the pieces of \\int |d|^p (resp. max of sup |d|), each mapped to u > 0
    (``ends``: the behaviour at the lower and upper end of every piece, in order)."""
    parts = []
    for i, (pc, d) in enumerate(zip(pieces, diffs)):
        lower, upper = ends[2 * i], ends[2 * i + 1]
        lo, hi = pc.lower, pc.upper
        if scaling is not None:
            d, lo, hi = d.subs(lam, 1), lo.subs(lam, 1), hi.subs(lam, 1)
        if lo != -sp.oo and hi == sp.oo:
            h = d.subs(x, lo + _U)
            near, far = lower, upper
        elif lo == -sp.oo and hi != sp.oo:
            h = d.subs(x, hi - _U)
            near, far = upper, lower
        else:
            part = finite_interval_part(d, x, lo, hi, _U, p)
            if part is None:
                notes.append(f"no closed form found on ({pc.lower}, {pc.upper}) for |{d}|"
                             + ("" if p == sp.oo else f"^{p}"))
                return None
            parts.append(part)
            continue
        h = _simplify(h)
        if p == sp.oo:
            at_lam_1 = {lam: 1} if scaling is not None else {}
            u_ends = [End(sp.S.Zero, +1, near.kind, near.exponent,
                           None if near.coef is None else near.coef.subs(at_lam_1)),
                      End(sp.oo, -1, far.kind, far.exponent,
                           None if far.coef is None else far.coef.subs(at_lam_1))]
            part = half_line_sup(h, _U, u_ends)
        else:
            part = half_line_integral(h, _U, p)
        if part is None:
            what = "sup" if p == sp.oo else "integral"
            notes.append(f"no closed form found for the {what} on ({pc.lower}, {pc.upper}) "
                         f"of |{h}|{'' if p == sp.oo else f'^{p}'} (u = |x - junction|)")
            return None
        parts.append(part)
    if p == sp.oo:
        total = parts[0] if len(parts) == 1 else sp.Max(*parts)
        return total if scaling is None else lam ** scaling[1] * total
    total = sp.Add(*parts)
    if scaling is None:
        return total ** (1 / p)
    alpha, beta = scaling
    return lam ** (beta + alpha / p) * total ** (1 / p)
