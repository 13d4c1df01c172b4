"""The plans of the narrow bodies: for which integer parameter values they hold, with which
clamp, lower clamps and linear tails where a body fits the budget only below 2^k."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple, Sequence

import mpmath
import sympy as sp

from ..infinity import limit_at as _limit
from ..stable import IPow, StableForm
from .clamp import Clamp, _best_quality, _clamp, _exact_at, _quality
from .forms import (BUDGET, MAX_INT, _bodies, _bound, _interval, _narrow_number, _params_env,
                    _plain, _rounds_to, _unguarded, _Unsupported)

class NarrowPlan(NamedTuple):
    """The integer parameter values the narrow bodies hold for, the outputs with those
    bodies, and the clamp of x that they are evaluated at (None: none)."""

    values: tuple[int, ...]
    outputs: list[tuple[str, tuple[StableForm, ...]]]
    clamp: Clamp | None = None


def narrow_outputs(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                   ints: Sequence[sp.Symbol], reals: Sequence[sp.Symbol],
                   junctions: Sequence[sp.Expr] = (), sides: bool = False,
                   summed: frozenset = frozenset(), scaled: bool = False) -> NarrowPlan | None:
    """The :class:`NarrowPlan` of the narrow body: every power form without its |x| > 1
    side (``large`` None), with its limits at -oo and +oo (``limits``) and without the
    points where that body already gives the value, valid for the integer parameter values
    it lists, and the :class:`Clamp` of x that replaces comparisons (``junctions``: the
    family's, between the outputs' pieces; ``sides``: the clamp may make sums of the two
    sides, see ``Clamp``; ``summed``: the outputs whose values are only ever summed, the
    sign of a zero of theirs unobserved, see ``Clamp.plus_zero``; ``scaled``: the outputs
    are derivatives, multiplied by a gradient before they are rounded, so that no finite
    value may stand for an infinite limit, see ``clamp._end_bound``); None where there is
    no power form, more than one integer parameter, or no value passes.  The printed forms
    keep the symbolic integer parameter (the same code as the general body on |x| <= 1)."""
    if len(ints) > 1 or not any(f.kind == "power" for _, fs in outputs for f in fs):
        return None
    return _plan_from(outputs, x, ints, reals, junctions, sides, 1, False, summed, scaled)


def narrow_plans(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                 ints: Sequence[sp.Symbol], reals: Sequence[sp.Symbol],
                 junctions: Sequence[sp.Expr] = (), sides: bool = False,
                 summed: frozenset = frozenset(), scaled: bool = False) -> list[NarrowPlan]:
    """``narrow_outputs``'s plan, then the plans of the integer parameter values after it,
    each for the next values on, where linear tails (``Clamp.tail``) may bound x: GEM's f
    is x^(2N+1)/(x^2N + 1) plainly for N = 1 .. 3 and from N = 4 on (x^9 ~ 2^1152 at the
    largest float32) at x below 2^k plus x - 2^k beyond it; SE-GEM's, with a power form
    on both sides, from N = 4 on with x clamped at both ends (``_ends_plan``).  Disjoint
    value lists, in order; [] where there is none."""
    first = narrow_outputs(outputs, x, ints, reals, junctions, sides, summed, scaled)
    plans = [first] if first is not None else []
    if len(ints) != 1 or not any(f.kind == "power" for _, fs in outputs for f in fs):
        return plans
    start = max(first.values) + 1 if first is not None else 1
    while start <= MAX_INT:
        plan = _plan_from(outputs, x, ints, reals, junctions, sides, start, True, summed,
                          scaled)
        if plan is None:
            break
        plans.append(plan)
        start = max(plan.values) + 1
    return plans


def positive_plans(outputs: Sequence[tuple[str, Sequence[StableForm]]], x: sp.Symbol,
                   ints: Sequence[sp.Symbol], reals: Sequence[sp.Symbol],
                   junctions: Sequence[sp.Expr] = (), sides: bool = False,
                   summed: frozenset = frozenset(), scaled: bool = False,
                   than: list[NarrowPlan] | None = None
                   ) -> tuple[tuple[sp.Symbol, ...], list[NarrowPlan]]:
    """(the real parameters of either sign that the outputs use, ``narrow_plans`` with them
    taken positive) where that assumption gives a better clamp than ``narrow_plans``
    without it (``than``, computed here if None; the interval arguments need each
    parameter's sign: leaky ReLU's alpha x clamps at -2^264 and is a sum of sides for
    alpha > 0 only, since alpha (-0) is +0 for alpha < 0); ((), []) otherwise.  The plans'
    forms hold positive symbols of the same names (printed alike)."""
    used = set().union(*(e.free_symbols for _, fs in outputs for f in fs
                         for e in f.expressions))
    either = tuple(s for s in reals if s in used and not s.is_positive)
    if not either:
        return (), []
    pos = {s: sp.Symbol(s.name, positive=True) for s in either}

    def moved(f: StableForm) -> StableForm:
        return replace(f, small=f.small.xreplace(pos),
                       large=None if f.large is None else f.large.xreplace(pos),
                       limits=None if f.limits is None else tuple(
                           v if v is None else v.xreplace(pos) for v in f.limits),
                       points=tuple((a.xreplace(pos), b.xreplace(pos)) for a, b in f.points))

    plans = narrow_plans([(name, tuple(moved(f) for f in fs)) for name, fs in outputs], x,
                         ints, [pos.get(s, s) for s in reals], junctions, sides, summed,
                         scaled)
    base = than if than is not None else narrow_plans(outputs, x, ints, reals, junctions,
                                                      sides, summed, scaled)
    best = max((_quality(p.clamp) for p in plans), default=_quality(None))
    if best <= max((_quality(p.clamp) for p in base), default=_quality(None)):
        return (), []
    return either, plans


def _plan_from(outputs, x, ints, reals, junctions, sides, start: int, linear: bool,
               summed: frozenset = frozenset(), scaled: bool = False) -> NarrowPlan | None:
    """The plan of the integer parameter values from ``start`` on (``linear``: with
    linear tails where the bodies need them; ``scaled``: the outputs are derivatives, see
    ``_tail_rounds``)."""
    # one pass: past a body over the budget only where a lower clamp could apply
    left = _constant_left(outputs, junctions)
    more, new, strict = _collect(outputs, x, ints, reals, _power_right(outputs, junctions),
                                 start)
    if len(more) > strict and left:
        low = _low_plan(more, new, x, ints, reals, tuple(junctions), strict, linear, scaled)
        if low is not None:
            return low
    if more and strict == 0:
        # the values within the budget keep their plan (its clamp beyond every input may
        # sum the sides); those past it may still fit with x clamped at the ends and the
        # junction's comparison kept
        ends = _ends_plan(more, new, x, ints, reals, tuple(junctions), linear, scaled)
        if ends is not None:
            return ends
    return _done(more[:strict], new, x, ints, reals, junctions, sides, summed=summed,
                 scaled=scaled)


def _collect(outputs, x: sp.Symbol, ints, reals, tight: bool, start: int = 1):
    """(the integer parameter values, first ones first, for which every power form has a
    narrow body with limits at -oo and +oo; the outputs with those bodies; how many of the
    first values have every body within the budget for |x| up to 2^INPUT_EXPONENT).
    ``tight``: a body over that budget passes, for ``_low_plan`` to bound x lower;
    ``start``: the first integer parameter value tried."""
    candidates = list(range(start, MAX_INT + 1)) if ints else [None]
    passed: list[int | None] = []
    new: list[tuple[str, tuple[StableForm, ...]]] | None = None
    strict: int | None = None
    for n in candidates:
        subs = {ints[0]: n} if ints else {}
        symbolic = []
        for name, forms in outputs:
            row_sym = []
            for form in forms:
                if form.kind != "power":
                    row_sym.append(form)
                    continue
                small_n = _unguarded(form.small.xreplace(subs), x, reals=reals)
                small = _unguarded(form.small, x, check=False)
                if small_n is None or small is None:
                    return passed, new, len(passed) if strict is None else strict
                try:
                    _, worst = _bound(small_n, x, set(reals))
                except _Unsupported:
                    return passed, new, len(passed) if strict is None else strict
                if worst > BUDGET and strict is None:
                    strict = len(passed)
                    if not tight:
                        return passed, new, strict
                plain = _plain(small_n, x)
                limits = (_limit(plain, x, -sp.oo), _limit(plain, x, sp.oo))
                if None in limits:
                    return passed, new, len(passed) if strict is None else strict
                row_sym.append(replace(form, small=small, large=None, limits=limits))
            symbolic.append((name, tuple(row_sym)))
        if new is not None and [f.limits for _, fs in new for f in fs if f.kind == "power"] != \
                [f.limits for _, fs in symbolic for f in fs if f.kind == "power"]:
            break  # the limits depend on N: the first values only
        new = new if new is not None else symbolic
        passed.append(n)
    return passed, new, len(passed) if strict is None else strict


def _drop_points(form: StableForm, values, x, ints, reals) -> StableForm:
    """``form`` without the points where its narrow body already gives the value."""
    keep = tuple((p, v) for p, v in form.points
                 if not _exact_at(form, values, x, ints, reals, p, v))
    return replace(form, points=keep)


#: exponents k tried, largest first, for an upper clamp at 2^k below the largest finite
#: narrow input (``_low_plan``)
LOW_CLAMP_EXPONENTS = (120, 112, 96, 80, 64, 48, 32, 24, 16)


def _tail(body: sp.Expr, x: sp.Symbol, limit: sp.Expr, side: int = 1):
    """(t, numerator, denominator) of body(side/t) - limit as a quotient of polynomials in
    t = 1/|x| (``side`` +1: x > 0; -1: x < 0); None where that fails."""
    t = sp.Dummy("t", nonnegative=True)
    try:
        num, den = sp.fraction(sp.cancel(sp.together(
            _plain(body, x).subs(x, side / t) - limit)))
    except (sp.PolynomialError, TypeError, ValueError):
        return None
    return t, num, den


#: a derivative's tail that stands for a limit 0 beyond 2^k is at most 2^-SCALED_ZERO in
#: magnitude: times any gradient (below 2^128) and summed over up to 2^40 elements it stays
#: below half the smallest float32 subnormal, as the exact values beyond 2^k do
SCALED_ZERO = 320


def _tail_rounds(tail, limit: sp.Expr, k: int, env: dict, scaled: bool = False) -> bool:
    """For every |x| >= 2^k (on the tail's side) and every real parameter's narrow value,
    the exact body rounds to ``limit`` in every narrow dtype, and so does its float64
    evaluation at +-2^k (``_rounds_to``): limit + num(t)/den(t) enclosed by interval
    arithmetic over t = 1/|x| in [0, 2^-k], the denominator's enclosure excluding 0.
    ``scaled`` (a derivative, which a gradient multiplies before it is rounded): a limit 0
    needs the body below 2^-SCALED_ZERO in magnitude, of one sign, beyond 2^k."""
    if tail is None or not (limit == 0 or _narrow_number(limit)):
        return False
    t, num, den = tail
    span = {**env, t: mpmath.iv.mpf([0, mpmath.mpf(2) ** -k])}
    try:
        d = _interval(den, span)
        if d.a <= 0 <= d.b:
            return False
        v = _interval(num, span) / d
    except (_Unsupported, ZeroDivisionError):
        return False
    if scaled and limit == 0:
        tiny = mpmath.mpf(2) ** -SCALED_ZERO
        return -tiny <= v.a and v.b <= tiny and (v.a >= 0 or v.b <= 0)
    return _rounds_to(v + mpmath.iv.mpf(int(limit.p)) / int(limit.q), limit)


def _clamp_exponent(bodies, x, reals, env: dict, scaled: bool, tails: dict, sign: int = 1,
                    above: sp.Expr = sp.Integer(0)) -> int | None:
    """The largest k of ``LOW_CLAMP_EXPONENTS`` with 2^k >= |above| at which every body of
    ``bodies`` ((name, limit, body, along) each) stays below 2^BUDGET for |x| <= 2^k and
    rounds to its limit beyond sign 2^k (``_tail_rounds``; ``along``: body/x to 1, a
    linear tail); None where none does.  ``tails``: the tails found so far, kept by
    (body, limit, along, sign) across calls.  Raises ``_Unsupported`` as ``_bound``."""
    for _, limit, body, along in bodies:
        key = (body, limit, along, sign)
        if key not in tails:
            tails[key] = _tail(body / x if along else body, x, limit, sign)
    for k in LOW_CLAMP_EXPONENTS:
        if abs(above) > sp.Integer(2) ** k:
            continue
        fits = all(_bound(body, x, set(reals), k)[1] <= BUDGET for *_, body, _ in bodies)
        if fits and all(_tail_rounds(tails[(body, limit, along, sign)], limit, k, env, scaled)
                        for _, limit, body, along in bodies):
            return k
    return None


def _constant_left(outputs, junctions) -> bool:
    """Every output is a constant left of the family's one junction and a power form right
    of it (the groups ``_low_plan`` may clamp)."""
    return len(junctions) == 1 and all(
        len(fs) == 2 and fs[0].kind == "const" and fs[1].kind == "power" for _, fs in outputs)


def _power_right(outputs, junctions) -> bool:
    """Every output is a power form right of the family's one junction and a power form or
    a constant left of it (the groups ``_low_plan`` and ``_ends_plan`` may clamp)."""
    return len(junctions) == 1 and all(
        len(fs) == 2 and fs[0].kind in ("const", "power") and fs[1].kind == "power"
        for _, fs in outputs)


def _ends_plan(passed, new, x, ints, reals, junctions, linear: bool, scaled: bool = False
               ) -> NarrowPlan | None:
    """The plan of the longest prefix of ``passed`` whose bodies fit the budget only for x
    in [-2^k0, 2^k1] (k0, k1 < INPUT_EXPONENT, each the largest of ``LOW_CLAMP_EXPONENTS``
    that passes): every power form's body on each side rounds to its finite limit at that
    end beyond the bound (``_tail_rounds``), so that x clamped into [-2^k0, 2^k1] gives
    every finite narrow input's bits and the limits at +-inf; the family's junction keeps
    its comparison, and a side where every output is a constant gets no bound (E-GEM's
    (f', d/deps) from N = 2 on, whose d/deps is -0 at x = +0: no junction clamp).
    ``linear``: a right-hand limit +oo may be a linear tail, as in
    ``_low_plan``; ``scaled``: see ``_tail_rounds``.  SE-GEM's f with N = 4 .. 8 (x^9 ~
    2^1152 at the largest float32) takes its narrow body with x clamped into
    [-2^48, 2^48] and the line beyond 2^48."""
    env = _params_env(reals)
    if (env is None or not _power_right(new, junctions)
            or any(f.limits is None for _, fs in new for f in fs if f.kind == "power")):
        return None
    tails: dict = {}
    for m in range(len(passed), 0, -1):
        values = tuple(n for n in passed[:m] if n is not None)
        sides: tuple[list, list] = ([], [])
        for name, fs in new:
            for side, form in enumerate(fs):
                if form.kind != "power":
                    continue
                limit = form.limits[side]
                along = linear and side == 1 and limit == sp.oo
                for body in _bodies(form, values, x, ints, reals):
                    if body is None:
                        return None
                    sides[side].append((name, sp.Integer(1) if along else limit, body, along))
        bounds: list = []
        for side, bodies in enumerate(sides):
            sign = 1 if side else -1
            if not bodies:
                bounds.append(None)  # constants left of the junction: no bound there
                continue
            try:
                k = _clamp_exponent(bodies, x, reals, env, scaled, tails, sign)
            except _Unsupported:
                return None
            if k is None:
                break
            bounds.append(sign * sp.Integer(2) ** k)
        else:
            tail = frozenset(name for name, *_, along in sides[1] if along)
            return _done(passed[:m], new, x, ints, reals, junctions, False,
                         Clamp(bounds[0], bounds[1], False, tail=tail))
    return None


def _low_plan(passed, new, x, ints, reals, junctions, strict: int, linear: bool = False,
              scaled: bool = False) -> NarrowPlan | None:
    """The plan of the longest prefix of ``passed`` (longer than the ``strict`` values'
    prefix) whose bodies fit the budget only for x below 2^k < 2^INPUT_EXPONENT: every output
    a constant on x < j (the family's one junction) that its body gives exactly at j, and a
    finite limit at +oo that the body rounds to beyond 2^k (``_tail_rounds``), so that x
    clamped into [j, 2^k] gives every finite narrow input's bits (its value rounds to the
    limit beyond 2^k, and so does the body at 2^k) and the limits at +-inf.  A float32 GEM
    f' with N = 2 (x^4 (x^4 + 5)/(x^4 + 1)^2, (x^4 + 1)^2 ~ 2^1024 at the largest float32)
    takes its narrow body with x clamped into [0, 2^120].  ``linear``: an output whose limit
    at +oo is +oo may instead be within 2^-40 relative of x beyond 2^k (body(x)/x rounds
    to 1 there), and takes a linear tail (``Clamp.tail``); ``scaled``: see
    ``_tail_rounds``."""
    env = _params_env(reals)
    if (env is None or not _constant_left(new, junctions)
            or any(fs[1].limits is None for _, fs in new)):
        return None
    tails: dict = {}
    # prefixes of ``passed`` itself: a family without an integer parameter has [None]
    for m in range(len(passed), strict, -1):
        values = tuple(n for n in passed[:m] if n is not None)
        if not all(_exact_at(fs[1], values, x, ints, reals, junctions[0], fs[0].small)
                   for _, fs in new):
            return None
        bodies = []
        for name, fs in new:
            limit = fs[1].limits[1]
            along = linear and limit == sp.oo  # body(x)/x -> 1, rounded beyond 2^k
            for body in _bodies(fs[1], values, x, ints, reals):
                if body is None:
                    return None
                bodies.append((name, sp.Integer(1) if along else limit, body, along))
        try:
            # x in [j, 2^k]: |x| <= 2^k
            k = _clamp_exponent(bodies, x, reals, env, scaled, tails, above=junctions[0])
        except _Unsupported:
            return None
        if k is not None:
            tail = frozenset(name for name, *_, along in bodies if along)
            return _done(passed[:m], new, x, ints, reals, junctions, False,
                         Clamp(junctions[0], sp.Integer(2) ** k, True, tail=tail))
    return None


def _done(passed, new, x, ints, reals, junctions, sides, clamp: Clamp | None = None,
          summed: frozenset = frozenset(), scaled: bool = False) -> NarrowPlan | None:
    """The plan of ``passed`` and ``new`` (``_collect``), with ``clamp`` or the one
    ``_clamp`` finds."""
    if not passed or new is None:
        return None
    values = tuple(n for n in passed if n is not None)
    new = [(name, tuple(_drop_points(f, values, x, ints, reals)
                        if f.kind == "power" and f.large is None else f for f in forms))
           for name, forms in new]
    if clamp is None:
        clamp = _clamp(new, values, x, ints, reals, tuple(junctions), sides, summed, scaled)
        if len(passed) > 1 and _quality(clamp) < _best_quality(sides):
            # a longer list of values may cost the first ones their best clamp (SE-GEM f:
            # N = 3's body is not a sum of sides, N = 1, 2's are): the shortest prefix
            # with a better clamp than the whole list's keeps it, the first values being
            # the common ones
            shorter = _done(passed[:-1], new, x, ints, reals, junctions, sides, summed=summed,
                            scaled=scaled)
            if shorter is not None and _quality(shorter.clamp) > _quality(clamp):
                return shorter
    bare = [f for _, forms in new for f in forms if f.kind == "power" and f.large is None]
    subs = _shared_powers([f.small for f in bare], values)
    return NarrowPlan(values, [(name, tuple(replace(f, small=f.small.xreplace(subs))
                                            if f in bare else f for f in forms))
                               for name, forms in new], clamp)


def _shared_powers(exprs, values: tuple[int, ...]) -> dict:
    """{x^(k+1): x * x^k} where both powers occur in ``exprs`` (one output group) and k is
    even for every integer parameter value in ``values``: one multiplication fewer.  Where
    k is a power of two these are the bits of x^(k+1) by the plain path's binary powering
    (which is x * x^k then); otherwise x * x^k rounds the same number of times in another
    order (GEM f with N = 3: x * (x^2 x^4) against (x x^2) x^4), a few float64 roundings
    as the narrow bodies allow (see the module docstring)."""
    powers = {}
    for e in exprs:
        for p in e.atoms(IPow):
            if isinstance(p.args[0], sp.Symbol):
                powers[(p.args[0], sp.expand(p.args[1]))] = p
    subs = {}
    for (base, k), p in powers.items():
        below = powers.get((base, sp.expand(k - 1)))
        if below is None:
            continue
        ints = [s for s in k.free_symbols if s.is_integer]
        ks = [int(sp.expand(k - 1).subs({s: n for s in ints})) for n in (values or (0,))]
        if all(v >= 2 and v % 2 == 0 for v in ks):
            subs[p] = base * below
    return subs
