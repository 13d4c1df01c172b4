"""The size of the work one command may be asked to do, in one place.

Every bound here was chosen so that the command finishes in well under 10 s on the
reference machine (two cores) at the limit, or because beyond it the answer is not
meaningful (a number with 10^9 digits); input past a limit is refused at once with
exit status 2 and a message naming the limit, and ``--help`` prints the bounds.
Measured times are in ``benchmarks/``.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_DECIMAL_EXPONENT",
    "MAX_SIGNIFICANT_DIGITS",
    "MAX_INTEGER_PARAMETER",
    "MAX_INTEGER_PARAMETER_VERIFY",
    "MAX_ORDER",
    "MAX_DERIVATIVES",
    "MAX_EXPANSION_DEGREE",
    "MAX_DERIVATIVE_DEGREE",
    "MAX_DPS",
    "MAX_P",
    "MAX_P_DENOMINATOR",
    "MAX_EXPONENT",
    "MAX_EXPONENT_VERIFY",
    "MAX_OPERATIONS",
    "MAX_NUMEL",
    "MAX_REPEAT",
    "MAX_LOAD_BYTES",
    "check_count",
]

#: A parsed number lies in 10^-400 .. 10^400 (0 aside): ``1e999999999`` as an exact
#: rational would take minutes just to build.
MAX_DECIMAL_EXPONENT = 400
#: ... and is written with at most this many significant digits (numerator and
#: denominator of ``p/q`` each).
MAX_SIGNIFICANT_DIGITS = 60
#: An integer family parameter (GEM's N) on the command line: the branches contain
#: x^(2N+1) and the analyses expand to order about 2N (``show --N 64`` took 14 s of CPU,
#: ``--N 32`` 4 s; ``properties --N 32`` of the four GEM/Sqish families about 10 s, SE-GEM
#: alone 8 s, at N = 16 4 s).  ``verify-smoothness`` reads the class off one-sided series
#: whose cost hardly depends on the exponents (N = 1000: 0.1 s): its own, larger bounds.
MAX_INTEGER_PARAMETER = 24
MAX_INTEGER_PARAMETER_VERIFY = 1000
#: Terms of a Taylor or asymptotic expansion (``show --order``).
MAX_ORDER = 20
#: Derivatives printed by ``show --derivatives``.
MAX_DERIVATIVES = 8
#: ``show`` expands and differentiates branches whose degree grows with the exponents:
#: with e the largest numeric exponent in a branch (2N+1 for GEM), --order times e and
#: --derivatives times e are bounded too (GEM at N = 32 with --order 20 --derivatives 8
#: took more than 30 s of CPU; the defaults at N = 32, order 3 and 2 derivatives, 4 s).
MAX_EXPANSION_DEGREE = 200
MAX_DERIVATIVE_DEGREE = 140
#: Decimal digits of a value (``lp-distance --dps``).
MAX_DPS = 100
#: The exponent p of an L^p distance (a rational p = n/d also needs d <= MAX_P_DENOMINATOR).
MAX_P = 64
MAX_P_DENOMINATOR = 100
#: A numeric exponent in a branch: x^(10^6) cannot be expanded to its order in 10 s
#: (``verify-smoothness``: 9 s of CPU; x^4000 e^x: 0.3 s).
MAX_EXPONENT = 200
MAX_EXPONENT_VERIFY = 10_000
#: Operations in one branch expression (SymPy's ``count_ops``).
MAX_OPERATIONS = 2000
#: Elements of a benchmark input (``bench --numel``): 2^31 float32 values are 8 GiB.
MAX_NUMEL = 2**31
#: Timed rounds per case (``bench --repeat``).
MAX_REPEAT = 10_000
#: Size of a file read by ``bench --load``.
MAX_LOAD_BYTES = 64 * 2**20


def check_count(option: str, raw: str, low: int, high: int) -> int:
    """``raw`` as an integer in [low, high]; ``ValueError`` naming the option, the value
    and the allowed range otherwise (text is checked before ``int`` so that a
    10^6-digit string is never converted)."""
    text = raw.strip() if isinstance(raw, str) else str(raw)
    if not re.fullmatch(r"[+-]?[0-9]{1,20}", text):
        raise ValueError(f"{option} must be an integer in [{low}, {high}] (got {raw!r})")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{option} must be an integer in [{low}, {high}] (got {raw!r})")
    return value
