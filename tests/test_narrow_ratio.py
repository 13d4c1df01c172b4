"""Sums over a sigmoid's two sides as one quotient on the narrow path
(``gemsym.codegen.narrow.ratio``): which forms are rewritten and which are refused, and the
generated Sqish forward that takes it against mpmath at 60 digits, in every narrow dtype,
beyond the clamp of its exponential, at +-0 and at +-inf."""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import sympy as sp

from gemsym.codegen.derive import derive
from gemsym.codegen.narrow import sigmoid_ratios
from gemsym.codegen.scalar_case import default_values
from gemsym.codegen.stable import SigmoidLinear, SigmoidRatio, StableForm, XTimes
from gemsym.families import get_family

torch = pytest.importorskip("torch")

from tests.generated_package import generated_package  # noqa: E402
from tests.numerics_reference import sqish, ulp_error  # noqa: E402

X = sp.Symbol("x", real=True)


def _sqish_case(group: str):
    code = derive(get_family("sqish"))
    reals = [code.symbols[p.name] for p in code.real_params]
    defaults = {code.symbols[p.name]: p.default for p in code.real_params}
    outputs = {"f": [("y", code.forward[0])], "dx": [("d_x", code.first[0])]}[group]
    values, forms = default_values(outputs, code.x, reals, defaults)
    return code, values, forms


def test_sqish_forward_becomes_one_quotient():
    """a >= 0 (the case's a < 0 false): x sigma(s) + a x sigma(-s) ... as x (a + E)/(1 + E):
    one SigmoidRatio with a on sigma(s) and 1 on sigma(-s), times x."""
    code, values, forms = _sqish_case("f")
    [(name, (form,))] = sigmoid_ratios(forms, code.x, values)
    assert name == "y" and isinstance(form.small, XTimes) and int(form.small.args[2]) == 1
    ratio = form.small.args[0]
    assert isinstance(ratio, SigmoidRatio) and not form.small.has(SigmoidLinear)
    p, n, c, _, d = ratio.args
    a, beta, gamma = (code.symbols[k] for k in ("a", "beta", "gamma"))
    assert (p, n) == (a, 1)
    assert sp.simplify(c - 2 * gamma * (a - 1)) == 0 and sp.simplify(d - sp.log(beta)) == 0
    assert form.limits == forms[0][1][0].limits


def test_refused_without_the_sign_of_the_coefficients():
    """Without a >= 0 the numerator a + E may cancel: the forms stay as they are."""
    code, _, forms = _sqish_case("f")
    assert sigmoid_ratios(forms, code.x, {}) == [(n, tuple(fs)) for n, fs in forms]


def test_refused_where_the_pair_is_needed_anyway():
    """Sqish's f' has sigma(s) sigma(-s) x besides its sides: the pair stays, so does the
    sum of the sides (a quotient would add an exponential)."""
    code, values, forms = _sqish_case("dx")
    assert sigmoid_ratios(forms, code.x, values) == [(n, tuple(fs)) for n, fs in forms]


@pytest.mark.parametrize("k, coeff, rewritten", [
    (1, 1, True), (4, 1, True),        # x^k sigma(x): K_p = 1, K_n = 0
    (5, 1, False),                     # x^5 (K_n = 0): the clamp's value would not underflow
    (1, sp.Symbol("b", positive=True) * sp.Symbol("c", positive=True), False),  # unbounded
    (1, sp.Symbol("b", positive=True), True),
    (1, sp.Float(2.0**130), False),
])
def test_single_side_and_its_bounds(k, coeff, rewritten):
    """K x^k sigma(x) alone (K_n = 0: the product K_p K_n is 0): rewritten for k <= 4 and K
    a number below 2^128 or one real parameter; refused beyond."""
    form = StableForm("sigmoid", XTimes(coeff * SigmoidLinear(1, X, 0), X, k), None,
                      (sp.S.Zero, sp.oo))
    [(_, (out,))] = sigmoid_ratios([("y", (form,))], X, {})
    assert (out.small.has(SigmoidRatio) and not out.small.has(SigmoidLinear)) == rewritten


def test_two_sigmoids_of_different_arguments_are_refused():
    small = SigmoidLinear(1, X, 0) + SigmoidLinear(2, X, 0)
    form = StableForm("sigmoid", small, None, (sp.S.Zero, sp.Integer(2)))
    [(_, (out,))] = sigmoid_ratios([("y", (form,))], X, {})
    assert out.small == small


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    with generated_package(tmp_path_factory, "ratio", ("sqish",)) as pkg:
        yield pkg


#: (a, beta, gamma): the default, the paper's values, large and tiny slopes and offsets
PARAMS = [(0.0, 1.0, 1.0), (0.25, 2.0, 0.5), (0.7, 0.3, 3.0), (0.0, 1e-20, 1e-3),
          (0.5, 1e30, 100.0), (0.999, 1.0, 1e5)]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _inputs() -> torch.Tensor:
    g = torch.Generator().manual_seed(5)
    return torch.cat([torch.randn(600, generator=g, dtype=torch.float64) * 4,
                      torch.exp(torch.randn(600, generator=g, dtype=torch.float64) * 30)
                      * torch.sign(torch.randn(600, generator=g, dtype=torch.float64)),
                      # around and beyond the clamp of E at 600 for the slopes above
                      torch.tensor([799.0, 801.0, 1200.0, -1200.0, 1e4, -1e4, 1e30, -1e30,
                                    3.4e38, -3.4e38, 1e-45, -1e-45, 1e-30, -1e-30],
                                   dtype=torch.float64)])


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("dtype", list(DTYPES))
def test_sqish_forward_against_mpmath(bridge, params, dtype):
    """The narrow Sqish forward (x (a + E)/(1 + E)) rounds to the float32, bfloat16 or
    float16 value nearest the exact one (within 10^-6 ULP of half a unit: the float64
    roundings before it), keeps the sign of zero and gives the limits at +-inf (0 at -inf
    for a = 0, where the quotient's a x would be 0 * inf)."""
    mp.mp.dps = 60
    F = bridge._formulas
    p = [torch.tensor(v, dtype=torch.float64) for v in params]
    x = _inputs().to(DTYPES[dtype]).double()
    with torch.no_grad():
        y = F.sqish_f(x, *p, exact=False, narrow=True).to(DTYPES[dtype]).double()
    a, beta, gamma = params
    for xi, yi in zip(x.tolist(), y.tolist()):
        if not math.isfinite(xi):  # (a sample beyond the dtype's range; +-inf below)
            continue
        value, scale = sqish(xi, a, beta, gamma)["f"]
        assert ulp_error(yi, value, scale, dtype) <= 0.5 + 1e-6, (xi, yi, value)
        if xi == 0.0:
            assert math.copysign(1.0, yi) == math.copysign(1.0, xi)
    special = torch.tensor([math.inf, -math.inf, math.nan], dtype=torch.float64)
    with torch.no_grad():
        ys = F.sqish_f(special, *p, exact=False, narrow=True).tolist()
    assert ys[0] == math.inf and math.isnan(ys[2])
    assert ys[1] == (-math.inf if a > 0 else 0.0)


def test_families_without_parameter_conditions():
    """SiLU's and Swish-beta's f (x sigma(beta x)) and Softplus's f' (sigma(beta x)) take
    the quotient with no condition to know (K_n = 0); SiLU's f', whose sigma sigma(-x) x
    term needs the pair, does not (``ratio_forms``: None)."""
    from gemsym.codegen.narrow import ratio_forms

    for name, group, rewritten in (("silu", "f", True), ("swish", "f", True),
                                   ("softplus", "dx", True), ("silu", "dx", False)):
        code = derive(get_family(name))
        outputs = {"f": [("y", code.forward[0])], "dx": [("d_x", code.first[0])]}[group]
        forms = ratio_forms(outputs, code.x)
        assert (forms is not None) == rewritten, (name, group)
        if rewritten:
            [(_, (form,))] = forms
            ratio = next(iter(form.small.atoms(SigmoidRatio)))
            assert ratio.args[:2] == (1, 0) and not form.small.has(SigmoidLinear)


#: (K_p, K_n) with K_p K_n >= 0: Sqish's (a, 1), SiLU's (1, 0), both orientations of the
#: difference, negative pairs, a tiny base and equal sides
SIDES = [(0.25, 1.0), (1.0, 0.0), (0.0, 1.0), (3.0, 0.5), (0.5, 3.0), (-2.0, -0.5),
         (-0.5, -2.0), (1e-30, 1.0), (1.0, 1e-30), (2.0, 2.0), (0.0, -1.0), (-0.0, 4.0)]


def _ratio_reference(p: float, n: float, u: float):
    """p sigma(-u) + n sigma(u) at 60 digits."""
    s = 1 / (1 + mp.exp(-mp.mpf(u)))
    return mp.mpf(p) * (1 - s) + mp.mpf(n) * s if u < 0 else (
        mp.mpf(p) / (1 + mp.exp(mp.mpf(u))) + mp.mpf(n) * s)


@pytest.mark.parametrize("compiled", [False, True], ids=["sigmoid", "quotient"])
@pytest.mark.parametrize("p, n", SIDES)
def test_sigmoid_ratio_against_mpmath(bridge, monkeypatch, p, n, compiled):
    """``_sigmoid_ratio`` (K_p sigma(-u) + K_n sigma(u), u = nc x + nd) within 6 units of
    2^-53 of its value at the float64 u it forms, beyond a floor of max(|K_p|, |K_n|)
    2^-800 (the quotient's clamp at 600; the sigmoid's 0 beyond u = -709.78): by the
    sigmoid with the sides' values read, in the orientation whose terms have one sign, and
    by the quotient where 0-d tensors cannot be read (a compiled trace, ``is_compiling``;
    Python numbers are read there too).  Outside a trace, K_p and K_n given as Python
    numbers and as 0-d float64 tensors give the same bits; +-inf give K_n and K_p exactly
    (the quotient: K_n within the floor), NaN gives NaN."""
    mp.mp.dps = 60
    R = bridge._runtime._sigmoid_ratio
    if compiled:
        monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    g = torch.Generator().manual_seed(11)
    x = torch.cat([torch.linspace(-800.0, 800.0, 801, dtype=torch.float64),
                   torch.rand(400, generator=g, dtype=torch.float64) * 80 - 40,
                   torch.tensor([0.0, -0.0, 1e-300, -1e-300, 709.5, -709.5, -709.9, -745.0],
                                dtype=torch.float64)])
    nc, nd = 1.7, torch.tensor(-0.75, dtype=torch.float64)
    u = (nc * x + nd).tolist()
    got = R(p, n, nc, x, nd)
    as_tensors = R(torch.tensor(p, dtype=torch.float64), torch.tensor(n, dtype=torch.float64),
                   nc, x, nd)
    assert compiled or torch.equal(got, as_tensors)
    floor = max(abs(p), abs(n)) * 2.0 ** -800
    for ui, yi, yt in zip(u, got.tolist(), as_tensors.tolist()):
        ref = _ratio_reference(p, n, ui)
        for y in (yi, yt):
            assert abs(mp.mpf(y) - ref) <= 6 * 2.0 ** -53 * abs(ref) + floor, (p, n, ui, y)
    ends = torch.tensor([math.inf, -math.inf, math.nan], dtype=torch.float64)
    for pp, nn in ((p, n), (torch.tensor(p, dtype=torch.float64),
                            torch.tensor(n, dtype=torch.float64))):
        y = R(pp, nn, nc, ends, nd).tolist()
        assert abs(y[0] - n) <= floor and y[1] == p and math.isnan(y[2])
        assert compiled or y[0] == n


def test_sigmoid_ratio_keeps_the_graph_of_sides_that_require_grad(bridge):
    """Sides that require grad are not read as numbers (the graph would lose them): the
    gradient of sum K_p sigma(-u) + K_n sigma(u) is sum sigma(-u) for K_p and sum sigma(u)
    for K_n, against mpmath."""
    mp.mp.dps = 40
    x = torch.linspace(-30.0, 30.0, 61, dtype=torch.float64)
    p = torch.tensor(0.25, dtype=torch.float64, requires_grad=True)
    n = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    bridge._runtime._sigmoid_ratio(p, n, 1.5, x, 0.0).sum().backward()
    sig = [1 / (1 + mp.exp(-1.5 * mp.mpf(v))) for v in x.tolist()]
    assert float(abs(mp.mpf(n.grad.item()) - sum(sig)) / sum(sig)) < 1e-13
    rest = sum(1 - s for s in sig)
    assert float(abs(mp.mpf(p.grad.item()) - rest) / rest) < 1e-13
