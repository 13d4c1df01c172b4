"""Measured causes of the accuracy exceptions that remain in ``benchmarks/ERRORS.md``.

Each entry names one row over its bound (member and regime as the tables label them, dtype,
quantity) with the cause found by measuring it: the rounding of every step at the worst
input, against mpmath at 50 digits.  An entry covers its row only up to the maximum it was
measured at (``covers``); a row that gets worse, or an exception without an entry, is
printed as unexplained.  The measure scripts print the cause after the exception line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Cause", "CAUSES", "cause_of"]


@dataclass(frozen=True)
class Cause:
    """Why one row exceeds its bound, and the largest error (ULP) the explanation covers."""

    covers: float
    text: str


#: (row label, dtype, quantity) -> measured cause
CAUSES: dict[tuple[str, str, str], Cause] = {
    ("e-gem(N=1, eps=9.09495e-13)", "float64", "d_eps"): Cause(
        covers=4.25,
        text=(
            "rounding accumulation, measured at x = 2.236819768347522e-14 (x^3 < 7.9e-31 takes "
            "the form -((x^2/t1)/t1) x, t1 = x^2 + eps): x^2 +0.33, t1 -0.955 entering squared "
            "(+1.91), x^2/t1 +0.77, /t1 +0.77, *x +0.50 = 4.28 units of 2^-53, 2.14 ULP "
            "relative, read as 4.17 ULP because the value lies at 1.95x the bottom of its "
            "binade; carrying t1 as a double-double (TwoProd, TwoSum) gives 2.17 there, at "
            "about 20 more float64 ops per such denominator (not done)"),
    ),
    ("e-gem(N=1, eps=9.09495e-13)", "float64", "d_x"): Cause(
        covers=1.6e12,
        text=(
            "a subnormal intermediate, measured: for |x| < 1.5e-154, x^2 falls below the "
            "smallest normal number (absolute rounding up to 2^-1075) while d/dx ~ 3 x^2/eps "
            "stays normal for eps = 2^-40, and the division by eps keeps x^2's relative "
            "error: at x = 1.2e-158 x^2 = 1.44e-316 is 1.6e-8 off (d/dx 4.74989015e-304 "
            "against 4.74989023e-304), at x = 1.52e-162 x^2 = 0 (d/dx 0 against 7.6e-312); "
            "scaling x by a power of two before the power and back after the division would "
            "remove it (not done)"),
    ),
}


def cause_of(label: str, dtype: str, quantity: str, worst: float) -> str | None:
    """The measured cause of the row (label, dtype, quantity) when its largest error
    ``worst`` is within what the cause was measured to explain; else None."""
    cause = CAUSES.get((label, dtype, quantity))
    return cause.text if cause is not None and worst <= cause.covers else None
