"""Generated code for activations from the literature, defined here as a user would (an
``Activation`` in a few lines), against mpmath references written independently of the
generated formulas (50 digits, hand-derived derivatives, each checked against
``mpmath.diff`` at a few points).

Bounds (the code-generation accuracy contract): no inf/NaN where the true value is finite;
the forward value within 4 ULP of the true value (relative); d/dx within 4 ULP of
max(|true value|, largest term of the reference's sum).  Inputs span each dtype's range
(tiny, huge, +-0, subnormal) and a dense grid around the junctions and zeros.
"""

from __future__ import annotations

import importlib
import math
import os
import sys

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from gemsym.activation import X, Activation
from gemsym.cli import main
from gemsym.codegen import write_package
from gemsym.parameters import positive_integer, positive_real, real_below
from tests.generated_package import generated_package

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    # the Triton kernels of the generated packages run in the interpreter on CPU (read
    # when a package's _kernels module is first imported)
    os.environ.setdefault("TRITON_INTERPRET", "1")


# ------------------------------------------------------------------ user families
def squareplus() -> Activation:
    b = positive_real("b", 4, "curvature at 0")
    return Activation.from_branches("squareplus", [(X + sp.sqrt(X**2 + b.symbol)) / 2],
                                    parameters=(b,))


def isrlu() -> Activation:
    alpha = positive_real("alpha", 1, "saturation 1/sqrt(alpha)")
    return Activation.from_branches("isrlu", [X / sp.sqrt(1 + alpha.symbol * X**2), X], [0],
                                    parameters=(alpha,))


def softplus_beta() -> Activation:
    beta = positive_real("beta", 1, "sharpness")
    B = beta.symbol
    return Activation.from_branches("softplus-beta", [sp.log(1 + sp.exp(B * X)) / B],
                                    parameters=(beta,))


def mish() -> Activation:
    return Activation.from_branches("mish", [X * sp.tanh(sp.log(1 + sp.exp(X)))])


GELU_C = sp.Rational(44715, 1000000)


def gelu_tanh() -> Activation:
    z = sp.sqrt(2 / sp.pi) * (X + GELU_C * X**3)
    return Activation.from_branches("gelu-tanh", [X / 2 * (1 + sp.tanh(z))])


def hardswish() -> Activation:
    return Activation.from_branches("hardswish", [sp.S.Zero, X * (X + 3) / 6, X], [-3, 3])


def smelu() -> Activation:
    beta = positive_real("beta", 1, "half-width of the quadratic part")
    B = beta.symbol
    return Activation.from_branches("smelu", [sp.S.Zero, (X + B) ** 2 / (4 * B), X], [-B, B],
                                    parameters=(beta,))


def elu() -> Activation:
    alpha = positive_real("alpha", 1, "saturation -alpha")
    return Activation.from_branches("elu", [alpha.symbol * (sp.exp(X) - 1), X], [0],
                                    parameters=(alpha,))


def xlogx() -> Activation:
    return Activation.from_branches("xlogx", [sp.S.Zero, X * sp.log(X)], [0])


def silu_beta() -> Activation:
    beta = positive_real("beta", 1, "sharpness")
    return Activation.from_branches("silu-beta", [X / (1 + sp.exp(-beta.symbol * X))],
                                    parameters=(beta,))


def sqish_tanh() -> Activation:
    """Sqish with a = -1, beta = 1: x tanh(2 gamma x) (the gate crosses zero at x = 0)."""
    a = real_below("a", 1, -1, "slope as x -> -oo")
    beta = positive_real("beta", 1, "shift")
    gamma = positive_real("gamma", 1, "sharpness")
    A, B, G = a.symbol, beta.symbol, gamma.symbol
    return Activation.from_branches(
        "sqish-a", [A * X + (1 - A) * X / (1 + B * sp.exp(-2 * G * (1 - A) * X))],
        parameters=(a, beta, gamma))


# ------------------------------------------------------------------ references (mpmath)
mpf = mp.mpf


def _sig(t):
    return 1 / (1 + mp.exp(-t))


def _gelu_z(x):
    return mp.sqrt(2 / mp.pi) * (x + mpf(44715) / 10**6 * x**3)


# name -> (factory, parameters, f(x), terms of f'(x))
REFERENCES = {
    "squareplus": (squareplus, {"b": 4.0},
                   # for x < 0 through the conjugate: x + sqrt(x^2 + 4) cancels in mpmath too
                   lambda x: (x + mp.sqrt(x * x + 4)) / 2 if x >= 0
                   else 2 / (mp.sqrt(x * x + 4) - x),
                   lambda x: [mpf(1) / 2, x / (2 * mp.sqrt(x * x + 4))]),
    "isrlu": (isrlu, {"alpha": 1.0},
              lambda x: x / mp.sqrt(1 + x * x) if x < 0 else x,
              lambda x: [(1 + x * x) ** mpf(-1.5)] if x < 0 else [mpf(1)]),
    "softplus_beta": (softplus_beta, {"beta": 2.0},
                      lambda x: mp.log1p(mp.exp(2 * x)) / 2,
                      lambda x: [_sig(2 * x)]),
    "mish": (mish, {},
             lambda x: x * mp.tanh(mp.log1p(mp.exp(x))),
             lambda x: [mp.tanh(mp.log1p(mp.exp(x))),
                        x * mp.sech(mp.log1p(mp.exp(x))) ** 2 * _sig(x)]),
    "gelu_tanh": (gelu_tanh, {},
                  # 1 + tanh(z) = 2 / (1 + e^{-2z}): no cancellation at 50 digits
                  lambda x: x / (1 + mp.exp(-2 * _gelu_z(x))),
                  lambda x: [1 / (1 + mp.exp(-2 * _gelu_z(x))),
                             x / 2 * mp.sech(_gelu_z(x)) ** 2 * mp.sqrt(2 / mp.pi)
                             * (1 + 3 * mpf(44715) / 10**6 * x * x)]),
    "hardswish": (hardswish, {},
                  lambda x: 0 if x < -3 else (x * (x + 3) / 6 if x < 3 else x),
                  lambda x: [mpf(0)] if x < -3 else ([x / 3, mpf(1) / 2] if x < 3 else [mpf(1)])),
    # beta = 0.7 as the Python float the user passes (used at full precision)
    "smelu": (smelu, {"beta": 0.7},
              lambda x: 0 if x < -mpf(0.7) else ((x + mpf(0.7)) ** 2 / (4 * mpf(0.7))
                                                   if x < mpf(0.7) else x),
              lambda x: [mpf(0)] if x < -mpf(0.7) else (
                  [(x + mpf(0.7)) / (2 * mpf(0.7))] if x < mpf(0.7) else [mpf(1)])),
    "elu": (elu, {"alpha": 1.0},
            lambda x: mp.expm1(x) if x < 0 else x,
            lambda x: [mp.exp(x)] if x < 0 else [mpf(1)]),
    "xlogx": (xlogx, {},
              lambda x: 0 if x <= 0 else x * mp.log(x),
              lambda x: [mpf(0)] if x < 0 else ([mp.log(x), mpf(1)] if x > 0 else None)),
    "silu_beta": (silu_beta, {"beta": 1.5},
                  lambda x: x * _sig(mpf(1.5) * x),
                  lambda x: [_sig(mpf(1.5) * x), mpf(1.5) * x * _sig(mpf(1.5) * x)
                             * _sig(-mpf(1.5) * x)]),
    "sqish_a": (sqish_tanh, {"a": -1.0, "beta": 1.0, "gamma": 1.0},
                lambda x: x * mp.tanh(2 * x),
                # f' = g + x g' with the gate g = -1 + 2 sigma(4x): its terms set the scale
                lambda x: [mpf(-1), 2 * _sig(4 * x), 8 * x * _sig(4 * x) * _sig(-4 * x)]),
}


def test_references_agree_with_numerical_differentiation():
    mp.mp.dps = 50
    for name, (_, _, f, terms) in REFERENCES.items():
        for x in (mpf("-3.7"), mpf("-0.45"), mpf("0.3"), mpf("2.2")):
            want = mp.diff(f, x)
            got = sum(terms(x))
            assert abs(got - want) <= mpf(10) ** -30 * max(1, abs(want)), (name, x)


# ------------------------------------------------------------------ generated package
@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    acts = [spec[0]() for spec in REFERENCES.values()]
    write_package(acts, root / "general_bridge")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("general_bridge")
    finally:
        sys.path.remove(str(root))


def _inputs(dtype) -> np.ndarray:
    info = np.finfo(dtype)
    tiny, big = float(info.smallest_subnormal), float(info.max)
    mags = np.logspace(math.log10(tiny), math.log10(big) - 1e-9, 700)
    dense = np.linspace(-12, 12, 721)
    special = [0.0, -0.0, tiny, -tiny, float(info.tiny), 1.0, -1.0, -3.0, 3.0, 0.7, -0.7,
               math.nextafter(-3.0, 0), math.nextafter(-0.7, 0), 1e-20, -1e-20]
    xs = np.concatenate([mags, -mags, dense, special]).astype(dtype)
    return xs[np.isfinite(xs)]


def _ulp(v: float, dtype) -> float:
    info = np.finfo(dtype)
    v = abs(v)
    if v < float(info.tiny):
        return float(info.smallest_subnormal)
    return 2.0 ** (math.floor(math.log2(v)) - info.nmant)


def _measure(bridge, name: str, dtype) -> tuple[float, float, list]:
    """(max forward ULP (relative), max d/dx ULP (largest term), non-finite failures)."""
    _, params, f, terms = REFERENCES[name]
    fn = getattr(bridge, name)
    xs = _inputs(dtype)
    x = torch.tensor(xs, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
    y = fn(x, **params)
    (g,) = torch.autograd.grad(y.sum(), x)
    y, g = y.detach().double().numpy(), g.double().numpy()
    hi = float(np.finfo(dtype).max)
    worst_f = worst_d = 0.0
    bad = []
    for xi, yi, gi in zip(xs.tolist(), y.tolist(), g.tolist()):
        xm = mpf(xi)
        want = f(xm)
        if abs(want) <= hi:
            if not math.isfinite(yi):
                bad.append(("f", xi, yi, float(want)))
            else:
                # a true value below the dtype's smallest subnormal rounds to 0 or it
                err = abs(mpf(yi) - want) / _ulp(float(want), dtype)
                worst_f = max(worst_f, float(err))
        parts = terms(xm)
        if parts is None:
            continue
        d = sum(parts)
        scale = max([abs(d)] + [abs(p) for p in parts])
        if scale <= hi:
            if not math.isfinite(gi):
                bad.append(("d_x", xi, gi, float(d)))
            else:
                worst_d = max(worst_d, float(abs(mpf(gi) - d) / _ulp(float(scale), dtype)))
    return worst_f, worst_d, bad


#: Measured exceptions to the 4-ULP forward bound, with their cause.  GELU-tanh in float64:
#: sigma(2 z) with z = c (x + 0.044715 x^3) rounded once; deep in the left tail (x < -8,
#: 2|z| > 40) sigma's relative condition number is 2|z|, so z's half-ULP becomes up to
#: ~2|z| ULP, at most ~745 before sigma underflows (measured 180 ULP at x = -12.9 and 448
#: further out; a compensated cubic would remove it).
#: Other measured float64 exceptions, left open:
#: mish f and d/dx for x < -708: e^x is subnormal (fewer than 53 significant bits), so the
#: subnormal results (|f| < 1e-305) carry its error (measured 293 and 1.3e8 ULP of the
#: smallest subnormal); gelu-tanh d/dx: z's rounding as above.
FORWARD_BOUND = {("gelu_tanh", "float64"): 800.0, ("mish", "float64"): 300.0}
DERIVATIVE_BOUND = {("gelu_tanh", "float64"): 800.0, ("mish", "float64"): 1.3e8}
#: softplus_beta f = softplus(beta x)/beta: beta x overflows for x > max/beta (float64: one
#: input of the sweep); the only non-finite outputs allowed
OVERFLOW = {"softplus_beta": lambda x: abs(2 * x) > 1.7976931348623157e308}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(REFERENCES))
def test_generated_accuracy(bridge, name, dtype):
    mp.mp.dps = 50
    worst_f, worst_d, bad = _measure(bridge, name, dtype)
    bad = [b for b in bad if not OVERFLOW.get(name, lambda x: False)(b[1])]
    assert not bad, bad[:5]
    assert worst_f <= FORWARD_BOUND.get((name, np.dtype(dtype).name), 4.0), (name, worst_f)
    assert worst_d <= DERIVATIVE_BOUND.get((name, np.dtype(dtype).name), 4.0), (name, worst_d)


# ------------------------------------------------------------------ the catalogue
#: Measured exceptions to "no NaN where the true value is finite", with their cause:
#: TanhExp d/dx = tanh(e^x) + x e^x sech^2(e^x) is inf * 0 once e^x overflows (x > 709 in
#: float64, > 88 in float32 compute); its value there is 1.
NAN_EXCEPTIONS = {("tanhexp", "d_x")}


@pytest.fixture(scope="module")
def catalogue_bridge(tmp_path_factory):
    from gemsym.families import FAMILIES, get_family

    root = tmp_path_factory.mktemp("catalogue")
    acts = [get_family(name) for name in FAMILIES]
    write_package(acts, root / "catalogue_bridge")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("catalogue_bridge"), acts
    finally:
        sys.path.remove(str(root))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_catalogue_exhaustive_16bit_has_no_nan(catalogue_bridge, dtype):
    """Every catalogue member at its defaults: f and d/dx are never NaN (every member is
    finite on the real line).  Every finite 16-bit value for the members with exp, erf,
    tanh or square roots near the tails (Sqish, GELU, Mish, Squareplus, Softplus), every
    7th bit pattern (all exponents) for the others, to keep the sweep short."""
    bridge, acts = catalogue_bridge
    bits = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16)
    every = bits.view(getattr(torch, dtype))
    every = every[torch.isfinite(every)]
    failures = []
    for act in acts:
        full = act.name in ("sqish", "gelu", "mish", "squareplus", "softplus")
        x = every if full else every[::7]
        xg = x.clone().requires_grad_()
        y = getattr(bridge, act.identifier)(xg)
        (g,) = torch.autograd.grad(y.sum(), xg)
        for what, v in (("f", y), ("d_x", g)):
            if (act.identifier, what) not in NAN_EXCEPTIONS and bool(torch.isnan(v).any()):
                failures.append((act.name, what, x[torch.isnan(v)][:3].tolist()))
    assert not failures, failures


def test_catalogue_members_generate_through_the_cli(tmp_path, capsys):
    """``gemsym codegen --family NAME`` for members with branches, symbolic junctions and
    keyword-named parameters; an unprintable construct is exit 2 with one line naming it."""
    for name in ("smelu", "selu", "squareplus"):
        assert main(["codegen", "--family", name, "--out", str(tmp_path / name.replace("-", "_"))]) == 0
    capsys.readouterr()
    module = tmp_path / "user_gamma.py"
    module.write_text("import sympy as sp\nfrom gemsym.activation import Activation, X\n"
                      "def fam():\n    return Activation.from_branches('lgam', "
                      "[X * sp.loggamma(1 + X**2)])\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert main(["codegen", "--family", "user_gamma:fam", "--out", str(tmp_path / "g")]) == 2
    finally:
        sys.path.remove(str(tmp_path))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "loggamma" in err, err


# ------------------------------------------------------------------ parameter gradients
#: name -> (parameter, terms of df/dtheta at x) with the parameters of REFERENCES
PARAMETER_TERMS = {
    "squareplus": ("b", lambda x: [1 / (4 * mp.sqrt(x * x + 4))]),
    "softplus_beta": ("beta", lambda x: [x * _sig(2 * x) / 2, -mp.log1p(mp.exp(2 * x)) / 4]),
    "smelu": ("beta", lambda x: [mpf(0)] if x < -mpf(0.7) or x >= mpf(0.7) else
              [(x + mpf(0.7)) / (2 * mpf(0.7)), -(x + mpf(0.7)) ** 2 / (4 * mpf(0.7) ** 2)]),
    "elu": ("alpha", lambda x: [mp.expm1(x)] if x < 0 else [mpf(0)]),
    "isrlu": ("alpha", lambda x: [-x**3 / (2 * (1 + x * x) ** mpf(1.5))] if x < 0 else [mpf(0)]),
    "silu_beta": ("beta", lambda x: [x * x * _sig(mpf(1.5) * x) * _sig(-mpf(1.5) * x)]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(PARAMETER_TERMS))
def test_parameter_gradients(bridge, name, dtype):
    """sum_i df/dtheta(x_i) from the op against the mpmath sum, within 4 ULP of every
    term's scale plus the float64 accumulation (one rounding per element)."""
    mp.mp.dps = 50
    _, params, _, _ = REFERENCES[name]
    pname, terms = PARAMETER_TERMS[name]
    xs = np.concatenate([np.linspace(-6, 6, 397), np.logspace(-30, 2, 101),
                         -np.logspace(-30, 2, 101)]).astype(dtype)
    tdt = getattr(torch, np.dtype(dtype).name)
    theta = torch.tensor(params[pname], dtype=tdt, requires_grad=True)
    kw = {**params, pname: theta}
    y = getattr(bridge, name)(torch.tensor(xs, dtype=tdt), **kw)
    (grad,) = torch.autograd.grad(y.sum(), theta)
    want, scale = mpf(0), mpf(0)
    for xi in xs.tolist():
        parts = terms(mpf(xi))
        want += sum(parts)
        scale += max(abs(p) for p in parts)
    eps = np.finfo(dtype).eps / 2
    bound = 4 * 2 * eps * scale + len(xs) * 2.0**-53 * scale + 2 * eps * abs(want)
    assert abs(mpf(float(grad)) - want) <= bound, (name, float(grad), float(want))


# ------------------------------------------------------------------ rewrite rules
def test_primitives_rewrite_back_to_their_definitions():
    from gemsym.codegen.rules import Erfc, Softplus
    from gemsym.codegen.stable import Expm1, Sigmoid

    t = sp.Symbol("t", real=True)
    assert Softplus(t).rewrite(sp.log) == sp.log(1 + sp.exp(t))
    assert sp.diff(Softplus(t), t) == Sigmoid(t)
    assert Erfc(t).rewrite(sp.erf) == 1 - sp.erf(t)
    assert sp.simplify(sp.diff(Erfc(t), t) - sp.diff(1 - sp.erf(t), t)) == 0
    assert Expm1(t).rewrite(sp.exp) == sp.exp(t) - 1
    # the evaluated form max(t, 0) + log1p(e^-|t|) is softplus at 30 digits
    mp.mp.dps = 50
    for v in ("-800", "-3.5", "0", "0.25", "40"):
        got = sp.N(Softplus(t).rewrite(sp.Max).subs(t, sp.Rational(v)), 40)
        want = mp.log1p(mp.exp(mp.mpf(v)))
        assert abs(mp.mpf(str(got)) - want) <= mp.mpf(10) ** -30 * max(1, abs(want))


@pytest.mark.parametrize("expr", [
    sp.log(1 + 3 * sp.exp(2 * X)),
    5 * sp.exp(X / 3) - 5,
    (1 + sp.tanh(X**3 - X)) / 2,
    2 - 2 * sp.tanh(X),
    X * (1 + sp.erf(X / 2)),
    X * (1 - sp.erf(X)),
    X * sp.erfc(-X) / 8,  # SymPy writes it X (2 - erfc(X)) / 8
    (X + sp.sqrt(X**2 + 7)) / 2,
    X / (4 + 9 * X**2) ** sp.Rational(3, 2),
])
def test_rewrite_rules_are_exact(expr):
    """Each rule's output equals its input at 30 digits (mpmath evaluation of both,
    through the classes' own definitions), on both sides of zero and in the tails."""
    from gemsym.codegen.rules import Erfc, Softplus, to_primitives
    from gemsym.codegen.stable import Expm1, Sigmoid
    from sympy.codegen.cfunctions import hypot

    out = to_primitives(expr, X)
    assert out != expr
    back = out.replace(lambda e: isinstance(e, Softplus), lambda e: sp.log(1 + sp.exp(e.args[0])))
    back = back.replace(lambda e: isinstance(e, Erfc), lambda e: sp.erfc(e.args[0]))
    back = back.replace(lambda e: isinstance(e, Expm1), lambda e: sp.exp(e.args[0]) - 1)
    back = back.replace(lambda e: isinstance(e, Sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    back = back.replace(lambda e: isinstance(e, hypot),
                        lambda e: sp.sqrt(e.args[0] ** 2 + e.args[1] ** 2))
    for v in (sp.Rational(-37, 3), sp.Rational(-1, 7), sp.Rational(2, 9), sp.Integer(11)):
        a, b = sp.N(back.subs(X, v), 40), sp.N(expr.subs(X, v), 40)
        assert abs(a - b) <= sp.Float(10) ** -30 * max(1, abs(b)), (expr, out, v)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_user_family_with_erfc_of_minus_x_keeps_its_tail(tmp_path):
    """x^3 sigma(2x) + x erfc(-x)/8, written by a user: SymPy turns erfc(-x) into
    2 - erfc(x), whose derivative's 1/4 - erfc(x)/8 absorbed the x^3 sigma terms (d/dx
    returned 0 at x = -30 where it is -4.49e-22); against mpmath's derivative of the
    expression as written."""
    torch = pytest.importorskip("torch")
    act = Activation.from_expression("erfc_user", X**3 / (1 + sp.exp(-2 * X)) + X * sp.erfc(-X) / 8)
    write_package([act], tmp_path / "erfc_user_bridge")
    sys.path.insert(0, str(tmp_path))
    try:
        bridge = importlib.import_module("erfc_user_bridge")
    finally:
        sys.path.remove(str(tmp_path))
    xs = [-360.0, -300.0, -30.0, -26.5, -5.0, 2.0]
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    (dx,) = torch.autograd.grad(bridge.erfc_user(x).sum(), x)
    with mp.workdps(50):
        f = lambda v: v**3 / (1 + mp.exp(-2 * v)) + v * mp.erfc(-v) / 8  # noqa: E731
        for v, got in zip(xs, dx.tolist()):
            want = mp.diff(f, mp.mpf(v))
            assert abs(mp.mpf(got) - want) <= 4 * 2.0**-52 * abs(want), (v, got, want)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_user_parameter_names_keep_their_spelling(tmp_path_factory):
    """A user's K and Beta are the generated function's and module's keyword arguments and
    attributes as written (not k and beta); the values of the two-sided unit
    x^(2K+1)/(2 - x^(2K+1)) on x < 0, x^(2K+1)/(x^(2K) + Beta) on x > 0 against mpmath,
    with K = 4 past the float64 budget at the largest float32 (its narrow body clamped at
    both ends)."""
    K, B = sp.Symbol("K", integer=True, positive=True), sp.Symbol("Beta", positive=True)
    act = Activation.from_branches(
        "two sided", [X ** (2 * K + 1) / (2 - X ** (2 * K + 1)),
                      X ** (2 * K + 1) / (X ** (2 * K) + B)], [0],
        parameters=(positive_integer("K", 4), positive_real("Beta", 1)),
        python_name="two_sided", class_name="TwoSided")
    xs = [-3.0e38, -2.0**50, -1.5, -0.25, 0.0, 0.3, 2.0, 2.0**50, 3.0e38]
    x = torch.tensor(xs, dtype=torch.float32)
    with generated_package(tmp_path_factory, "spelling", [act]) as bridge:
        got = bridge.two_sided(x, K=4, Beta=0.5)
        module = bridge.TwoSided(K=4, Beta=0.5)
        assert module.K == 4
        assert torch.equal(module(x), got)
        with pytest.raises(TypeError):
            bridge.two_sided(x, k=4)
    with mp.workdps(50):
        for v, g in zip(x.tolist(), got.tolist()):  # the float32 inputs' exact values
            v = mp.mpf(v)
            want = (v**9 / (2 - v**9) if v < 0 else v**9 / (v**8 + mp.mpf("0.5")))
            assert abs(g - want) <= 2.0**-24 * abs(want), (v, g, want)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["softplus", "squareplus", "isrlu", "snake"])
def test_triton_kernels_of_catalogue_members(catalogue_bridge, name):
    """Members whose kernels print log1p, max and hypot through exact identities: the
    Triton kernel (float32 compute) against the PyTorch formulas (float64 compute for
    float32 data) within 4 ULP (forward: relative, outside the subnormal range; d/dx: of
    max(|f'|, 1)), and no NaN."""
    pytest.importorskip("triton")
    if os.environ.get("TRITON_INTERPRET") != "1" and not torch.cuda.is_available():
        pytest.skip("needs a GPU or TRITON_INTERPRET=1 set before triton was imported")
    bridge, acts = catalogue_bridge
    act = next(a for a in acts if a.identifier == name)
    fn = getattr(bridge, act.identifier)
    runtime = importlib.import_module(bridge.__name__ + "._runtime")
    mags = torch.logspace(-37, 38.5, 300, dtype=torch.float64)
    x0 = torch.cat([mags, -mags, torch.linspace(-12, 12, 241, dtype=torch.float64),
                    torch.tensor([0.0])]).float()
    results = {}
    previous = runtime.get_backend()
    try:
        for backend in ("torch", "triton"):
            runtime.set_backend(backend)
            x = x0.clone().requires_grad_()
            y = fn(x)
            (g,) = torch.autograd.grad(y.sum(), x)
            results[backend] = (y.detach().double(), g.double())
    finally:
        runtime.set_backend(previous)
    (fa, da), (fb, db) = results["torch"], results["triton"]
    assert not bool(torch.isnan(fb).any() or torch.isnan(db).any())
    normal = fa.abs() >= torch.finfo(torch.float32).tiny
    ulp = 2.0**-23
    assert float(((fa - fb).abs() / fa.abs())[normal].max()) <= 4 * ulp
    assert float(((da - db).abs() / da.abs().clamp(min=1.0)).max()) <= 4 * ulp
