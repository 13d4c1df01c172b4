"""The power forms' tiny-|x| side in float64 where x^j itself is below the normal range:
c x^k (``tails.common_power_first``, printed as ``PowTimes``: the powers of x applied last)
instead of a quotient of a subnormal x^j that has lost its relative precision.  Measured
before the change: E-GEM(N=1, eps=2^-40) d/dx was 0 at x = 1.5e-162 (true 7.6e-312) and
1.6e-8 relatively off at x = 1.2e-158; GEM(N=3) d/dx 9 ULP at subnormal results.
References are ``numerics_reference.e_gem`` (mpmath at 50 digits, hand-derived from the
definitions), not the generated formulas; ULPs of float64 at the true value, the subnormal
spacing below the normal range."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import numerics_reference as ref  # noqa: E402

EPS = 2.0 ** -40

#: (N, eps, quantity, log10 band of x): bands where x^(2N) (d/dx) or x^(2N+1) (f, d/deps)
#: is subnormal while the result is normal or a subnormal the chain rounds once
CASES = [
    (1, EPS, "d_x", (-175.0, -150.0)),
    (1, EPS, "f", (-108.0, -101.0)),
    (1, EPS, "d_eps", (-110.0, -101.0)),
    (2, EPS, "d_x", (-92.0, -76.0)),
    (3, 1.0, "d_x", (-62.0, -51.0)),
    (3, 1.0, "f", (-47.0, -44.0)),
]


def _values(N: int, eps: float, q: str, xs: np.ndarray) -> np.ndarray:
    import torch_bridge as tb

    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    if q == "d_eps":
        e = torch.tensor(eps, dtype=torch.float64)
        return tb._formulas.e_gem_first(x.detach(), N, e, exact=True)[1].numpy()
    y = tb.e_gem(x, N=N, eps=eps)
    if q == "f":
        return y.detach().numpy()
    return torch.autograd.grad(y.sum(), x)[0].numpy()


@pytest.mark.parametrize("N, eps, q, band", CASES, ids=[f"N{c[0]}-eps{c[1]:g}-{c[2]}" for c in CASES])
def test_subnormal_powers_within_4_ulp(N, eps, q, band):
    rng = np.random.default_rng(N * 100 + len(q))
    xs = np.concatenate([10.0 ** rng.uniform(*band, 400), -(10.0 ** rng.uniform(*band, 20))])
    got = _values(N, eps, q, xs)
    errs = [ref.ulp_error(float(g), ref.e_gem(xi, N, eps)[q][0], 0.0, "float64")
            for g, xi in zip(got, xs)]
    worst = int(np.argmax(errs))
    assert max(errs) <= 4.0, (q, xs[worst], got[worst], max(errs))


def test_chain_keeps_the_bits_above_the_normal_range():
    """Where x^j is normal the form is the one before the change: the quotient x^j/S
    (a PowTimes only where x^j is subnormal).  The reference is the plain float64
    evaluation of that quotient form, x^2 (S + 2 eps) / S^2 as the generator orders it."""
    import torch_bridge as tb

    xs = torch.tensor(10.0 ** np.linspace(-150, -17, 500), dtype=torch.float64)
    got = tb._formulas.e_gem_dx(xs, 1, torch.tensor(EPS, dtype=torch.float64), exact=True)
    x2 = xs * xs
    s = x2 + EPS
    old = (s + 2.0 * EPS) * (x2 / s) / s
    assert torch.equal(got, old)
