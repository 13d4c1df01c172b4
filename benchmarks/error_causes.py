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
}


def cause_of(label: str, dtype: str, quantity: str, worst: float) -> str | None:
    """The measured cause of the row (label, dtype, quantity) when its largest error
    ``worst`` is within what the cause was measured to explain; else None."""
    cause = CAUSES.get((label, dtype, quantity))
    return cause.text if cause is not None and worst <= cause.covers else None
