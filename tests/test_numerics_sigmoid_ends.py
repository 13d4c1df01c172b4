"""Sigmoid polynomials whose Bernstein ends cancel: b0 sigma(-t)^d + bd sigma(t)^d with
b0/bd < 0 loses every digit where sigma(t) ~ sigma(-t) (Sqish's d/dx at a = -1 is
sigma(t) - sigma(-t) + ... ~ 4x from terms ~ 1/4: 3e15 ULP in float64, 8e6 in float32
near x = 0).  ``stable._sigmoid_form`` takes the ends apart (b0 sigma(-t) + bd sigma(t),
through its zero by expm1) plus sigma(t) sigma(-t) times the rest.

Checked here: the rewrite is an identity (both sides of its switch, mpmath at 50 digits);
it applies to a user-defined family of the same shape, not by name; and the generated
Sqish d/dx and its first and second derivatives, against ``mpmath.diff`` of the SPEC formula,
for a in {-1, -0.999, -1.001, -0.5, 0, 0.25} at log-spaced |x| from 1e-300 (float64) /
1e-38 (float32, 16-bit) to 1e2 of both signs and random inputs, on the PyTorch path and the
C++ CPU kernel (the Triton kernels: tests/test_kernels_triton.py).  Errors are in ULPs of
the value except where the derivative itself has a zero (d/dx of Sqish has one, where
its two parts, the gate's a sigma(-t) + sigma(t) and the slope term (1 - a) c x
sigma(t) sigma(-t), cancel): there, in ULPs of the larger part, as
``numerics_reference`` measures every sum (neither part tends to 1 as x -> 0)."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

torch = pytest.importorskip("torch")

import numerics_reference as ref  # noqa: E402

from gemsym.activation import Activation  # noqa: E402
from gemsym.codegen.derive import derive  # noqa: E402
from gemsym.codegen.stable import (Expm1, Sigmoid, SigmoidLinear, TailTimes,  # noqa: E402
                                   XTimes)
from gemsym.families import sqish  # noqa: E402

A_VALUES = (-1.0, -0.999, -1.001, -0.5, 0.0, 0.25)
BOUND = {"float16": 1.0, "bfloat16": 1.0, "float32": 4.0, "float64": 4.0}
#: smallest |x| sampled per dtype (float16's smallest subnormal is 6e-8)
LOWEST = {"float64": -300, "float32": -38, "bfloat16": -38, "float16": -7}


def _sqish(x, a, beta, gamma):
    return a * x + (1 - a) * x / (1 + beta * mp.exp(-2 * gamma * (1 - a) * x))


def _dps(x: float, a: float, gamma: float = 1.0) -> int:
    """Digits for a reference at x: 50 beyond f ~ x^2 at x -> 0 and beyond e^{-c|x|}."""
    small = 0 if x == 0 else max(0, int(-math.log10(abs(x))))
    return 60 + small + int(2 * gamma * (1 - a) * abs(x) * 0.4343)


def _d_x(x: float, a: float) -> tuple[mp.mpf, mp.mpf]:
    """Sqish's d/dx (beta = gamma = 1) by mpmath.diff of the SPEC formula (a relative step,
    so that x = 1e-300 is resolved), and the larger of its two parts."""
    mp.mp.dps = _dps(x, a)
    X, A = mp.mpf(x), mp.mpf(a)
    h = abs(X) * mp.mpf(10) ** -25 if x else mp.mpf(10) ** -40
    value = mp.diff(lambda v: _sqish(v, A, 1, 1), X, h=h)
    c = 2 * (1 - A)
    s = 1 / (1 + mp.exp(-c * X))
    gate = A * (1 - s) + s
    return value, max(abs(gate), abs((1 - A) * c * X * s * (1 - s)))


def _xs(dtype: str, n_random: int = 24, seed: int = 5) -> np.ndarray:
    """Log-spaced |x| of both signs from 10^LOWEST to 100, random magnitudes and
    random values in [-4, 4], rounded to ``dtype``."""
    lo = LOWEST[dtype]
    mags = np.logspace(lo, 2, (2 - lo) // 4 + 1)
    rng = np.random.default_rng(seed)
    rand = np.exp(rng.uniform(math.log(10.0**lo), math.log(100.0), n_random))
    vals = np.concatenate([mags, -mags, rand * rng.choice([-1.0, 1.0], n_random),
                           rng.uniform(-4, 4, n_random)])
    return torch.tensor(vals).to(getattr(torch, dtype)).double().numpy()


def _ulps(got: float, value: mp.mpf, scale: mp.mpf, dtype: str) -> float:
    return ref.ulp_error(got, value, max(abs(value), scale), dtype)


# ---------------------------------------------------------------- the rewrite
def _elementary(expr: sp.Expr) -> sp.Expr:
    """The printer vocabulary written back in exp (an independent reading of it)."""
    expr = expr.replace(lambda e: isinstance(e, TailTimes),
                        lambda e: e.args[0] * e.args[1] ** e.args[2])
    expr = expr.replace(lambda e: isinstance(e, XTimes),
                        lambda e: e.args[0] * e.args[1] ** e.args[2])
    expr = expr.replace(lambda e: isinstance(e, SigmoidLinear),
                        lambda e: 1 / (1 + sp.exp(-(e.args[0] * e.args[1] + e.args[2]))))
    expr = expr.replace(lambda e: isinstance(e, Sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    return expr.replace(lambda e: isinstance(e, Expm1), lambda e: sp.exp(e.args[0]) - 1)


def _sides(expr: sp.Expr) -> list[sp.Expr]:
    """Every way of resolving the Piecewise switches in ``expr`` (each side must be the
    function, whatever the condition that picks it)."""
    pws = list(expr.atoms(sp.Piecewise))
    if not pws:
        return [expr]
    out = []
    for value, _ in pws[0].args:
        out += _sides(expr.xreplace({pws[0]: value}))
    return out


def test_sqish_d_x_ends_taken_apart_and_exact():
    """Sqish's d/dx in stable form: no sigma(t)^2 (the cancelling ends), an expm1 side,
    and every side of the switch equal to mpmath.diff of the SPEC formula."""
    fc = derive(sqish())
    form = fc.first[0][0]
    assert form.kind == "sigmoid" and form.small.has(Expm1)
    powers = [p for p in form.small.atoms(sp.Pow) if isinstance(p.base, SigmoidLinear)]
    assert powers == [], powers
    x, (a, beta, gamma) = fc.x, (fc.symbols[n] for n in ("a", "beta", "gamma"))
    sides = _sides(form.small)
    assert len(sides) == 2
    mp.mp.dps = 50
    for av, bv, gv in ((-1, 1, 1), (-0.5, 2, 0.5), (0.25, 0.5, 3)):
        for xv in (-1.7, -0.013, 0.3, 2.5):
            want = mp.diff(lambda v: _sqish(v, mp.mpf(av), mp.mpf(bv), mp.mpf(gv)), mp.mpf(xv))
            for side in sides:
                got = _elementary(side).xreplace(
                    {a: sp.Float(av, 60), beta: sp.Float(bv, 60), gamma: sp.Float(gv, 60),
                     x: sp.Float(xv, 60)})
                assert abs(mp.mpf(str(sp.N(got, 50))) - want) < mp.mpf(10) ** -40, (av, xv)


def test_rule_is_not_by_name(tmp_path):
    """A user family of the same shape, x (2 sigma(2x) - 1) (x tanh x), gets the rule:
    its generated float64 d/dx = 2 sigma - 1 + 4 x sigma sigma(-1) is within 4 ULP of
    mpmath down to x = 1e-300 (the Bernstein form was 2e-17 / x ULP off)."""
    import importlib
    import sys

    from gemsym.codegen.writer import write_package

    X = sp.Symbol("x", real=True)
    act = Activation.from_expression("xtanh", X * (2 / (1 + sp.exp(-2 * X)) - 1), x=X,
                                     python_name="xtanh", class_name="XTanh")
    form = derive(act).first[0][0]
    assert form.small.has(Expm1)
    write_package([act], tmp_path / "ends_bridge")
    sys.path.insert(0, str(tmp_path))
    try:
        pkg = importlib.import_module("ends_bridge")
        xs = np.concatenate([np.logspace(-300, 1, 40), -np.logspace(-300, 1, 40)])
        got = pkg._formulas.xtanh_dx(torch.tensor(xs), exact=True).numpy()
    finally:
        sys.path.remove(str(tmp_path))
    for xv, g in zip(xs, got):
        mp.mp.dps = _dps(float(xv), -1.0, 0.5)
        want = mp.diff(lambda v: v * mp.tanh(v), mp.mpf(xv), h=abs(mp.mpf(xv)) * mp.mpf(10) ** -25)
        assert ref.ulp_error(float(g), want, abs(want), "float64") <= 4.0, (xv, g, want)


# ---------------------------------------------------------------- the generated package
@pytest.fixture(scope="module")
def tb():
    import torch_bridge
    from torch_bridge import _cpu_kernel

    yield torch_bridge
    _cpu_kernel.set_cpu_kernel(True)


@pytest.fixture(scope="module")
def kernel_built(tb):
    """Whether the C++ kernels are loaded (test_cpu_kernel.py builds them; here they are
    only used if a build is there, so this file stays fast)."""
    from torch_bridge import _cpu_kernel

    return "sqish" in (_cpu_kernel.loaded() or ())


def _grad_x(tb, xs: np.ndarray, a: float, dtype: str) -> np.ndarray:
    x = torch.tensor(xs).to(getattr(torch, dtype)).requires_grad_()
    y = tb.sqish(x, a=a, beta=1.0, gamma=1.0)
    (gx,) = torch.autograd.grad(y.sum(), x)
    return gx.double().numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16", "float16"])
@pytest.mark.parametrize("path", ["torch", "cpp"])
def test_sqish_d_x_through_zero(tb, kernel_built, path, dtype):
    from torch_bridge import _cpu_kernel, _runtime

    if path == "cpp" and (dtype == "float64" or not kernel_built):
        pytest.skip("float64 stays on the PyTorch path" if dtype == "float64"
                    else "C++ kernels not built (tests/test_cpu_kernel.py builds them)")
    previous = _runtime.get_backend()
    _runtime.set_backend("torch")
    _cpu_kernel.set_cpu_kernel(path == "cpp")
    try:
        xs = _xs(dtype)
        mant, emin, _ = ref.FORMATS[dtype]
        for a in A_VALUES:
            got = _grad_x(tb, xs, a, dtype)
            for xv, g in zip(xs, got):
                value, scale = _d_x(float(xv), a)
                if 0 < abs(value) < 2.0 ** (emin + mant + 1):
                    continue  # the underflow region of benchmarks/ERRORS.md
                err = _ulps(float(g), value, scale, dtype)
                assert err <= BOUND[dtype], (a, float(xv), float(g), float(value), err)
    finally:
        _runtime.set_backend(previous)
        _cpu_kernel.set_cpu_kernel(True)


def test_sqish_formulas_near_zero_relative(tb):
    """Every first and second derivative of Sqish (the PyTorch formulas, float64) within
    4 ULP of its own value for 1e-300 <= |x| <= 1e-3, where none of them has a zero
    (d2/dbeta dgamma and d2/dgamma2 carry a factor sigma(t) - sigma(-t) ~ t/2: taken out
    by ``stable._zero_factor``, 2e15 ULP before)."""
    from torch_bridge import _formulas

    xs = np.concatenate([np.logspace(-300, -3, 10), -np.logspace(-300, -3, 10)])
    X = torch.tensor(xs)
    names_first = ["d_x", "d_a", "d_beta", "d_gamma"]
    names_second = ["d_x_x", "d_x_a", "d_x_beta", "d_x_gamma", "d_a_a", "d_a_beta",
                    "d_a_gamma", "d_beta_beta", "d_beta_gamma", "d_gamma_gamma"]
    for a in (-1.0, -0.999, 0.25):
        ps = [torch.tensor(v, dtype=torch.float64) for v in (a, 1.0, 1.0)]
        got = dict(zip(names_first, _formulas.sqish_first(X, *ps, exact=True)))
        got.update(zip(names_second, _formulas.sqish_second(X, *ps, exact=True)))
        for i, xv in enumerate(xs):
            # up to x^4 (d2/dgamma2 ~ x^3 t): four times the digits below x
            mp.mp.dps = 4 * _dps(float(xv), a)
            P = [mp.mpf(float(xv)), mp.mpf(a), mp.mpf(1), mp.mpf(1)]
            # central differences are off by h^2 times a derivative ~ x^2 (in the
            # parameters) against values down to ~ x^3: steps of 1e-30 sqrt|x| there
            h = [abs(P[0]) * mp.mpf(10) ** -25, *([mp.sqrt(abs(P[0])) * mp.mpf(10) ** -30] * 3)]
            for name, values in got.items():
                idx = ["xabg".index(c[0]) for c in name[2:].split("_")]
                order = [idx.count(k) for k in range(4)]
                want = mp.diff(lambda *v: _sqish(*v), P, tuple(order),
                               h=min(h[k] for k in set(idx)))
                g = float(values[i])
                if abs(want) < 2.0 ** -968:
                    continue  # underflow region
                assert ref.ulp_error(g, want, abs(want), "float64") <= 4.0, (a, name, xv, g)
