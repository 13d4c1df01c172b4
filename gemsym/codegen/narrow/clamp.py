"""The clamp of x that replaces a narrow body's comparisons: with the junction, at +-2^k
beyond the largest input, or as sums of the two sides of the junction 0."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..stable import StableForm
from .forms import (BUDGET, INPUT_EXPONENT, SMALLEST_EXPONENT, _bodies, _bound, _ieee,
                    _interval, _params_env, _plain, _positive_zero, _rounds_to, _Unsupported)

@dataclass(frozen=True)
class Clamp:
    """The narrow bodies of one output group evaluated at x clamped into [lo, hi] (None: no
    bound on that side), which replaces selections by one clamp (eager ``torch.where`` and
    ``masked_fill`` cost about ten multiplications each on 2^16 float64 elements):

    - ``hi`` (and ``lo`` when ``junction`` is false): a power of two beyond every finite
      narrow input (2^INPUT_EXPONENT), where an output's body rounds to its limit at +oo
      (-oo) in every narrow dtype (+-inf where the limit is infinite), so that +-inf inputs
      need no comparison for it; or +-2^k below the largest input, where the body beyond
      it rounds to its finite limit (``plans._low_plan``, ``plans._ends_plan``: a power
      overflows float64 at the largest input) or is within 2^-40 of x (``tail``);
    - ``junction``: ``lo`` is the family's one junction j, where every output is a constant
      c on x < j; where its right-hand body gives exactly c at j (+0 for 0), the comparison
      with j and the left piece are dropped.

    The outputs named in ``keep_lo`` / ``keep_hi`` fail those checks (another output of the
    group passed them): they keep their comparisons (x < j, or with -oo / +oo), made on the
    input before the clamp.  Finite inputs in [lo, hi] keep their bits; NaN stays NaN (a
    clamp propagates it)."""

    lo: sp.Expr | None
    hi: sp.Expr | None
    junction: bool = False
    keep_lo: frozenset = frozenset()
    keep_hi: frozenset = frozenset()
    #: each output is L(x_l) + R(x_r) instead of where(x < 0, L(x), R(x)) (see ``_sides``):
    #: x_l = min(x, -0) clamped at lo, x_r = max(x, +0) clamped at hi; an output in
    #: ``plus_zero`` is R(x_r) + 0.0 (its left piece is 0), one in ``keep_lo`` /
    #: ``keep_hi`` takes its limit at -oo / +oo by a comparison made only where the input
    #: holds an infinity (the printers that may branch on data: the eager PyTorch path)
    sides: bool = False
    #: outputs B ~ x at +oo taken at x clamped to ``hi`` = 2^k below the largest finite
    #: input, plus the rest of the line beyond it: B(min(x, hi)) - min(hi - x, 0), where B
    #: and its float64 value are within 2^-40 relative of x for every x >= hi, so that both
    #: round to x in every narrow dtype (``plans._low_plan``); +0 is subtracted for x <= hi (a
    #: -0 value stays -0), +oo added at x = +oo
    tail: frozenset = frozenset()
    #: ``hi`` is the family's second junction (``junction`` set, three pieces): every
    #: output is a constant on x >= hi too, which its middle body gives exactly at hi, so
    #: that x clamped into [lo, hi] needs no comparison on either side (ReLU6, hard
    #: sigmoid); the outputs in ``keep_hi`` keep their x < hi comparison
    hi_junction: bool = False
    #: outputs whose values are only ever summed (a parameter's derivative, summed over
    #: the input: the sign of a zero of theirs is never seen) whose body gives a zero of
    #: either sign at the junction 0, where their left piece is 0, and is nonzero on
    #: (0, hi] (``_zero_at_junction``): printed as ``body + 0.0``, which makes a -0 +0 and
    #: keeps every other value (NaN and +-inf included), so that they too take the
    #: junction clamp instead of a comparison and a selection (E-GEM's d/deps,
    #: -x^3/(x^2 + eps)^2, is -0 at x = +0: +0 there, the one bit that differs from the
    #: general body)
    plus_zero: frozenset = frozenset()


#: exponents k tried for the clamp bound 2^k at +-oo (the smallest that passes is taken;
#: 2^264 for a body theta x with theta down to 2^-128, which must reach 2^129 there)
CLAMP_EXPONENTS = (136, 160, 200, 256, 264)


def _end_bound(outputs, values, x, ints, reals, side: int, scaled: bool = False
               ) -> tuple[sp.Expr | None, frozenset]:
    """(2^k (side +1) or -2^k (side -1), the names of the outputs that keep their
    comparison with +-oo): the smallest k of ``CLAMP_EXPONENTS`` at which the most outputs'
    outermost bodies on that side stay below 2^BUDGET and round to their limits there (a
    constant piece needs no comparison; with ``scaled``, an infinite limit keeps its
    comparison); (None, {}) if no body does."""
    env = _params_env(reals)
    if env is None:
        return None, frozenset()
    forms = {name: fs[-1] if side > 0 else fs[0] for name, fs in outputs}
    if any(f.kind not in ("const", "power") and not (f.kind == "sigmoid" and f.limits)
           for f in forms.values()):
        # a body with no comparison of its own at +-oo would be evaluated at +-2^k instead
        return None, frozenset()
    # a derivative (``scaled``) is multiplied by a gradient before it is rounded: a
    # finite value at 2^k would stand for its infinite limit only where the gradient is
    # large (ReLU^2's 2x at +inf times 1e-30 was 1.7e11, not inf)
    candidates = {name: f for name, f in forms.items() if f.kind == "power"
                  and f.large is None and f.limits is not None
                  and not (scaled and f.limits[1 if side > 0 else 0].has(sp.oo, -sp.oo, sp.zoo))}
    best: tuple[sp.Expr | None, frozenset] = (None, frozenset())
    most = 0
    for k in CLAMP_EXPONENTS:
        at = mpmath.iv.mpf(2) ** k * side
        passed = set()
        for name, f in candidates.items():
            limit = f.limits[1 if side > 0 else 0]
            try:
                ok = all(small is not None and _bound(small, x, set(reals), k)[1] <= BUDGET
                         and _rounds_to(_interval(_plain(small, x), {**env, x: at}), limit)
                         for small in _bodies(f, values, x, ints, reals))
            except _Unsupported:
                ok = False
            if ok:
                passed.add(name)
        if len(passed) > most:
            most = len(passed)
            best = (side * sp.Integer(2) ** k, frozenset(n for n in candidates if n not in passed))
    return best


def _exact_at(form: StableForm, values, x, ints, reals, at: sp.Expr, c: sp.Expr) -> bool:
    """The narrow body of ``form`` gives exactly c at x = at for every integer parameter
    value, +0 where c = 0 (its points' comparisons are made on the input before a clamp:
    they do not apply to an input moved to ``at``)."""
    if form.kind == "const":
        return sp.simplify(form.small - c) == 0 and (c != 0 or form.small.is_zero)
    if form.kind != "power" or form.large is not None:
        return False
    for small in _bodies(form, values, x, ints, reals):
        if small is None:
            return False
        plain = _plain(small, x)
        v = plain.subs(x, at)
        if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or sp.simplify(v - c) != 0:
            return False
        if c == 0 and not _positive_zero(plain, x, at, reals):
            return False
    return True


def _zero_at_junction(form: StableForm, values, x, ints, reals, hi: sp.Expr | None) -> bool:
    """The narrow body of ``form`` is exactly 0 (of either sign) at x = 0 and at least
    2^-NONZERO_EXPONENT in magnitude on [2^-SMALLEST_EXPONENT, hi] (``_nonzero``; hi None:
    2^INPUT_EXPONENT), for every integer parameter value and every real parameter's narrow
    value: ``body + 0.0`` is then +0 at every x clamped to the junction 0 and the body's
    own bits on every other narrow input (see ``Clamp.plus_zero``)."""
    if form.kind != "power" or form.large is not None:
        return False
    for small in _bodies(form, values, x, ints, reals):
        if small is None:
            return False
        v = _plain(small, x).subs(x, 0)
        if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or sp.simplify(v) != 0:
            return False
    top = hi if hi is not None else sp.Integer(2) ** INPUT_EXPONENT
    return _nonzero(form, values, x, ints, reals, sp.Integer(2) ** -SMALLEST_EXPONENT, top)


def _zero_left(name: str, forms, summed: frozenset, values, x, ints, reals, hi) -> bool:
    """``name`` is a summed output whose left piece is the constant 0 and whose right
    body passes ``_zero_at_junction``: it may be its body plus +0.0 (``Clamp.plus_zero``)."""
    return (name in summed and len(forms) == 2 and forms[0].kind == "const"
            and sp.simplify(forms[0].small) == 0
            and _zero_at_junction(forms[1], values, x, ints, reals, hi))


#: a float64 value computed within a few roundings of an exact value of magnitude at least
#: 2^-NONZERO_EXPONENT is not zero (the narrow bodies' accuracy, see the module docstring)
NONZERO_EXPONENT = 900


def _nonzero(form: StableForm, values, x, ints, reals, lo: sp.Expr, hi: sp.Expr) -> bool:
    """The narrow body of ``form`` is at least 2^-NONZERO_EXPONENT in magnitude for every x
    between lo and hi (of one sign, excluding 0) and every real parameter's narrow value
    (interval arithmetic over spans of 2^8 in |x|, each halved where its enclosure is not
    bounded away from 0, see ``_away_from_zero``), for every integer parameter value: its
    float64 value is never a zero there."""
    env = _params_env(reals)
    if env is None:
        return False
    sign = 1 if hi > 0 else -1
    a, b = (int(math.log2(abs(float(v)))) for v in ((lo, hi) if sign > 0 else (hi, lo)))
    small = mpmath.mpf(2) ** -NONZERO_EXPONENT
    for body in _bodies(form, values, x, ints, reals):
        if body is None:
            return False
        plain = _plain(body, x)
        for e in range(a, b, 8):
            span = sorted((sign * mpmath.mpf(2) ** e, sign * mpmath.mpf(2) ** min(e + 8, b)))
            if not _away_from_zero(plain, x, env, span, small):
                return False
    return True


#: halvings ``_away_from_zero`` may make for one span
HALVINGS = 64


def _away_from_zero(plain: sp.Expr, x: sp.Symbol, env: dict, span, small) -> bool:
    """The interval enclosure of ``plain`` is at least ``small`` in magnitude, of one sign,
    over every part of ``span`` (x's interval): the span halved where the enclosure of a
    part is not (interval arithmetic counts x twice in x^2 + x + 1, which is 3/4 at least
    but encloses [-254, 65538] on [-256, -1]; its halves do better), at most ``HALVINGS``
    times; each part's enclosure is rigorous, so the claim holds where every part passes."""
    parts, left = [tuple(span)], HALVINGS
    while parts:
        lo, hi = parts.pop()
        try:
            v = _interval(plain, {**env, x: mpmath.iv.mpf([lo, hi])})
            if v.a >= small or v.b <= -small:
                continue
        except (_Unsupported, ZeroDivisionError):
            pass
        left -= 1
        if left < 0:
            return False
        mid = (lo + hi) / 2
        parts += [(lo, mid), (mid, hi)]
    return True


def _sides(left: StableForm, right: StableForm, values, x, ints, reals, lo, hi) -> bool:
    """An output L on x < 0, R on x > 0 is L(x_l) + R(x_r) bit for bit, where x_l = -0 for
    x > 0 (else max(x, lo)) and x_r = +0 for x < 0 (else min(x, hi)), x_l = x_r = -0 at
    x = -0, and x_r = +0, x_l = +0 or -0 at x = +0 (so a sum replaces a comparison and a
    selection, five times a multiplication on the eager PyTorch path; see
    ``TorchPrinter.side_clamp``), for every integer parameter value:

    - L(-0) and R(+0) are zeros, and at x = +0 (x_l either zero) and at x = -0 the sum is
      R's value there, bitwise (the sign of a zero included);
    - for x > 0 the sum is R(x) + L(-0): exact where L(-0) = -0, else R is never a zero
      there (``_nonzero``: R(x) = -0 would become +0);
    - for x < 0 the sum is L(x) + R(+0): likewise."""
    import numpy as np

    if not all(f.kind == "power" and f.large is None and not f.points for f in (left, right)):
        return False
    nonzero_needed = {"l": False, "r": False}
    for lb, rb in zip(_bodies(left, values, x, ints, reals), _bodies(right, values, x, ints, reals)):
        if lb is None or rb is None:
            return False
        lp, rp = _plain(lb, x), _plain(rb, x)
        # keyed by the sign's name: 0.0 and -0.0 are equal keys
        at = {side + z: _ieee(f, x, float(z + "0"), reals) for side, f in (("l", lp), ("r", rp))
              for z in ("+", "-")}
        if any(v is None for v in at.values()) or at["l-"] != 0 or at["r+"] != 0:
            return False
        for left_at, right_at in (("l+", "r+"), ("l-", "r+"), ("l-", "r-")):
            total, want = at[left_at] + at[right_at], at[right_at]
            if total != want or np.signbit(total) != np.signbit(want):
                return False
        # a +0 on one side's half line turns a -0 of the other side's into +0
        nonzero_needed["r"] |= not np.signbit(at["l-"])
        nonzero_needed["l"] |= not np.signbit(at["r+"])
    # _nonzero checks every integer parameter value at once
    tiny = sp.Integer(2) ** -SMALLEST_EXPONENT
    return ((not nonzero_needed["r"] or _nonzero(right, values, x, ints, reals, tiny, hi))
            and (not nonzero_needed["l"] or _nonzero(left, values, x, ints, reals, lo, -tiny)))


def _clamp(outputs, values, x, ints, reals, junctions, sides: bool = False,
           summed: frozenset = frozenset(), scaled: bool = False) -> Clamp | None:
    """The :class:`Clamp` of the narrow outputs; None where neither end nor the junction
    qualifies for any output.  ``sides``: an output group with one junction at 0, both
    ends clamped for every output, may be evaluated as sums of its two sides (``_sides``;
    every output must pass).  ``summed``: the outputs that may take ``Clamp.plus_zero``;
    ``scaled``: see ``_end_bound``."""
    between = _between_constants(outputs, values, x, ints, reals, junctions)
    if between is not None:
        return between
    hi, keep_hi = _end_bound(outputs, values, x, ints, reals, +1, scaled)
    passed: set = set()
    plus_zero: set = set()
    if len(junctions) == 1 and all(len(fs) == 2 and fs[0].kind == "const" for _, fs in outputs):
        passed = {name for name, fs in outputs
                  if _exact_at(fs[1], values, x, ints, reals, junctions[0], fs[0].small)}
        if junctions[0] == 0:
            plus_zero = {name for name, fs in outputs if name not in passed
                         and _zero_left(name, fs, summed, values, x, ints, reals, hi)}
    if passed or plus_zero:
        lo, junction = junctions[0], True
        keep_lo = frozenset(name for name, _ in outputs
                            if name not in passed and name not in plus_zero)
    else:
        (lo, keep_lo), junction = _end_bound(outputs, values, x, ints, reals, -1, scaled), False
    if lo is None and hi is None:
        return None
    if (sides and not junction and lo is not None and hi is not None
            and len(junctions) == 1 and junctions[0] == 0):
        # a summed output that is 0 left of 0 is its right side plus +0.0 (as plus_zero)
        zero_left = frozenset(name for name, fs in outputs
                              if _zero_left(name, fs, summed, values, x, ints, reals, hi))
        if all(len(fs) == 2 and (name in zero_left
                                 or _sides(fs[0], fs[1], values, x, ints, reals, lo, hi))
               for name, fs in outputs):
            return Clamp(lo, hi, False, keep_lo, keep_hi, sides=True, plus_zero=zero_left)
    return Clamp(lo, hi, junction, keep_lo, keep_hi, plus_zero=frozenset(plus_zero))


def _between_constants(outputs, values, x, ints, reals, junctions) -> Clamp | None:
    """The clamp of x into [j0, j1] for an output group whose every output is a constant
    left of j0 and right of j1 with a body between (ReLU6: 0, x, 6), where that body gives
    the left constant exactly at j0 (+0 for 0) and the right one at j1: one clamp for its
    comparisons with j0 and j1 and its NaN selection (a clamp keeps NaN).  An output whose
    body misses a constant keeps that comparison (``keep_lo``, ``keep_hi``, made on the
    input before the clamp).  None where the group has another shape, a junction is not a
    number, or no output meets either constant."""
    if len(junctions) != 2 or not all(j.is_number for j in junctions):
        return None  # (a junction at a parameter, SmeLU's +-beta: not a printed bound)
    if not all(len(fs) == 3 and fs[0].kind == "const" and fs[2].kind == "const"
               for _, fs in outputs):
        return None
    low = {name for name, fs in outputs
           if _exact_at(fs[1], values, x, ints, reals, junctions[0], fs[0].small)}
    high = {name for name, fs in outputs
            if _exact_at(fs[1], values, x, ints, reals, junctions[1], fs[2].small)}
    if not low and not high:
        return None
    names = frozenset(name for name, _ in outputs)
    return Clamp(junctions[0], junctions[1], True, names - low, names - high,
                 hi_junction=True)


def _quality(clamp: Clamp | None) -> tuple:
    """How much a clamp saves, comparable: sums of sides, then fewer kept comparisons,
    then more clamped ends (``_best_quality`` at most)."""
    if clamp is None:
        return (False, -math.inf, 0)
    return (clamp.sides, -len(clamp.keep_lo) - len(clamp.keep_hi),
            (clamp.lo is not None) + (clamp.hi is not None))


def _best_quality(sides: bool) -> tuple:
    """``_quality`` of the best clamp: sums of sides where they are wanted, no kept
    comparison, both ends clamped."""
    return (sides, 0, 2)
