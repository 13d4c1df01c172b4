"""Compensated arithmetic of the generated formulas' ``exact`` path (float64 inputs).

The runtime's error-free transformations are checked against exact rational arithmetic
(``fractions``), the split constants against mpmath at 50 digits, the decisions on the
expression tree on small expressions whose answer is known, and the generated code of
GELU, GELU-tanh, GELU_beta and safe Pade at the inputs where the plain float64 evaluation
was hundreds to thousands of ULP off (benchmarks/ERRORS.md) against the independent mpmath
references of ``catalogue_reference``."""

from __future__ import annotations

import importlib
import math
import random
import sys
from fractions import Fraction

import mpmath as mp
import pytest
import sympy as sp

torch = pytest.importorskip("torch")

import catalogue_reference as cref  # noqa: E402

from gemsym.codegen.compensated import (argument_plan, cancels, dd_tree,  # noqa: E402
                                        factor_roots, split_constant)
from gemsym.codegen.runtime import _compensated as C  # noqa: E402
from gemsym.codegen.stable import R  # noqa: E402

X = sp.Symbol("x", real=True)


def _doubles(n: int, seed: int, span: int = 400):
    rng = random.Random(seed)
    return [rng.choice([-1, 1]) * rng.uniform(1, 2) * 2.0 ** rng.randint(-span, span)
            for _ in range(n)]


def test_two_prod_is_exact():
    a = torch.tensor(_doubles(200, 1), dtype=torch.float64)
    b = torch.tensor(_doubles(200, 2), dtype=torch.float64)
    p, e = C._two_prod(a, b)
    for ai, bi, pi, ei in zip(a.tolist(), b.tolist(), p.tolist(), e.tolist()):
        assert Fraction(pi) + Fraction(ei) == Fraction(ai) * Fraction(bi)
    # a Python-float constant split in Python, as the formulas pass constants
    p, e = C._two_prod(0.7071067811865476, a)
    for ai, pi, ei in zip(a.tolist(), p.tolist(), e.tolist()):
        assert Fraction(pi) + Fraction(ei) == Fraction(0.7071067811865476) * Fraction(ai)


def test_double_double_sum_square_and_reciprocal():
    a = torch.tensor(_doubles(100, 3, 200), dtype=torch.float64).abs()
    b = -a * (1 + 2.0 ** -30)  # cancels against a
    s, e = C._dd_add(C._dd_sq((a, None)), C._dd_neg(C._dd_mul((a, None), (b, None))))
    q, ql = C._dd_recip((a, None))
    for ai, bi, si, ei, qi, qli in zip(a.tolist(), b.tolist(), s.tolist(), e.tolist(),
                                       q.tolist(), ql.tolist()):
        exact = Fraction(ai) ** 2 - Fraction(ai) * Fraction(bi)
        assert abs(Fraction(si) + Fraction(ei) - exact) <= abs(exact) * Fraction(1, 2 ** 100)
        inv = 1 / Fraction(ai)
        assert abs(Fraction(qi) + Fraction(qli) - inv) <= inv * Fraction(1, 2 ** 100)


def test_double_double_quotient():
    """a/b as ``_dd_div`` to 2^-100; beyond |b| = 2^996 (where the split overflows) its
    value is the correctly rounded quotient, where a (1/b) kept a subnormal 1/b."""
    a = torch.tensor(_doubles(100, 5, 200), dtype=torch.float64)
    b = torch.tensor(_doubles(100, 6, 200), dtype=torch.float64)
    bl = b * 2.0 ** -60
    q, ql = C._dd_div((a, None), (b, bl))
    for ai, bi, bli, qi, qli in zip(a.tolist(), b.tolist(), bl.tolist(), q.tolist(),
                                    ql.tolist()):
        exact = Fraction(ai) / (Fraction(bi) + Fraction(bli))
        assert abs(Fraction(qi) + Fraction(qli) - exact) <= abs(exact) * Fraction(1, 2 ** 100)
    a = torch.tensor([-1.4971684e308, 1.7e308, 2.0 ** 1000 * 1.3, 3e306], dtype=torch.float64)
    b = torch.tensor([1.1e308, -1.3e308, 2.0 ** 1020 * 1.7, 1.7e308], dtype=torch.float64)
    got = C._dd_value(C._dd_div((a, None), (b, None)))
    assert got.tolist() == [float(Fraction(ai) / Fraction(bi))
                            for ai, bi in zip(a.tolist(), b.tolist())]
    from sympy.codegen.cfunctions import hypot

    tree = dd_tree(X / hypot(X, 1), X)
    assert tree.op == "div" and tree.args[1].op == "hypot"


def test_split_constants_carry_the_exact_value():
    for c in (sp.sqrt(2 / sp.pi), 1 / sp.sqrt(2), sp.Rational(35, 3), sp.Rational(7, 10)):
        hi, lo = split_constant(c)
        with mp.workdps(50):
            ref = mp.mpf(sp.N(c, 50))
            assert hi == float(ref)
            assert abs(mp.mpf(hi) + mp.mpf(lo) - ref) <= abs(ref) * mp.mpf(2) ** -104


def test_decisions_on_the_expression_tree():
    beta = sp.Symbol("beta", positive=True)
    # arguments that round are compensated; exact ones (-x, x/2) and others are not
    assert argument_plan(-X**2 / 2, X) is not None
    assert argument_plan(-beta**2 * X**2 / 2, X) is not None
    assert argument_plan(-X / sp.sqrt(2), X) is not None
    for exact in (-X, X / 2, X, sp.Integer(3)):
        assert argument_plan(exact, X) is None
    assert argument_plan(sp.exp(X) * X, X) is None
    # safe Pade's numerator cancels near its roots -0.0411 and -1.459 (x < 0) ...
    num = sp.Rational(35, 3) * X**2 + sp.Rational(35, 2) * X + sp.Rational(7, 10)
    assert cancels(num, X, -math.inf, 0.0, True)
    large = sp.Rational(7, 10) * R**2 + sp.Rational(35, 2) * R + sp.Rational(35, 3)
    assert cancels(large, X, -math.inf, 0.0, False)  # -1.459 (|x| > 1)
    assert not cancels(large, X, -1.0, 0.0, False)
    assert not cancels(num, X, 0.0, math.inf, True)
    # ... a sum of exact terms does not (x + 3 near -3 is exact), nor one whose terms keep
    # their signs in the region
    assert not cancels(X * (X + 3) / 6, X, -3.0, 3.0, None)
    assert not cancels(5 * X**2 + 7 * X + 35, X, 0.0, math.inf)
    # terms of both signs: by how much they cancel (x < 0: at most 1.72 here, 39 at x = -1
    # for x^2 + 1.9x + 1, which has no real root)
    assert not cancels(5 * X**2 + 7 * X + 35, X, -math.inf, 0.0)
    assert cancels(X**2 + sp.Rational(19, 10) * X + 1, X, -math.inf, 0.0)


def test_factored_roots_are_the_roots():
    num = sp.Rational(35, 3) * X**2 + sp.Rational(35, 2) * X + sp.Rational(7, 10)
    f = factor_roots(num, X, -math.inf, 0.0, large=False)
    assert f is not None and len(f.roots) == 2
    with mp.workdps(50):
        for hi, lo in f.roots:
            root = mp.findroot(lambda t: mp.mpf(35) / 3 * t**2 + mp.mpf(35) / 2 * t
                               + mp.mpf(7) / 10, hi)
            assert abs(mp.mpf(hi) + mp.mpf(lo) - root) <= abs(root) * mp.mpf(2) ** -104
    assert f.coefficients == (35 / 3,)


# ---------------------------------------------------------------- generated code
@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    from gemsym.codegen.writer import write_package
    from gemsym.families import get_family

    root = tmp_path_factory.mktemp("compensated")
    names = ["gelu", "gelu-tanh", "gelu-beta", "safe-pade", "hardsigmoid"]
    write_package([get_family(n) for n in names], root / "compensated_bridge")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("compensated_bridge")
    finally:
        sys.path.remove(str(root))


def _ulps(got: float, value, largest) -> float:
    """|got - value| in ULPs of float64 at max(|value|, largest term) (the contract)."""
    scale = max(abs(value), abs(largest))
    if scale == 0:
        return 0.0 if got == 0 else math.inf
    return float(abs(mp.mpf(got) - value) / mp.mpf(2) ** (mp.floor(mp.log(scale, 2)) - 52))


def _neighbours(x0: float, n: int = 8):
    out, up, down = [x0], x0, x0
    for _ in range(n):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        out += [up, down]
    return out


#: (member, quantity, x) where the plain float64 formulas were 381-12,800 ULP off.
POINTS = [("gelu", "f", -37.4732453), ("gelu", "d_x", -34.5273866),
          ("gelu-beta", "d_beta", -34.5273866), ("gelu-beta", "f", -37.4732453),
          ("gelu-tanh", "f", -19.1039567), ("gelu-tanh", "d_x", -19.1039567),
          ("safe-pade", "f", -0.0411309314), ("safe-pade", "d_x", -0.645038725),
          # the doubles nearest safe Pade's zeros
          ("safe-pade", "f", -0.04112765606210874), ("safe-pade", "f", -1.4588723439378912),
          # x/6 + 1/2 next to its zero at -3 (plain: 25 % off)
          ("hardsigmoid", "f", -3.0 + 2.0 ** -47)]


@pytest.mark.parametrize("name, q, x0", POINTS, ids=[f"{n}-{q}-{x}" for n, q, x in POINTS])
def test_float64_where_the_argument_rounds(bridge, name, q, x0):
    xs = _neighbours(x0)
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    params = {"beta": 1.0} if name == "gelu-beta" else {}
    fn = getattr(bridge, name.replace("-", "_"))
    if q == "d_beta":
        # a 0-d beta's gradient sums over x: one element at a time
        beta = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        got = torch.stack([torch.autograd.grad(fn(xi, beta), beta)[0] for xi in x.detach()])
    else:
        y = fn(x, *params.values())
        got = y if q == "f" else torch.autograd.grad(y.sum(), x)[0]
    with mp.workdps(50):
        worst = 0.0
        for xi, gi in zip(xs, got.detach().tolist()):
            ref = cref.reference(name, mp.mpf(xi), params)[q]
            value, largest = ref if isinstance(ref, tuple) else (ref, ref)
            # f is held to a relative error: its largest term is its value
            worst = max(worst, _ulps(gi, value, value if q == "f" else largest))
    assert worst <= 4, f"{name} {q} near x = {x0}: {worst:.3g} ULP"


def test_no_other_inf_or_nan_at_the_extremes(bridge):
    F = bridge._formulas
    x = torch.tensor([-math.inf, -1.7e308, -1e300, -1e200, -1e155, -5e102, -1e20, -40.0, -30.0,
                      -1e-300, 0.0, 1e-300, 30.0, 1e20, 1e154, 1e200, 1.7e308, math.inf],
                     dtype=torch.float64)
    one = torch.tensor(1.0, dtype=torch.float64)
    formulas = [F.gelu_f, F.gelu_dx, F.gelu_tanh_f, F.gelu_tanh_dx, F.safe_pade_f,
                F.safe_pade_dx, lambda t, exact: F.gelu_beta_first(t, one, exact=exact)[0]]
    for fn in formulas:
        plain, compensated = fn(x, exact=False), fn(x, exact=True)
        # the same classes of values as the plain formulas (their non-finite cases are
        # the tails' business, not this mechanism's)
        assert torch.equal(torch.isfinite(plain), torch.isfinite(compensated))
        assert torch.equal(torch.isnan(plain), torch.isnan(compensated))


def test_float64_bits_do_not_depend_on_the_tensor_size(bridge):
    """The compensated sigmoid avoids ``torch.sigmoid``, whose vectorised and scalar float64
    kernels round differently."""
    x = torch.linspace(-20.0, 5.0, 4096, dtype=torch.float64)
    whole = bridge.gelu_tanh(x)
    alone = torch.cat([bridge.gelu_tanh(x[i:i + 1].clone()) for i in range(0, 4096, 8)])
    assert torch.equal(alone, whole[::8])


def test_float32_compute_near_safe_pade_zeros(bridge):
    """The ``exact`` path in float32 (CUDA float32 inputs on the PyTorch formulas): the
    roots are split into float32 pairs, so f keeps its relative accuracy through them."""
    F = bridge._formulas
    for root in (-0.04112765606210874, -1.4588723439378912):
        xs = [torch.tensor(root, dtype=torch.float32)]
        for _ in range(8):
            xs.append(torch.nextafter(xs[-1], torch.tensor(0.0)))
        x = torch.stack(xs)
        with mp.workdps(40):
            for xi, yi in zip(x.tolist(), F.safe_pade_f(x, exact=True).tolist()):
                ref = cref.reference("safe-pade", mp.mpf(xi), {})["f"]
                ref = ref[0] if isinstance(ref, tuple) else ref
                assert abs(mp.mpf(yi) - ref) <= 4 * abs(ref) * mp.mpf(2) ** -23


# ------------------------------------------- sigma of an argument that is already rounded
@pytest.fixture(scope="module")
def sech_bridge(tmp_path_factory):
    from gemsym.codegen.writer import write_package
    from gemsym.families import get_family

    root = tmp_path_factory.mktemp("rounded_sigmoid")
    write_package([get_family(n) for n in ("mish", "tanhexp")], root / "rounded_sigmoid_bridge")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("rounded_sigmoid_bridge")
    finally:
        sys.path.remove(str(root))


#: d/dx = tanh(u) + x sech^2(u) g with sech^2(u) printed as 4 sigma(2u) sigma(-2u), u rounded
#: (Mish: u = softplus(x), g = sigma(x); TanhExp: u = e^x, g = e^x): with torch.sigmoid
#: 4.4-5.3 ULP of the larger term at these inputs (torch.sigmoid(-2u) alone 2 of them).
ROUNDED_SIGMOID_POINTS = [("mish", -1.82755271), ("mish", -1.8053316090054425),
                          ("mish", -1.878931410079185), ("tanhexp", -2.1446984514112977),
                          ("tanhexp", -3.351315205519236)]


@pytest.mark.parametrize("name, x0", ROUNDED_SIGMOID_POINTS,
                         ids=[f"{n}-{x}" for n, x in ROUNDED_SIGMOID_POINTS])
def test_float64_d_x_where_sech2_of_a_rounded_argument_cancels(sech_bridge, name, x0):
    xs = _neighbours(x0, 16)
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    got = torch.autograd.grad(getattr(sech_bridge, name)(x).sum(), x)[0]
    with mp.workdps(50):
        worst = max(_ulps(gi, *cref.reference(name, mp.mpf(xi), {})["d_x"])
                    for xi, gi in zip(xs, got.tolist()))
    assert worst <= 4, f"{name} d_x near x = {x0}: {worst:.3g} ULP"


def test_float64_d_x_over_the_cancelling_range(sech_bridge):
    """Mish's d/dx changes sign at x = -1.19 and TanhExp's at -1.25; sampled where the two
    terms are of opposite sign and comparable size."""
    rng = random.Random(7)
    for name, lo, hi in (("mish", -3.0, -0.5), ("tanhexp", -5.0, -1.0)):
        xs = [rng.uniform(lo, hi) for _ in range(1500)]
        got = sech_bridge._formulas.__dict__[f"{name}_dx"](torch.tensor(xs, dtype=torch.float64))
        with mp.workdps(50):
            worst = max(_ulps(gi, *cref.reference(name, mp.mpf(xi), {})["d_x"])
                        for xi, gi in zip(xs, got.tolist()))
        assert worst <= 4, f"{name} d_x: {worst:.3g} ULP"


def test_rounded_sigmoid_bits_do_not_depend_on_the_tensor_size(sech_bridge):
    x = torch.linspace(-6.0, 3.0, 4096, dtype=torch.float64)
    for name in ("mish", "tanhexp"):
        dx = sech_bridge._formulas.__dict__[f"{name}_dx"]
        whole = dx(x)
        alone = torch.cat([dx(x[i:i + 1].clone()) for i in range(0, 4096, 8)])
        assert torch.equal(alone, whole[::8]), name
