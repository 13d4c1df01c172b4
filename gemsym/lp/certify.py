r"""A numerical value is printed only to the digits on which two independent methods agree.

The *primary* value is the closed form evaluated by mpmath, or (where there is none) a
quadrature of the simplified difference; the *check* is a quadrature of |f - g|^p built
from the branches of f and g themselves, with a different splitting (and, for the extra
check, a second working precision).  The certified digits are

    min( agreement of primary and every check,  digits of every error estimate,  dps ),

minus one digit of margin, so that the printed string is one both methods round to.  Fewer
than :data:`MIN_DIGITS` digits is no certificate: the caller reports "cannot decide".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import mpmath

from .quadrature import Estimate

__all__ = ["MIN_DIGITS", "SLACK", "Check", "CertifiedValue", "NotCertified", "agreed_digits", "certify"]

#: Fewer agreed significant digits than this is no certificate.
MIN_DIGITS = 3

#: Digits an exact value may fall short of a check's claimed accuracy (error estimates
#: of tanh-sinh quadrature are pessimistic rather than optimistic, but not exact).
SLACK = 3


class NotCertified(ArithmeticError):
    """The methods disagree, or did not converge: no digit of the value can be printed."""


@dataclass(frozen=True)
class Check:
    """The independent method, its value and its agreement with the printed value."""

    method: str
    value: object          # mpmath.mpf
    rel_diff: object       # |primary - check| / |primary|
    digits: int            # significant digits on which the two agree


@dataclass(frozen=True)
class CertifiedValue:
    """``value`` rounded to ``digits`` significant digits, all of them certified by ``checks``."""

    value: object          # mpmath.mpf, rounded to ``digits`` significant digits
    digits: int
    source: str            # how the primary value was obtained
    checks: tuple[Check, ...]

    @property
    def text(self) -> str:
        """The value as printed: exactly the certified digits."""
        return mpmath.nstr(self.value, self.digits, strip_zeros=False)


def _digits_of(rel) -> int:
    """Significant digits a relative difference ``rel`` leaves, one digit of margin kept."""
    if rel == 0:
        return 10**6
    if not mpmath.isfinite(rel):
        return 0
    return max(0, int(mpmath.floor(-mpmath.log10(rel))) - 1)


def agreed_digits(a, b) -> int:
    """Significant digits on which a and b agree (one digit of margin kept)."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if a == b:
        return 10**6
    scale = max(abs(a), abs(b))
    return _digits_of(abs(a - b) / scale)


def certify(primary: Estimate, checks: Sequence[Estimate], dps: int, exact: bool = False) -> CertifiedValue:
    """The certified value of ``primary`` (see the module docstring); raises
    :class:`NotCertified` when fewer than :data:`MIN_DIGITS` digits are certified.  An
    ``exact`` primary (a closed form) is refuted, not merely rounded, when a check
    disagrees with it by more than :data:`SLACK` digits below the check's own accuracy."""
    value = primary.value
    if not mpmath.isfinite(value):
        raise NotCertified(f"the {primary.method} gave no finite number")
    digits = min(dps, _digits_of(primary.rel_error))
    done = []
    for est in checks:
        if not mpmath.isfinite(est.value):
            raise NotCertified(f"the check ({est.method}) gave no finite number")
        agree = agreed_digits(value, est.value)
        rel = abs(value - est.value) / abs(value) if value != 0 else abs(est.value)
        claimed = min(dps, _digits_of(est.rel_error))
        if exact and agree < claimed - SLACK:
            # an exact value must agree with a check to the accuracy the check claims
            raise NotCertified(
                f"the {primary.method} disagrees with the {est.method}: "
                f"relative difference {mpmath.nstr(rel, 3)}, "
                f"far above the check's error estimate {mpmath.nstr(est.rel_error, 3)}")
        done.append(Check(est.method, +est.value, +rel, min(agree, dps)))
        digits = min(digits, agree, _digits_of(est.rel_error))
    if not done:
        raise NotCertified("no independent method was run")
    if digits < MIN_DIGITS:
        worst = max(done, key=lambda c: c.rel_diff)
        raise NotCertified(
            f"the {primary.method} and the {worst.method} agree to fewer than {MIN_DIGITS} digits "
            f"(relative difference {mpmath.nstr(worst.rel_diff, 3)}; relative error estimates "
            f"{', '.join(mpmath.nstr(e.rel_error, 2) for e in (primary, *checks))})"
        )
    with mpmath.workdps(digits):
        rounded = +value
    return CertifiedValue(rounded, digits, primary.method, tuple(done))
