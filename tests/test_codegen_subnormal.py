"""Products c v of a factor v = g e^u that vanishes (e^u, sigma, erfc, Softplus, tanh of
one) in float64, where e^u is below the normal range: the generated code evaluates them as
sign(c) exp(u + log|c g|) (``_compensated._exp_tail``, decided by ``TorchPrinter``), not as c
times a subnormal e^u that kept a few bits.  Inputs are where the catalogue measurement
(benchmarks/ERRORS.md) found the defects, plus a sweep of each tail band; references are the
mpmath formulas of ``catalogue_reference`` (written from the papers, independent of the
generated formulas)."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import catalogue_reference as cref  # noqa: E402

from gemsym.families import get_family  # noqa: E402
from generated_package import generated_package  # noqa: E402

MEMBERS = ("gelu", "gelu-beta", "gelu-tanh", "mish", "tanhexp", "softplus")


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    """One generated package holding the members under test."""
    with generated_package(tmp_path_factory, "codegen_subnormal", MEMBERS) as package:
        yield package


def _errors(bridge, name: str, params: dict, xs, q: str) -> np.ndarray:
    """float64 ULP errors (catalogue measure) of quantity ``q`` at ``xs``: f and d/dx through
    the op and autograd, a parameter derivative from the formulas' ``_first``."""
    act = get_family(name)
    reals = [params[p.name] for p in act.parameters if not p.integer]
    x = torch.tensor(np.asarray(xs, dtype=np.float64)).requires_grad_()
    if q in ("f", "d_x"):
        y = getattr(bridge, act.identifier)(x, *reals)
        got = y.detach() if q == "f" else torch.autograd.grad(y.sum(), x)[0]
    else:
        ps = [torch.tensor(float(v), dtype=torch.float64) for v in reals]
        first = getattr(bridge._formulas, f"{act.identifier}_first")(x.detach(), *ps, exact=True)
        names = [f"d_{p.name}" for p in act.parameters if not p.integer]
        got = torch.broadcast_to(first[1 + names.index(q)], x.shape)
    ref = cref.reference_arrays((name, params, "float64", x.detach().numpy()))[q]
    return cref.ulp_errors(got.double().numpy(), ref, "float64")


#: (member, parameters, quantity, measured worst input, tail band): the worst inputs of the
#: catalogue measurement before (17, 7, 7, 286, 1030, 344, 344, 343, 343 ULP)
CASES = [
    ("gelu", {}, "f", -37.6877032, (-38.5, -37.65)),
    ("gelu", {}, "d_x", -37.7573291, (-38.5, -37.65)),
    ("gelu-beta", {"beta": 1.0}, "d_x", -37.7573291, (-38.5, -37.65)),
    ("gelu-tanh", {}, "f", -21.1872659, (-21.6, -21.15)),
    ("gelu-tanh", {}, "d_x", -21.4940035, (-21.6, -21.15)),
    ("mish", {}, "f", -735.015702, (-745.0, -700.0)),
    ("mish", {}, "d_x", -725.745755, (-745.0, -700.0)),
    ("tanhexp", {}, "f", -725.745755, (-745.0, -700.0)),
    ("tanhexp", {}, "d_x", -725.745755, (-745.0, -700.0)),
    ("softplus", {"beta": 1.0}, "d_beta", -725.745755, (-745.0, -700.0)),
]


@pytest.mark.parametrize("name, params, q, worst, band", CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_subnormal_tail_within_4_ulp(bridge, name, params, q, worst, band):
    xs = np.concatenate([[worst], np.linspace(*band, 61)])
    errs = _errors(bridge, name, params, xs, q)
    assert np.all(errs <= 4.0), {float(x): float(e) for x, e in zip(xs, errs) if e > 4.0}


def test_exp_tail_against_mpmath():
    """``_exp_tail(p, c, u)`` = c e^u within 2 ULP of mpmath's value at 50 digits where
    u < -708.4 (results subnormal and, for |c| > 1, normal; 1.5 measured, torch.exp's own
    error included), the argument's low part included;
    p where u is above the threshold, and p where c is 0, inf or NaN."""
    from gemsym.codegen.runtime._compensated import _exp_tail

    rng = np.random.default_rng(7)
    u = rng.uniform(-760.0, -708.5, 4000)
    lo = rng.uniform(-1e-14, 1e-14, 4000)
    c = np.exp(rng.uniform(-5.0, 40.0, 4000)) * rng.choice([-1.0, 1.0], 4000)
    tu, tl, tc = (torch.tensor(v) for v in (u, lo, c))
    sentinel = torch.full_like(tu, 7.0)
    got = _exp_tail(sentinel, tc, (tu, tl)).numpy()
    mp.mp.dps = 50
    tiny = 2.0 ** -1074
    worst = 0.0
    for ui, li, ci, gi in zip(u, lo, c, got):
        ref = mp.mpf(ci) * mp.exp(mp.mpf(ui) + mp.mpf(li))
        spacing = max(tiny, 2.0 ** (math.frexp(abs(float(ref)))[1] - 53)) if ref else tiny
        worst = max(worst, float(abs(mp.mpf(gi) - ref)) / spacing)
    assert worst <= 2.0, worst
    f64 = dict(dtype=torch.float64)
    edge = _exp_tail(torch.tensor([1.0, 2.0, 3.0, 4.0], **f64),
                     torch.tensor([5.0, 0.0, math.inf, math.nan], **f64),
                     (torch.tensor([-700.0, -720.0, -720.0, -720.0], **f64), None))
    assert edge.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_vanishing_factors_structure():
    """sigma(s) sigma(-s) is one tail e^{-|s|}; e^x tanh(e^x) one tail e^{2x}; sigma of a
    positive argument (2 Softplus(x)) is no tail; erfc(t) is erfcx(t) e^{-t|t|}."""
    import sympy as sp

    from gemsym.codegen.rules import Erfc, Softplus
    from gemsym.codegen.stable import Sigmoid
    from gemsym.codegen.tails import Erfcx, vanishing_factors

    x = sp.Symbol("x", real=True)
    s = x**3 + x
    assert vanishing_factors([Sigmoid(s), x, Sigmoid(-s)], x) == [({0, 2}, -sp.Abs(s), 1)]
    assert vanishing_factors([sp.exp(x), sp.tanh(sp.exp(x)), x], x) == [({0, 1}, 2 * x, 1)]
    assert vanishing_factors([Sigmoid(2 * Softplus(x)), x], x) == []
    ((idx, u, g),) = vanishing_factors([x, Erfc(-x)], x)
    assert idx == {1} and sp.simplify(u - x * sp.Abs(x)) == 0 and g == Erfcx(-x)


#: (member, quantity, tail band) in float32 (x^2/2, |s| or -x near float32's underflow)
CASES32 = [("gelu", "f", (-14.2, -13.0)), ("gelu", "d_x", (-14.2, -13.0)),
           ("gelu-tanh", "f", (-10.3, -9.0)), ("gelu-tanh", "d_x", (-10.3, -9.0)),
           ("mish", "f", (-104.0, -85.0)), ("mish", "d_x", (-104.0, -85.0))]


@pytest.mark.parametrize("name, q, band", CASES32, ids=[f"{c[0]}-{c[1]}" for c in CASES32])
def test_float32_exact_path_tail_within_4_ulp(bridge, name, q, band):
    """The formulas' ``exact`` path in float32 (the compute dtype of float32 inputs on a
    GPU): the same tails with float32's threshold (before: gelu f 6.4, gelu-tanh d_x 193,
    mish f 151 ULP)."""
    act = get_family(name)
    xs = np.linspace(*band, 201).astype(np.float32).astype(np.float64)
    fn = getattr(bridge._formulas, f"{act.identifier}_{'f' if q == 'f' else 'first'}")
    got = fn(torch.tensor(xs, dtype=torch.float32), exact=True)
    got = got[0] if isinstance(got, tuple) else got
    ref = cref.reference_arrays((name, {}, "float32", xs))[q]
    errs = cref.ulp_errors(got.double().numpy(), ref, "float32")
    assert np.all(errs <= 4.0), {float(x): float(e) for x, e in zip(xs, errs) if e > 4.0}


def test_exp_tail_compiles():
    """``_exp_tail`` under ``torch.compile(fullgraph=True)`` (CPU code: frexp's int32
    exponent did not compile) gives eager's values to 1 ULP in the tail."""
    from gemsym.codegen.runtime._compensated import _exp_tail

    u = torch.linspace(-760.0, -700.0, 257, dtype=torch.float64)
    c = torch.linspace(-40.0, 3e4, 257, dtype=torch.float64)
    p = torch.zeros_like(u)
    eager = _exp_tail(p, c, (u, None))
    compiled = torch.compile(lambda p, c, u: _exp_tail(p, c, (u, None)), fullgraph=True)(p, c, u)
    spacing = torch.clamp_min(torch.abs(eager), 2.0 ** -1022) * 2.0 ** -52
    assert bool((torch.abs(compiled - eager) <= spacing).all())
