"""Log axes and log colour norms whose logarithms are the C library's, value by value.

matplotlib's log scale takes numpy's ``log10`` and ``power``, whose float64 loops depend on
the CPU: on a machine with AVX-512 numpy takes a vectorised approximation within a few ULP,
on an AVX2 machine the C library's functions.  A curve's sub-pixel position then moves and an
anti-aliased PNG changes in a few pixels although every plotted number is the same
(``lp_distance.png``: 191 pixels by up to 2/255 between an Intel Xeon and an AMD EPYC).
Python's ``math.log10``, ``math.log2`` and ``**`` call the C library on every machine, so
the committed figures are the bytes ``gemsym figures`` writes wherever it runs.  Imported by
:mod:`.plots` only (it imports matplotlib).
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np
from matplotlib.colors import Normalize, make_norm_from_scale
from matplotlib.scale import InvertedLogTransform, LogScale, LogTransform
from matplotlib.ticker import LogLocator

__all__ = ["LibmLogLocator", "LibmLogNorm", "LibmLogScale", "LibmLogTransform"]


def _each(f: Callable[[float], float], values) -> np.ndarray:
    """``f`` applied to every element of ``values`` as Python floats, in the values' shape."""
    a = np.asarray(values, dtype=float)
    return np.fromiter((f(v) for v in a.ravel().tolist()), dtype=float,
                       count=a.size).reshape(a.shape)


def _log_of(base: float) -> Callable[[float], float]:
    """The C library's log in ``base``: -inf at 0, NaN below 0 and at NaN (as numpy's)."""
    log = {10: math.log10, 2: math.log2}.get(base)
    if log is None:
        ln_base = math.log(base)
        log = lambda v: math.log(v) / ln_base  # noqa: E731

    def f(v: float) -> float:
        if v > 0:
            return log(v)
        return -math.inf if v == 0 else math.nan

    return f


def _power_of(base: float) -> Callable[[float], float]:
    """base ** v by the C library's pow, inf where it overflows."""
    b = float(base)

    def f(v: float) -> float:
        try:
            return b ** v
        except OverflowError:
            return math.inf

    return f


class LibmLogTransform(LogTransform):
    """matplotlib's ``LogTransform`` (clipping or masking values <= 0 alike) with the C
    library's logarithm."""

    def __init__(self, base, nonpositive: str = "clip"):
        super().__init__(base, nonpositive)
        log = _log_of(base)
        # the parent's transform_non_affine looks its log function up here by base
        self._log_funcs = {base: lambda values: _each(log, values)}

    def inverted(self):
        return LibmInvertedLogTransform(self.base)


class LibmInvertedLogTransform(InvertedLogTransform):
    """base ** v by the C library's pow."""

    def transform_non_affine(self, values):
        return _each(_power_of(self.base), values)

    def inverted(self):
        return LibmLogTransform(self.base)


def _exact_tick(t: float, base: float) -> float:
    """A tick m b^e (m a small integer) as m times the C library's b ** e, rounded once
    (numpy's power, which matplotlib's locator takes, may miss b^e by an ULP, and a tick one
    ULP off moves a grid line's anti-aliased pixels)."""
    if not (t > 0 and math.isfinite(t)):
        return t
    e = math.floor(_log_of(base)(t) + 1e-9)
    scale = _power_of(base)(float(e))
    m = t / scale
    if abs(m - round(m)) > 1e-9 * m:
        return t
    return round(m) * scale


class LibmLogLocator(LogLocator):
    """matplotlib's ``LogLocator`` whose ticks m b^e are computed with the C library's
    pow (:func:`_exact_tick`)."""

    def tick_values(self, vmin, vmax):
        ticks = super().tick_values(vmin, vmax)
        return np.array([_exact_tick(t, float(self._base)) for t in np.asarray(ticks).tolist()],
                        dtype=float)


class LibmLogScale(LogScale):
    """matplotlib's log scale (its formatters and limits) over :class:`LibmLogTransform`
    and :class:`LibmLogLocator`: ``ax.set_xscale(LibmLogScale(ax.xaxis, base=2))``."""

    name = "libm-log"

    def __init__(self, axis=None, *, base=10, subs=None, nonpositive: str = "clip"):
        super().__init__(axis, base=base, subs=subs, nonpositive=nonpositive)
        self._transform = LibmLogTransform(base, nonpositive)

    def set_default_locators_and_formatters(self, axis):
        super().set_default_locators_and_formatters(axis)
        axis.set_major_locator(LibmLogLocator(self.base))
        axis.set_minor_locator(LibmLogLocator(self.base, self.subs))


#: ``matplotlib.colors.LogNorm`` over :class:`LibmLogScale`
LibmLogNorm = make_norm_from_scale(functools.partial(LibmLogScale, nonpositive="mask"))(
    Normalize)
