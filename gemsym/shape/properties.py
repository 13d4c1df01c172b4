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
from .signs import (CHART_P, POWER_W, SCALED_U, Step, chart, end_limit, extreme, greater,
                    is_concrete, numeric, tidy)
from .zeros import power_form, real_zeros, sign_on

__all__ = ["ShapeProperties", "Step", "shape_properties", "monotonicity_and_minima"]



@dataclass(frozen=True)
class ShapeProperties:
    """Shape of f over the real line.

    ``monotonicity``: maximal closed intervals, left to right, labelled 'increasing',
    'decreasing' or 'constant'.  ``minima``: local minima (location, value); the location
    is an ``Interval`` where f is constant at a minimum (E-GEM on x <= 0).
    ``derivative_range`` = (inf f', sup f'); ``lipschitz`` = sup |f'|, attained at
    ``lipschitz_point`` (``oo``/``-oo`` where only approached).  ``bounds`` = (inf f, sup f)
    and ``bounds_attained`` says whether each is attained.  ``asymptotes`` maps '-oo'/'+oo'
    to the line a x + b that f approaches (the key is absent where there is none).
    ``steps`` is the derivation as performed, for :mod:`gemsym.proofs`."""

    activation: Activation
    monotonicity: tuple[tuple[sp.Interval, str], ...]
    minima: tuple[tuple[sp.Basic, sp.Expr], ...]
    derivative_range: tuple[sp.Expr, sp.Expr]
    lipschitz: sp.Expr
    bounds: tuple[sp.Expr, sp.Expr]
    asymptotes: dict[str, sp.Expr]
    lipschitz_point: sp.Expr | None = None
    bounds_attained: tuple[bool, bool] = (True, True)
    steps: tuple[Step, ...] = field(default=(), repr=False)


# --------------------------------------------------------------------------- analysis
def _branch_monotonicity(act: Activation, i: int, steps: list[Step]):
    """Pieces (lo, hi, label) of branch i and candidate values (value, where, attained) of f."""
    x, b = act.x, act.branches[i]
    d1 = sp.diff(b.expr, x)
    steps.append((f"$f'$ on the branch $({sp.latex(b.lower)}, {sp.latex(b.upper)})$", tidy(d1)))
    zeros = real_zeros(d1, x, b.lower, b.upper, steps)
    values = [(end_limit(b.expr, x, b.lower, True), b.lower, b.lower.is_finite is True),
              (end_limit(b.expr, x, b.upper, False), b.upper, b.upper.is_finite is True)]
    if zeros is None:
        values.append((tidy(b.expr), sp.Interval(b.lower, b.upper), True))
        return [(b.lower, b.upper, "constant")], values
    pieces = []
    cuts = [b.lower, *zeros, b.upper]
    for lo, hi in zip(cuts, cuts[1:]):
        label = "increasing" if sign_on(d1, x, lo, hi) > 0 else "decreasing"
        pieces.append((lo, hi, label))
    for z in zeros:
        values.append((tidy(b.expr.subs(x, z)), z, True))
        steps.append((f"$f' = 0$ at $x = {sp.latex(z)}$; there $f$ equals", values[-1][0]))
    return pieces, values


def _merge(pieces) -> tuple[tuple[sp.Interval, str], ...]:
    out: list = []
    for lo, hi, label in pieces:
        if out and out[-1][2] == label:
            out[-1] = (out[-1][0], hi, label)
        else:
            out.append((lo, hi, label))
    return tuple((sp.Interval(lo, hi), label) for lo, hi, label in out)


def monotonicity_and_minima(act: Activation, steps: list[Step] | None = None):
    """(monotonicity, minima, candidate values of f): f' is positive / negative / zero
    on each interval; a local minimum sits where f stops decreasing and starts
    increasing (or on a constant stretch with no decreasing piece before it nor
    increasing-then-constant after it)."""
    steps = [] if steps is None else steps
    pieces, values = [], []
    for i in range(len(act.branches)):
        p, v = _branch_monotonicity(act, i, steps)
        pieces += p
        values += v
    mono = _merge(pieces)
    minima = []
    for k, (interval, label) in enumerate(mono):
        left = mono[k - 1][1] if k > 0 else None
        right = mono[k + 1][1] if k + 1 < len(mono) else None
        if label == "constant" and len(mono) > 1 and left in (None, "decreasing") \
                and right in (None, "increasing"):
            inner = interval.inf + 1 if interval.sup == sp.oo else interval.sup - 1
            if interval.inf != -sp.oo and interval.sup != sp.oo:
                inner = (interval.inf + interval.sup) / 2
            expr = act.branches[act.branch_index(inner)].expr
            minima.append((interval, tidy(expr)))
        if label == "decreasing" and right == "increasing":
            c = interval.sup
            value = next((v for v, w, _ in values if w == c and not isinstance(w, sp.Set)), None)
            if value is None:
                value = tidy(act.branches[act.branch_index(c)].expr.subs(act.x, c))
            minima.append((c, value))
    return mono, tuple(minima), values


def _derivative_candidates(act: Activation, i: int, steps: list[Step]):
    """(value, where) candidates for the extrema of f' on branch i: end limits and the
    critical points of f' (zeros of f'', or of d f'/du in the power substitution)."""
    x, b = act.x, act.branches[i]
    d1 = sp.diff(b.expr, x)
    out = [(end_limit(d1, x, b.lower, True), b.lower),
           (end_limit(d1, x, b.upper, False), b.upper)]
    if sp.simplify(d1) == 0:
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


def _asymptote(act: Activation, end: str) -> sp.Expr | None:
    x = act.x
    b = act.branches[-1] if end == "+oo" else act.branches[0]
    point, from_right = (sp.oo, False) if end == "+oo" else (-sp.oo, True)
    slope = end_limit(sp.expand(b.expr / x), x, point, from_right)
    if slope in (sp.oo, -sp.oo) or slope.has(sp.nan, sp.zoo):
        return None
    icept = end_limit(b.expr - slope * x, x, point, from_right)
    if icept in (sp.oo, -sp.oo) or icept.has(sp.nan, sp.zoo):
        return None
    return tidy(slope * x + icept)


def shape_properties(act: Activation) -> ShapeProperties:
    """Monotonicity, minima, (inf f', sup f'), sup |f'|, (inf f, sup f) and asymptotes of
    ``act`` over the real line: exact where SymPy finds the critical points (symbolic N
    and eps included), else to 30 digits.  Raises ValueError when a sign or comparison
    depends on parameters left symbolic."""
    steps: list[Step] = []
    mono, minima, f_values = monotonicity_and_minima(act, steps)
    d_values = []
    for i in range(len(act.branches)):
        d_values += _derivative_candidates(act, i, steps)
    sup_d = extreme(d_values, True, steps)
    inf_d = extreme(d_values, False, steps)
    lip = extreme([sup_d, (-inf_d[0], inf_d[1])], True, steps)
    steps.append(("Lipschitz constant $\\sup |f'| = \\max(\\sup f', -\\inf f')$", lip[0]))
    pairs = [(v, w) for v, w, _ in f_values]
    inf_f, sup_f = extreme(pairs, False, steps), extreme(pairs, True, steps)
    attained = tuple(
        best[0] not in (sp.oo, -sp.oo)
        and any(a for v, _, a in f_values if greater(v, best[0], []) and greater(best[0], v, []))
        for best in (inf_f, sup_f)
    )
    asym = {end: line for end in ("-oo", "+oo") if (line := _asymptote(act, end)) is not None}
    return ShapeProperties(
        activation=act,
        monotonicity=mono,
        minima=minima,
        derivative_range=(inf_d[0], sup_d[0]),
        lipschitz=lip[0],
        bounds=(inf_f[0], sup_f[0]),
        asymptotes=asym,
        lipschitz_point=None if isinstance(lip[1], sp.Set) else lip[1],
        bounds_attained=attained,  # type: ignore[arg-type]
        steps=tuple(steps),
    )
