"""Shape properties of an activation: monotonicity, minima, range of f', Lipschitz
constant sup|f'|, bounds and linear asymptotes.

Everything is computed branch by branch (never on a ``Piecewise``), with the sign and limit
decisions of :mod:`gemsym.shape.signs` and the zero finding of :mod:`gemsym.shape.zeros`.  When f' is a
function of w = p^k alone, its extrema are the zeros of d f'/dw (w is increasing in p); if
moreover w = s u removes a positive parameter s (E-GEM: u = x^{2N}/eps gives
f' = u (u + 2N + 1)/(u + 1)^2), the range of f' does not depend on s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..activation import Activation
from .domain import Breakpoint, Piece, split
from .signs import (CHART_P, POWER_W, SCALED_U, Step, Undecided, chart, end_limit, extreme,
                    is_identically_zero,
                    greater, is_concrete, numeric, sign, tidy)
from .periodic import PeriodicRange, drift, periodic_range
from .zeros import power_form, real_zeros, sign_on

__all__ = ["ShapeProperties", "Step", "Undecided", "shape_properties", "monotonicity_and_minima"]



@dataclass(frozen=True)
class ShapeProperties:
    """Shape of f over the real line.

    ``monotonicity``: maximal closed intervals, left to right, labelled 'increasing',
    'decreasing' or 'constant' (never merged across a jump or a pole).  ``monotone``:
    'increasing', 'non-decreasing', 'decreasing', 'non-increasing', 'constant' on the
    whole line, or None.  ``minima``: local minima (location, value); the location
    is an ``Interval`` where f is constant at a minimum (E-GEM on x <= 0).
    ``derivative_range`` = (inf f', sup f') over the points where f is differentiable;
    ``lipschitz`` = sup |f'|, attained at ``lipschitz_point`` when ``lipschitz_attained``
    (at every point of ``lipschitz_stretch`` when that is an interval where |f'| is that
    constant; the point is then one of them), else only approached as x tends to
    ``lipschitz_point`` (``oo``/``-oo``, or a junction where f' does not exist, from the
    side ``lipschitz_side``, '+' or '-') -- None when f is not Lipschitz (a jump, a pole,
    or f' unbounded), with ``lipschitz_reason``.  ``bounds`` = (inf f, sup f) and ``bounds_attained`` says
    whether each is attained.  ``asymptotes`` maps '-oo'/'+oo' to the line a x + b that f
    approaches (the key is absent where there is none).  ``breakpoints``: every point
    between two smooth pieces (junctions, switch points, poles) with f's one-sided limits.
    ``steps`` is the derivation as performed, for :mod:`gemsym.proofs`."""

    activation: Activation
    monotonicity: tuple[tuple[sp.Interval, str], ...]
    minima: tuple[tuple[sp.Basic, sp.Expr], ...]
    derivative_range: tuple[sp.Expr, sp.Expr]
    lipschitz: sp.Expr | None
    bounds: tuple[sp.Expr, sp.Expr]
    asymptotes: dict[str, sp.Expr]
    lipschitz_point: sp.Expr | None = None
    bounds_attained: tuple[bool, bool] = (True, True)
    monotone: str | None = None
    lipschitz_reason: str = ""
    breakpoints: tuple[Breakpoint, ...] = ()
    steps: tuple[Step, ...] = field(default=(), repr=False)
    lipschitz_attained: bool = True
    lipschitz_side: str = ""
    lipschitz_stretch: sp.Interval | None = None


# --------------------------------------------------------------------------- analysis
def _end_attained(end: sp.Expr, points: dict, value: sp.Expr) -> bool:
    """Is the one-sided limit ``value`` of f at the piece end ``end`` a value of f?"""
    if end in (sp.oo, -sp.oo):
        return False
    bp = points.get(end)
    if bp is None or bp.kind == "continuous":
        return True
    return bp.kind == "jump" and value == bp.right  # f(c) is the right branch's value


def _branch_monotonicity(pc: Piece, x: sp.Symbol, points: dict, steps: list[Step]):
    """Labelled intervals (lo, hi, label) of one piece and candidate values (value, where,
    attained) of f."""
    d1 = sp.diff(pc.expr, x)
    steps.append((f"$f'$ on the branch $({sp.latex(pc.lower)}, {sp.latex(pc.upper)})$", tidy(d1)))
    rng = periodic_range(d1, x, pc.lower, pc.upper)
    if rng is not None:
        return _periodic_monotonicity(pc, x, rng, points, steps)
    zeros = real_zeros(d1, x, pc.lower, pc.upper, steps)
    ends = [(end_limit(pc.expr, x, pc.lower, True), pc.lower),
            (end_limit(pc.expr, x, pc.upper, False), pc.upper)]
    values = [(v, w, _end_attained(w, points, v)) for v, w in ends]
    if zeros is None:
        values.append((tidy(pc.expr), sp.Interval(pc.lower, pc.upper), True))
        return [(pc.lower, pc.upper, "constant")], values
    pieces = []
    cuts = [pc.lower, *zeros, pc.upper]
    for lo, hi in zip(cuts, cuts[1:]):
        label = "increasing" if sign_on(d1, x, lo, hi) > 0 else "decreasing"
        pieces.append((lo, hi, label))
    for z in zeros:
        values.append((tidy(pc.expr.subs(x, z)), z, True))
        steps.append((f"$f' = 0$ at $x = {sp.latex(z)}$; there $f$ equals", values[-1][0]))
    return pieces, values


def _periodic_monotonicity(pc: Piece, x: sp.Symbol, rng: PeriodicRange, points: dict,
                           steps: list[Step]):
    """A piece whose f' is periodic: f is strictly monotone when min f' >= 0 (or
    max f' <= 0), since a zero of f' is then a minimum (maximum) of f', one of finitely
    many critical points per period; f(x + T) = f(x) + c sends f to +-oo at an infinite
    end.  When f' changes sign, f has infinitely many intervals of monotonicity."""
    steps.extend(rng.steps)
    if greater(rng.low, 0, steps):
        label, rising = "increasing", True
    elif greater(0, rng.high, steps):
        label, rising = "decreasing", False
    else:
        raise Undecided(f"f' takes every value from {rng.low} to {rng.high} in each period "
                        f"{rng.period}: f has infinitely many intervals of monotonicity, "
                        "which are not listed")
    if rng.low == 0 or rng.high == 0:
        steps.append(("$f'$ vanishes only where it is extremal, at finitely many points "
                      "per period: its zeros are isolated and $f$ is strictly "
                      f"{'increasing' if rising else 'decreasing'}", sp.Tuple(*rng.critical)))
    c = drift(pc.expr, x, rng.period, rng.low_at)
    steps.append(("$c = f(x + T) - f(x)$, a constant since $f'$ has period $T$; "
                  "$f(x + kT) = f(x) + kc$", c))
    values = []
    for end, from_right in ((pc.lower, True), (pc.upper, False)):
        if end in (sp.oo, -sp.oo):
            values.append((sign(c) * end if c != 0 else sp.nan, end, False))
        else:
            v = end_limit(pc.expr, x, end, from_right)
            values.append((v, end, _end_attained(end, points, v)))
    if any(v[0] is sp.nan for v in values):
        raise Undecided(f"{pc.expr} is periodic and monotone yet f(x + T) = f(x)")
    return [(pc.lower, pc.upper, label)], values


def _merge(pieces, points: dict):
    """Adjacent intervals with one label become one, unless f jumps or has a pole between."""
    out: list = []
    for lo, hi, label in pieces:
        joined = lo not in points or points[lo].kind == "continuous"
        if out and out[-1][2] == label and joined:
            out[-1] = (out[-1][0], hi, label)
        else:
            out.append((lo, hi, label))
    return (tuple((_interval(lo, hi, points), label) for lo, hi, label in out),
            tuple(label for *_, label in out))


def _interval(lo, hi, points: dict) -> sp.Interval:
    """Closed at an end that f reaches continuously, open at a pole or the left of a jump."""
    left_open = lo in points and points[lo].kind == "pole"
    right_open = hi in points and points[hi].kind != "continuous"
    return sp.Interval(lo, hi, left_open, right_open)


def _monotone(labels: tuple[str, ...], points: list[Breakpoint]) -> str | None:
    """The behaviour on the whole line, from the labels and the jumps between them."""
    if any(bp.kind == "pole" for bp in points):
        return None
    kinds = set(labels)
    jumps = {sign(bp.right - bp.left) for bp in points if bp.kind == "jump"}
    if kinds == {"constant"} and not jumps:
        return "constant"
    for word, step in (("increasing", 1), ("decreasing", -1)):
        if kinds <= {word, "constant"} and jumps <= {step}:
            return word if kinds == {word} else "non-" + ("decreasing" if step > 0 else "increasing")
    return None


def _jump_minimum(bp: Breakpoint, left: str, right: str) -> bool:
    """A local minimum of f at a jump c (f(c) = the right limit)."""
    below_left = greater(bp.left, bp.right, [])
    return below_left and right in ("increasing", "constant")


def monotonicity_and_minima(act: Activation, steps: list[Step] | None = None):
    """(monotonicity, minima, candidate values of f): f' is positive / negative / zero
    on each interval; a local minimum sits where f stops decreasing and starts
    increasing (or on a constant stretch with no decreasing piece before it nor
    increasing-then-constant after it), or at a jump down followed by a rise."""
    return _monotonicity(act, *split(act), steps)[:3]


def _monotonicity(act: Activation, parts: list[Piece], points: list[Breakpoint],
                  steps: list[Step] | None):
    steps = [] if steps is None else steps
    at = {bp.point: bp for bp in points}
    pieces, values = [], []
    for pc in parts:
        p, v = _branch_monotonicity(pc, act.x, at, steps)
        pieces += p
        values += v
    mono, labels = _merge(pieces, at)
    minima = []
    for k, (interval, label) in enumerate(mono):
        left = labels[k - 1] if k > 0 else None
        right = labels[k + 1] if k + 1 < len(mono) else None
        bp = at.get(interval.inf)
        if bp is not None and bp.kind == "jump" and _jump_minimum(bp, left, label):
            minima.append((bp.point, bp.right))
        bp_hi = at.get(interval.sup)
        continuous_hi = bp_hi is None or bp_hi.kind == "continuous"
        continuous_lo = bp is None or bp.kind == "continuous"
        if label == "constant" and len(mono) > 1 and left in (None, "decreasing") \
                and right in (None, "increasing") and continuous_lo and continuous_hi:
            inner = interval.inf + 1 if interval.sup == sp.oo else interval.sup - 1
            if interval.inf != -sp.oo and interval.sup != sp.oo:
                inner = (interval.inf + interval.sup) / 2
            expr = next(pc.expr for pc in parts if pc.upper == interval.sup
                        or _within(inner, pc))
            minima.append((interval, tidy(expr)))
        if label == "decreasing" and right == "increasing" and continuous_hi:
            c = interval.sup
            value = next((v for v, w, _ in values if w == c and not isinstance(w, sp.Set)), None)
            if value is None:
                value = tidy(next(pc.expr for pc in parts if _within(c, pc)).subs(act.x, c))
            minima.append((c, value))
    return mono, tuple(minima), values, labels


def _within(point: sp.Expr, pc: Piece) -> bool:
    return bool(sp.And(point >= pc.lower, point <= pc.upper))


def _derivative_candidates(b: Piece, x: sp.Symbol, steps: list[Step]):
    """(value, where, side) candidates for the extrema of f' on one piece: end limits
    (side '+' at the lower end, '-' at the upper: approached, a value of f' only where f'
    exists there), the critical points of f' (zeros of f'', or of d f'/du in the power
    substitution) and a constant f' on the whole open piece (side '')."""
    return [c if len(c) == 3 else (*c, _side(c[1], b)) for c in _candidates(b, x, steps)]


def _side(where: sp.Basic, b: Piece) -> str:
    if where is b.lower:
        return "+"
    return "-" if where is b.upper else ""


def _candidates(b: Piece, x: sp.Symbol, steps: list[Step]):
    d1 = sp.diff(b.expr, x)
    if not d1.has(x):  # attained on the whole piece: preferred to its ends
        return [(d1, sp.Interval.open(b.lower, b.upper), ""),
                (d1, b.lower, "+"), (d1, b.upper, "-")]
    rng = periodic_range(d1, x, b.lower, b.upper)
    if rng is not None:
        # the range of one period is attained; a finite end adds its one-sided limit
        ends = [(end_limit(d1, x, e, right), e) for e, right in ((b.lower, True),
                (b.upper, False)) if e not in (sp.oo, -sp.oo)]
        return ends + [(rng.low, rng.low_at), (rng.high, rng.high_at)]
    out = [(end_limit(d1, x, b.lower, True), b.lower),
           (end_limit(d1, x, b.upper, False), b.upper)]
    if is_identically_zero(d1, x):
        return out
    if b.lower != -sp.oo or b.upper != sp.oo:
        xp, width = chart(b.lower, b.upper)
        form = power_form(sp.factor(d1.subs(x, xp))) if width is None else None
        if form is not None:
            k, phi = form
            var, scale, phi = POWER_W, sp.S.One, sp.factor(phi)
            for s in sorted(phi.free_symbols - {POWER_W}, key=str):
                if s.is_positive and not s.is_integer:
                    trial = sp.factor(phi.subs(POWER_W, s * SCALED_U))
                    if not trial.has(s):
                        phi, var, scale = trial, SCALED_U, s
                        break
            name = "u" if var == SCALED_U else "w"
            steps.append((f"substitute ${name} = p^{{{sp.latex(k)}}}"
                          + (f"/{sp.latex(scale)}" if scale != 1 else "")
                          + "$ ($p = |x - c|$, $c$ the end of the branch): $f'$ becomes a "
                          "function of one variable", sp.Eq(sp.Function("phi")(var), phi)))
            dphi = sp.factor(sp.diff(phi, var))
            steps.append((f"$d\\varphi/d{name}$, whose zeros are the critical points of $f'$ "
                          f"(${name}$ is increasing in $p$)", dphi))
            for r in sp.solve(sp.numer(sp.together(dphi)), var):
                if not (r.is_positive or (is_concrete(r) and r.is_real and numeric(r) > 0)):
                    continue
                value = tidy(phi.subs(var, r))
                where = xp.subs(CHART_P, (scale * r) ** (1 / k))
                steps.append((f"critical point ${name}^*$ and the value of $f'$ there",
                              sp.Tuple(r, value)))
                out.append((value, where))
            return out
    for z in real_zeros(sp.diff(d1, x), x, b.lower, b.upper, steps) or []:
        value = tidy(d1.subs(x, z))
        steps.append((f"$f'' = 0$ at $x = {sp.latex(z)}$; there $f'$ equals", value))
        out.append((value, z))
    return out


def _asymptote(pc: Piece, x: sp.Symbol, end: str) -> sp.Expr | None:
    point, from_right = (sp.oo, False) if end == "+oo" else (-sp.oo, True)
    rng = periodic_range(sp.diff(pc.expr, x), x, pc.lower, pc.upper)
    if rng is not None:
        # f = (c/T) x + q with q periodic: a line only when q is constant
        slope = drift(pc.expr, x, rng.period, rng.low_at) / rng.period
        rest = sp.simplify(pc.expr - slope * x)
        return tidy(slope * x + rest) if is_identically_zero(sp.diff(rest, x), x) else None
    slope = end_limit(sp.expand(pc.expr / x), x, point, from_right)
    if slope in (sp.oo, -sp.oo) or slope.has(sp.nan, sp.zoo):
        return None
    icept = end_limit(pc.expr - slope * x, x, point, from_right)
    if icept in (sp.oo, -sp.oo) or icept.has(sp.nan, sp.zoo):
        return None
    return tidy(slope * x + icept)


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    try:
        return greater(a, b, []) and greater(b, a, [])
    except ValueError:
        return False


def _attainment(best: tuple, cands: list[tuple], points: dict):
    """(point, attained, side, stretch) for sup |f'| = best[0]: an interior point or a
    stretch where |f'| is that value, or a junction where f' exists (f continuous and both
    one-sided limits of f' agree, so f' is their value there by the mean value theorem);
    else the end where it is only approached."""
    value, where, side = best

    def exists_at(c: sp.Expr) -> bool:
        bp = points.get(c)
        sides = [v for v, w, s in cands if s and w == c]
        return (bp is not None and bp.kind == "continuous" and len(sides) == 2
                and _same(*sides))

    def attained(c: tuple) -> bool:
        return not c[2] or (c[1] not in (sp.oo, -sp.oo) and exists_at(c[1]))

    if not attained(best):
        best = next((c for c in cands if attained(c) and (_same(c[0], value)
                                                        or _same(-c[0], value))), best)
        value, where, side = best
    if isinstance(where, sp.Interval):
        lo, hi = where.inf, where.sup
        inner = (lo + hi) / 2 if lo != -sp.oo and hi != sp.oo else (
            lo + 1 if hi == sp.oo else hi - 1) if (lo, hi) != (-sp.oo, sp.oo) else sp.S.Zero
        return inner, True, "", where
    ok = attained(best)
    return where, ok, "" if ok else side, None


def _not_lipschitz(points: list[Breakpoint], sup_abs: sp.Expr) -> str:
    """Why f has no Lipschitz constant ('' when it has one)."""
    for bp in points:
        if bp.kind == "pole":
            return f"f is unbounded near x = {bp.point} ({bp.cause})"
        if bp.kind == "jump":
            return (f"f is discontinuous at x = {bp.point}: it jumps from {bp.left} to "
                    f"{bp.right}")
    if sup_abs == sp.oo:
        return "f' is unbounded (sup |f'| = oo)"
    return ""


def shape_properties(act: Activation) -> ShapeProperties:
    """Monotonicity, minima, (inf f', sup f'), sup |f'|, (inf f, sup f) and asymptotes of
    ``act`` over the real line: exact where SymPy finds the critical points (symbolic N
    and eps included), else to 30 digits from certified root isolation.  f is split at
    its junctions, at the switch points of ``Abs``/``sign``/``Max``/``Min`` and at its
    singular points; a jump or a pole there means no Lipschitz constant.  Raises
    :class:`Undecided` (a ValueError) when a sign, a comparison, a limit or the zeros of
    f' cannot be decided, and ValueError when a branch is not real."""
    steps: list[Step] = []
    parts, points = split(act)
    mono, minima, f_values, labels = _monotonicity(act, parts, points, steps)
    d_values = []
    for pc in parts:
        d_values += _derivative_candidates(pc, act.x, steps)
    sup_d = extreme(d_values, True, steps)
    inf_d = extreme(d_values, False, steps)
    lip = extreme([sup_d, (-inf_d[0], *inf_d[1:])], True, steps)
    reason = _not_lipschitz(points, lip[0])
    where, reached, side, stretch = _attainment(lip, d_values, {bp.point: bp for bp in points})
    if not reason:
        steps.append(("Lipschitz constant $\\sup |f'| = \\max(\\sup f', -\\inf f')$", lip[0]))
    pairs = [(v, w) for v, w, _ in f_values]
    inf_f, sup_f = extreme(pairs, False, steps), extreme(pairs, True, steps)
    attained = tuple(
        best[0] not in (sp.oo, -sp.oo)
        and any(a for v, _, a in f_values if greater(v, best[0], []) and greater(best[0], v, []))
        for best in (inf_f, sup_f)
    )
    ends = {"-oo": parts[0], "+oo": parts[-1]}
    asym = {end: line for end in ("-oo", "+oo")
            if (line := _asymptote(ends[end], act.x, end)) is not None}
    return ShapeProperties(
        activation=act,
        monotonicity=mono,
        minima=minima,
        derivative_range=(inf_d[0], sup_d[0]),
        lipschitz=None if reason else lip[0],
        bounds=(inf_f[0], sup_f[0]),
        asymptotes=asym,
        lipschitz_point=None if reason else where,
        lipschitz_attained=not reason and reached,
        lipschitz_side="" if reason else side,
        lipschitz_stretch=None if reason else stretch,
        bounds_attained=attained,  # type: ignore[arg-type]
        monotone=_monotone(labels, points),
        lipschitz_reason=reason,
        breakpoints=tuple(points),
        steps=tuple(steps),
    )
