"""Suite-wide fixtures."""

from __future__ import annotations

import mpmath
import pytest


@pytest.fixture(autouse=True)
def _mpmath_precision_is_restored():
    """Each test gets mpmath's working precision as it found it: tests that set
    ``mp.dps`` for their own references (30, 40 digits) would otherwise lower the
    precision of the 50-digit references of the tests after them (the reference of Sqish
    with a < 0 at x = -2.2e29 needs more than 30 digits for exp's large argument)."""
    dps = mpmath.mp.dps
    yield
    mpmath.mp.dps = dps
