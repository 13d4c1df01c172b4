"""Narrow bodies near x = 0 where a power of x is not a normal float64 number
(``gemsym.codegen.narrow.underflow``): the claim that the exact value and its float64 evaluation
round to the same signed zero in every narrow dtype, checked independently (mpmath at 60
digits for the true value, the generated formulas' real IEEE evaluation), and refused where
it does not hold."""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import sympy as sp

torch = pytest.importorskip("torch")

from tests.helpers import gem_ref  # noqa: E402


def _tiny_inputs() -> torch.Tensor:
    """Every power of two and a few odd multiples from the smallest float32 subnormal up
    to 2^-100, both signs, as float32 values held in float64."""
    mags = sorted({m * 2.0 ** e for e in range(-149, -99) for m in (1.0, 1.5, 1.75)
                   if m * 2.0 ** e < 2.0 ** -99})
    xs = [s * m for m in mags for s in (1.0, -1.0)]
    return torch.tensor(xs, dtype=torch.float32).to(torch.float64)


@pytest.mark.parametrize("N", [3, 4, 6, 8])
@pytest.mark.parametrize("eps", [None, 1e-4, 2.0 ** -120, 3e30])
def test_narrow_f_and_df_near_zero_against_mpmath(N, eps):
    """GEM / E-GEM f (N = 3) and f' (N = 3 .. 8) from the narrow bodies (x^(2N+1), x^(2N)
    below 2^-969 there) rounded to float32, bfloat16 and float16: the rounding of the value
    mpmath computes, sign of a zero included."""
    import torch_bridge._formulas as F

    x = _tiny_inputs()
    cases = []
    if eps is None:
        if N == 3:
            cases.append((F.gem_f(x, N, exact=False, narrow=True), gem_ref(N)))
        cases.append((F.gem_dx(x, N, exact=False, narrow=True), None))
    elif N == 3:
        e = torch.tensor(eps, dtype=torch.float64)
        cases.append((F.e_gem_f(x, N, e, exact=False, narrow=True), gem_ref(N, eps=eps)))
    with mp.workdps(60):
        for got, ref in cases:
            for dt in (torch.float32, torch.bfloat16, torch.float16):
                g = got.to(dt).double()
                for xi, gi in zip(x.tolist(), g.tolist()):
                    if ref is None:  # f' = x^2N (x^2N + 2N + 1)/(x^2N + 1)^2, 0 for x < 0
                        v = mp.mpf(xi)
                        want = (v ** (2 * N) * (v ** (2 * N) + 2 * N + 1)
                                / (v ** (2 * N) + 1) ** 2) if xi > 0 else mp.mpf(0)
                    else:
                        want = ref(mp.mpf(xi))
                    w = torch.tensor(float(want), dtype=torch.float64).to(dt).double().item()
                    assert gi == w and math.copysign(1, gi) == math.copysign(1, w), \
                        (N, eps, dt, xi, gi, w)


def test_the_claim_holds_for_gem_bodies_and_is_refused_otherwise():
    """True for x^7/(x^6 + 1) and x^7/(x^6 + eps) over eps's narrow range (k = 7); False
    where the value is not tiny (x^7/x^6 = x), where the sign of the evaluation is not known
    (x^20 - x^21: both terms may underflow to zeros), and for an operation it
    does not enclose (an exponential)."""
    from gemsym.codegen.narrow.forms import _params_env
    from gemsym.codegen.stable import IPow
    from gemsym.codegen.narrow.underflow import rounds_to_zero_near_zero

    x = sp.Symbol("x", real=True)
    eps = sp.Symbol("eps", positive=True)
    env = _params_env([eps])
    assert rounds_to_zero_near_zero(IPow(x, 7) / (IPow(x, 6) + 1), x, {}, 7)
    assert rounds_to_zero_near_zero(IPow(x, 7) / (IPow(x, 6) + eps), x, env, 7)
    assert rounds_to_zero_near_zero(IPow(x, 16) * (IPow(x, 16) + 17) / (IPow(x, 16) + 1) ** 2,
                                    x, {}, 16)
    assert not rounds_to_zero_near_zero(IPow(x, 7) / IPow(x, 6), x, {}, 7)
    # x^7 - x^8 is x^7's sign (x^7 does not underflow to 0 there), x^20 - x^21 not known:
    # both terms are zeros for the smallest inputs, +0 - (+0) = +0 for x < 0 too
    assert rounds_to_zero_near_zero(IPow(x, 7) - IPow(x, 8), x, {}, 8)
    assert not rounds_to_zero_near_zero(IPow(x, 20) - IPow(x, 21), x, {}, 21)
    assert not rounds_to_zero_near_zero(IPow(x, 7) * sp.exp(x), x, {}, 7)
    # x^7 underflows in the denominator, but the quotient is about x
    assert not rounds_to_zero_near_zero(IPow(x, 7) / (IPow(x, 6) + IPow(x, 7)), x, {}, 7)
