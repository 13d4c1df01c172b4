"""Certified isolation of the real zeros of a concrete expression g(p) on (0, W) or (0, oo).

Interval arithmetic (``mpmath.iv``) proves where g has no zero: on a box [a, b] whose
enclosure of g excludes 0 there is none.  A box where the enclosure of g' excludes 0 and g
changes sign between its ends (both signs certified by point enclosures) holds exactly one
zero, which ``findroot`` then locates to :data:`DPS` digits inside that box.  Everything
else is bisected, within a budget; what stays unresolved (a double zero, infinitely many
zeros of an oscillating function, an expression interval arithmetic cannot bound) raises
:class:`~gemsym.shape.signs.Undecided` -- no zero is ever guessed.

On (0, oo) the octaves [2^k, 2^(k+1)] beyond 2^COMPACT are checked one by one, until a
proof covers the whole rest [2^k, oo): an enclosure of g (or of T and g/T for a term T of g
that dominates -- p e^p - 2 e^p, whose terms cancel in interval arithmetic) on [2^k, oo]
that excludes 0, or the dominant-monomial bound of :mod:`gemsym.shape.tail` (g written in
p and e^{-p/q}).  Octaves before that are bisected like (0, 2^COMPACT), within a budget;
when no proof is reached by 2^TAIL_EXP the zeros cannot be certified (a sign change far
out, as at p = 2^70, is never ruled out by sampling).  Expressions with sin/cos that
oscillate at infinity are refused.
"""

from __future__ import annotations

from typing import Callable

import mpmath
from mpmath.libmp import from_int, mpf_gt, mpf_lt
import sympy as sp
from sympy.codegen.cfunctions import log1p

from .signs import DPS, Undecided, end_limit
from .tail import dominant_tail

__all__ = ["certified_zeros"]

#: (0, 2^COMPACT) is bisected; the octaves [2^k, 2^(k+1)] up to 2^TAIL_EXP, then
#: [2^TAIL_EXP, oo), are checked as whole boxes until a proof covers the rest.
COMPACT = 5
TAIL_EXP = 60
#: boxes spent bisecting tail octaves in all (each octave gets at most TAIL_OCTAVE_BOXES)
TAIL_BOXES = 256
TAIL_OCTAVE_BOXES = 64
#: boxes examined per call before giving up (a count, not a time: the answer must not
#: depend on the machine's load).
BUDGET = 3000
#: bits of the interval arithmetic that isolates (zeros are then refined at DPS + 10 digits)
ISOLATION_BITS = 96
_WORK_DPS = DPS + 10


def _monotone(fn: Callable) -> Callable:
    """An interval extension of an increasing function from its point values, widened by
    a few units in the last place (the point values are correctly rounded to nearest)."""
    iv = mpmath.iv

    def ext(z):
        z = iv.mpf(z)
        with mpmath.workprec(iv.prec + 10):
            lo, hi = fn(mpmath.mpf(z.a)), fn(mpmath.mpf(z.b))
        # relative rounding error only: a tiny value keeps its sign
        pad = mpmath.mpf(2) ** (-iv.prec + 4)
        return iv.mpf([lo - abs(lo) * pad, hi + abs(hi) * pad])

    return ext


def _erfcx(t):
    return mpmath.mpf(0) if t == mpmath.inf else mpmath.exp(t * t) * mpmath.erfc(t)


def _decreasing(fn: Callable) -> Callable:
    ext = _monotone(lambda t: -fn(t))
    return lambda z: -ext(z)


#: |arguments| of exp beyond 2^EXP_CAP_BITS are clamped there (exp(2^1024) costs ln 2 to
#: ~1100 bits, nothing): exp(e^(2^60)) (TanhExp far
#: out) would need ln 2 to ~10^18 bits.  The clamped enclosure [e^cap, oo) (or (0, e^-cap])
#: still contains the true value and keeps its sign.
EXP_CAP_BITS = 1024

_CAP, _NEG_CAP = from_int(2 ** EXP_CAP_BITS), from_int(-(2 ** EXP_CAP_BITS))


def _exp(z):
    """exp on an interval, the ends clamped at +-2^EXP_CAP_BITS (a valid, wider enclosure)."""
    iv = mpmath.iv
    z = z if isinstance(z, iv.mpf) else iv.mpf(z)
    a, b = z._mpi_
    # the common case on raw ends: iv comparisons cost as much as exp itself
    if not (mpf_lt(a, _NEG_CAP) or mpf_gt(b, _CAP)):
        return iv.exp(z)
    cap = mpmath.mpf(2) ** EXP_CAP_BITS
    lo = mpmath.mpf(0) if z.a < -cap else iv.exp(iv.mpf(min(z.a, cap))).a
    hi = mpmath.inf if z.b > cap else iv.exp(iv.mpf(max(z.b, -cap))).b
    return iv.mpf([lo, hi])


def _sinh(z):
    """sinh on an interval (increasing), the ends clamped like :func:`_exp`'s."""
    iv = mpmath.iv
    z = iv.mpf(z)
    cap = mpmath.mpf(2) ** EXP_CAP_BITS
    if mpmath.isnan(z.a) or mpmath.isnan(z.b):
        return z
    inner = _monotone(mpmath.sinh)(iv.mpf([min(max(z.a, -cap), cap), max(min(z.b, cap), -cap)]))
    return iv.mpf([-mpmath.inf if z.a < -cap else inner.a, mpmath.inf if z.b > cap else inner.b])


def _tanh(t):
    """tanh at a point; beyond 2^64 it is +-1 to far more than the working precision
    (mpmath's own tanh runs out of memory at arguments near 2^(2^1024))."""
    if abs(t) > mpmath.mpf(2) ** 64:
        return mpmath.mpf(1) if t > 0 else mpmath.mpf(-1)
    return mpmath.tanh(t)


def _namespace() -> dict:
    iv = mpmath.iv
    return {
        "mpf": iv.mpf, "pi": iv.pi, "e": iv.e, "E": iv.e,
        "exp": _exp, "log": iv.log, "sqrt": iv.sqrt, "sin": iv.sin, "cos": iv.cos,
        "erf": _monotone(mpmath.erf), "erfc": _decreasing(mpmath.erfc),
        "erfcx": _decreasing(_erfcx), "expm1": iv.expm1, "log1p": iv.log1p,
        "tanh": _monotone(_tanh), "sinh": _sinh,
        "cosh": lambda z: (_exp(z) + _exp(-z)) / 2,
        "sech": lambda z: 2 / (_exp(z) + _exp(-z)),
        "tanhc": _tanhc, "atan": _monotone(mpmath.atan), "asinh": _monotone(mpmath.asinh),
    }


_SUPPORTED = (sp.exp, sp.log, sp.sin, sp.cos, sp.erf, sp.erfc, sp.tanh, sp.sinh, sp.cosh,
              sp.sech, sp.atan, sp.asinh)


class erfcx(sp.Function):  # noqa: N801 - the name of the scaled function in print
    """exp(z^2) erfc(z), decreasing on the real line: bounded where e^{z^2} and erfc(z)
    separately over- and underflow, which keeps Gaussian tails' enclosures tight."""


def _gaussian_tails(expr: sp.Expr) -> sp.Expr:
    """erf(B) = 1 - erfc(B) where B > 0, and exp(S) erfc(B) = exp(S - B^2) erfcx(B) in
    every product: identities that remove the cancellation 1 - erf(B) at large B."""
    if not expr.has(sp.erf, sp.erfc):
        return expr
    expr = expr.replace(lambda e: isinstance(e, sp.erf) and e.args[0].is_positive,
                        lambda e: 1 - sp.erfc(e.args[0]))
    out = []
    for term in sp.Add.make_args(sp.expand(expr)):
        factors = list(sp.Mul.make_args(term))
        cfs = [f for f in factors if isinstance(f, sp.erfc)]
        if len(cfs) == 1:
            b = cfs[0].args[0]
            s = sum((f.args[0] for f in factors if isinstance(f, sp.exp)), sp.S.Zero)
            rest = [f for f in factors if not isinstance(f, (sp.exp, sp.erfc))]
            term = sp.Mul(*rest) * sp.exp(sp.expand(s - b ** 2)) * erfcx(b)
        out.append(term)
    return sp.Add(*out)


class tanhc(sp.Function):  # noqa: N801 - the name of the function in print
    """tanh(q)/q (1 at q = 0): even, decreasing in |q|, between 0 and 1."""


def _tanhc(z):
    iv = mpmath.iv
    z = iv.mpf(z)
    a, b = abs(mpmath.mpf(z.a)), abs(mpmath.mpf(z.b))
    near = mpmath.mpf(0) if z.a <= 0 <= z.b else min(a, b)
    far = max(a, b)

    def point(q):
        if q == 0:
            return mpmath.mpf(1)
        if q == mpmath.inf:
            return mpmath.mpf(0)
        return mpmath.tanh(q) / q

    with mpmath.workprec(iv.prec + 10):
        lo, hi = point(far), point(near)
    pad = mpmath.mpf(2) ** (-iv.prec + 4)
    return iv.mpf([lo - abs(lo) * pad, hi + abs(hi) * pad])


def _tanh_products(expr: sp.Expr) -> sp.Expr:
    """Identities that keep a tiny tanh and its huge factor together: tanh(log u) =
    1 - 2/(u^2 + 1) (Mish: u = 1 + e^x), over one denominator so that what saturates cancels, and c tanh(q) = (c q) tanhc(q) where c q
    simplifies (TanhExp: e^p tanh(e^{-p}) = tanhc(e^{-p}))."""
    logs = [e for e in expr.atoms(sp.tanh) if isinstance(e.args[0], sp.log)]
    if logs:
        expr = expr.xreplace({e: 1 - 2 / (e.args[0].args[0] ** 2 + 1) for e in logs})
        expr = sp.cancel(sp.together(expr))  # the saturating parts cancel exactly
    out = []
    for term in sp.Add.make_args(sp.expand(expr)):
        for th in term.atoms(sp.tanh):
            rest = term / th
            if rest.has(th):
                continue
            merged = sp.powsimp(rest * th.args[0])
            if sp.count_ops(merged) < sp.count_ops(rest):
                term = merged * tanhc(th.args[0])
                break
        out.append(term)
    return sp.Add(*out)


def _saturations(expr: sp.Expr) -> sp.Expr:
    """tanh(u) = 1 - 2/(e^{2u} + 1) (or -1 + 2/(e^{-2u} + 1)) wherever, once expanded, the
    1 cancels against another term (p^3 tanh(u) - p^3): no cancellation where tanh
    saturates."""
    for th in sorted(expr.atoms(sp.tanh), key=sp.default_sort_key):
        u, d = th.args[0], sp.Dummy("s")
        terms = sp.Add.make_args(sp.expand(expr.xreplace({th: d})))
        expected = len(terms) + sum(1 for t in terms if t.has(d))  # with no cancellation
        for form, back in ((1 - d, 2 / (sp.exp(2 * u) + 1)), (d - 1, 2 / (sp.exp(-2 * u) + 1))):
            trial = sp.expand(expr.xreplace({th: form}))
            if len(sp.Add.make_args(trial)) < expected:
                expr = trial.xreplace({d: back})
                break
    return expr


def _rewrite(expr: sp.Expr) -> sp.Expr:
    """``expr`` by identities that keep interval enclosures tight (see the helpers)."""
    expr = _saturations(_tanh_products(_gaussian_tails(expr)))
    # log(1 + u) = log1p(u): no cancellation where u is tiny (softplus of -p)
    return expr.replace(lambda e: isinstance(e, sp.log) and e.args[0].is_Add
                        and sp.S.One in e.args[0].args,
                        lambda e: log1p(e.args[0] - 1))


def _interval_function(expr: sp.Expr, p: sp.Symbol) -> Callable:
    expr = _rewrite(expr)
    for f in expr.atoms(sp.Function):
        if isinstance(f, (erfcx, log1p, tanhc)):
            continue
        if not isinstance(f, _SUPPORTED):
            raise Undecided(f"interval arithmetic cannot bound {type(f).__name__}; the zeros "
                            f"of {expr} cannot be certified")
    # cse: the common denominators of the rewritten forms are evaluated once per box
    return sp.lambdify(p, expr, modules=[_namespace(), "mpmath"], cse=True)


def _contains_zero(v) -> bool:
    a, b = v.a, v.b
    if mpmath.isnan(a) or mpmath.isnan(b):
        return True
    return a <= 0 <= b


def _sign(v) -> int:
    """+1 / -1 when the enclosure is certainly of one sign, else 0."""
    if mpmath.isnan(v.a) or mpmath.isnan(v.b):
        return 0
    return 1 if v.a > 0 else (-1 if v.b < 0 else 0)


class _Isolator:
    def __init__(self, expr: sp.Expr, p: sp.Symbol):
        self.expr, self.p = expr, p
        self.form = _rewrite(expr)
        self.g = _interval_function(self.form, p)
        self.dg = _interval_function(sp.diff(expr, p), p)
        self.budget = BUDGET
        self._ratios: list | None = None

    def box(self, f, a, b):
        try:
            return mpmath.iv.mpf(f(mpmath.iv.mpf([a, b])))
        except (ZeroDivisionError, ValueError, TypeError, OverflowError, MemoryError,
                NotImplementedError):  # mpmath.iv refuses some constants (Float 1e-40)
            return mpmath.iv.mpf([-mpmath.inf, mpmath.inf])

    def ratios(self) -> list:
        """(T, g/T) for each term T of g expanded: on a box where both enclosures exclude
        0, g has the sign of their product -- tight where g's terms cancel in interval
        arithmetic (p e^p - 2 e^p at large p) but one term dominates."""
        if self._ratios is None:
            terms = sp.Add.make_args(sp.expand(self.expr))
            self._ratios = []
            if len(terms) > 1:
                for t in terms:
                    ratio = sp.expand(sp.powsimp(sp.expand(self.expr / t)))
                    try:
                        self._ratios.append((_interval_function(t, self.p),
                                             _interval_function(ratio, self.p)))
                    except Undecided:
                        continue
        return self._ratios

    def zero_free(self, lo, hi) -> bool:
        """A proof that g has no zero on [lo, hi]."""
        if not _contains_zero(self.box(self.g, lo, hi)):
            return True
        if hi != mpmath.inf:
            # mean-value form g(m) + g'([lo, hi]) ([lo, hi] - m): tight on small boxes
            m = (lo + hi) / 2
            centred = self.box(self.g, m, m) + self.box(self.dg, lo, hi) * mpmath.iv.mpf([lo - m, hi - m])
            if not _contains_zero(centred):
                return True
        if lo < 1:
            return False
        return any(not _contains_zero(self.box(t, lo, hi))
                   and not _contains_zero(self.box(r, lo, hi)) for t, r in self.ratios())

    def zeros(self, a, b, budget: int | None = None) -> list:
        """Certified zeros in [a, b] (a zero at an end is the caller's business)."""
        out, stack = [], [(mpmath.mpf(a), mpmath.mpf(b))]
        local = budget if budget is not None else BUDGET
        while stack:
            lo, hi = stack.pop()
            self.budget -= 1
            local -= 1
            if self.budget < 0 or local < 0:
                raise Undecided(f"too many boxes to isolate the zeros of {self.expr} "
                                f"(oscillating, or a cluster of zeros near p = "
                                f"{mpmath.nstr(lo, 8)})")
            if self.zero_free(lo, hi):
                continue
            if not _contains_zero(self.box(self.dg, lo, hi)):
                s_lo, s_hi = _sign(self.box(self.g, lo, lo)), _sign(self.box(self.g, hi, hi))
                if s_lo and s_hi:
                    if s_lo != s_hi:
                        out.append(self.refine(lo, hi))
                    continue
            if hi - lo <= mpmath.mpf(2) ** -40 * max(1, abs(lo)):
                raise Undecided(f"cannot isolate a zero of {self.expr} near p = "
                                f"{mpmath.nstr(lo, 12)} (a multiple zero, or interval "
                                "arithmetic cannot separate it)")
            mid = (lo + hi) / 2
            stack += [(mid, hi), (lo, mid)]
        return sorted(out)

    def refine(self, lo, hi):
        """The one zero of g in (lo, hi), where g is monotone with a sign change."""
        with mpmath.workdps(_WORK_DPS), _iv_dps(_WORK_DPS):
            for _ in range(400):  # bisection to a box of width 10^-(DPS+5)
                if hi - lo < mpmath.mpf(10) ** -(DPS + 5) * max(1, abs(lo)):
                    break
                mid = (lo + hi) / 2
                s = _sign(self.box(self.g, mid, mid))
                if s == 0:
                    break
                if s == _sign(self.box(self.g, lo, lo)):
                    lo = mid
                else:
                    hi = mid
            return (lo + hi) / 2


class _iv_dps:  # noqa: N801 - a context manager named like mpmath's workdps
    def __init__(self, dps: int):
        self.dps = dps

    def __enter__(self):
        self.saved = mpmath.iv.prec
        mpmath.iv.dps = self.dps

    def __exit__(self, *exc):
        mpmath.iv.prec = self.saved


def certified_zeros(expr: sp.Expr, p: sp.Symbol, width: sp.Expr | None) -> list[sp.Float]:
    """The zeros of the concrete expression ``expr`` in the open interval (0, width)
    (width None: (0, oo)), each to :data:`DPS` digits, with a proof that there are no
    others (far out by the asymptotics of g, see the module docstring).  Raises
    :class:`Undecided` when that proof cannot be made."""
    if width is None and expr.has(sp.sin, sp.cos, sp.tan):
        end_limit(expr, p, sp.oo, False)  # Undecided at once when g oscillates at infinity
    iso = _Isolator(expr, p)
    saved = mpmath.iv.prec
    mpmath.iv.prec = ISOLATION_BITS
    try:
        with mpmath.workdps(_WORK_DPS):
            roots = _all_zeros(iso, expr, p, width)
    except Undecided:
        if not _one_sign(expr, p):
            raise
        roots = []
    finally:
        mpmath.iv.prec = saved
    return [sp.Float(mpmath.nstr(r, DPS + 5), DPS) for r in sorted(set(roots))]


def _one_sign(expr: sp.Expr, p: sp.Symbol) -> bool:
    """expr is of one sign for every p > 0 by SymPy's assumptions once written with
    exponentials: tanh(e^p) - 1 = -2/(exp(2 e^p) + 1), which no enclosure resolves far
    out.  Only for small expressions (``factor`` of a large one can take minutes)."""
    if not p.is_positive or expr.has(sp.sin, sp.cos, sp.tan, sp.log) or sp.count_ops(expr) > 20:
        # (exp(c log(p)^2 + 98 log(p)) is p^98 e^(...): its factor takes minutes)
        return False
    whole = sp.factor(sp.together(expr.rewrite(sp.exp)))
    return bool(whole.is_positive or whole.is_negative)


def _step_in(iso: _Isolator, end, inward) -> object:
    """A point q such that g is monotone between ``end`` and q (so its only possible
    zero there is ``end`` itself)."""
    for k in range(3, 60):
        q = end + inward * mpmath.mpf(2) ** -k
        lo, hi = (end, q) if q > end else (q, end)
        if not _contains_zero(iso.box(iso.dg, lo, hi)):
            return q
    raise Undecided(f"cannot separate the zeros of {iso.expr} from p = {mpmath.nstr(end, 10)}")


def _all_zeros(iso: _Isolator, expr: sp.Expr, p: sp.Symbol, width) -> list:
    top = mpmath.mpf(sp.N(width, _WORK_DPS)) if width is not None else mpmath.mpf(2) ** COMPACT
    start, end = mpmath.mpf(0), top
    if _contains_zero(iso.box(iso.g, start, start)):
        # g vanishes (or is singular) at the end p = 0: step in while g' has one sign
        start = _step_in(iso, start, min(top, 1))
    if width is not None and _contains_zero(iso.box(iso.g, end, end)):
        end = _step_in(iso, end, -min(top, 1))
    roots = iso.zeros(start, end) if start < end else []
    if width is None:
        roots += _tail_zeros(iso, expr, p)
    return roots


def _tail_zeros(iso: _Isolator, expr: sp.Expr, p: sp.Symbol) -> list:
    """The zeros of g on [2^COMPACT, oo), with a proof that there are no others: octave by
    octave until an enclosure on [2^k, oo] or the dominant-monomial bound covers the rest."""
    cover = dominant_tail(expr, p, COMPACT, TAIL_EXP)  # cheap: tried first
    roots: list = []
    boxes = TAIL_BOXES
    for k in range(COMPACT, TAIL_EXP + 1):
        lo = mpmath.mpf(2) ** k
        if (cover is not None and k >= cover.exponent) or iso.zero_free(lo, mpmath.inf):
            return roots
        if k == TAIL_EXP:
            break
        hi = 2 * lo
        if iso.zero_free(lo, hi):
            continue
        spend = min(TAIL_OCTAVE_BOXES, boxes)
        before = iso.budget
        roots += iso.zeros(lo, hi, budget=spend)  # Undecided when the budget runs out
        boxes -= before - iso.budget
        if boxes <= 0:
            break
    raise Undecided(f"no proof that {expr} keeps one sign for large p (interval arithmetic "
                    f"and its dominant term do not bound it beyond p = 2^{k})")
