"""The parameters' gradients by factored sums (``<family>_sums``, see
``gemsym.codegen.sums``): the eager backward of a finite float32/16-bit input sums each
shared term of the parameters' derivatives once and multiplies the sums by the terms'
constants.  Checked for every family with real parameters (the built-in ones and the
catalogue's): the terms times their constants are the derivatives (SymPy's derivative of
the definition, at 40 digits), the gradients are the mpmath sums of g df/dtheta written
from the papers (``catalogue_reference``), df/dx keeps the bits of the ``first`` formulas,
and every other call (an infinite input, a float64 one, per-channel parameters) keeps the
``first`` formulas."""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import sympy as sp
from sympy.codegen.cfunctions import hypot

torch = pytest.importorskip("torch")

import catalogue_reference as cref  # noqa: E402
from generated_package import default_params, generated_package  # noqa: E402

from gemsym.codegen.derive import derive  # noqa: E402
from gemsym.codegen.narrow.forms import _plain  # noqa: E402
from gemsym.codegen.stable import Sigmoid, SigmoidLinear  # noqa: E402
from gemsym.codegen.sums import factored  # noqa: E402
from gemsym.families import FAMILIES, get_family  # noqa: E402

#: every family with a real parameter
MEMBERS = [n for n in FAMILIES if any(not p.integer for p in get_family(n).parameters)]
#: parameter values other than the defaults (a second point of each family's domain)
OTHER = {"e-gem": {"eps": 0.3}, "se-gem": {"eps": 2.5}, "sqish": {"a": -0.25, "beta": 1.5,
                                                                   "gamma": 0.75},
         "leaky-relu": {"alpha": 0.2}, "max-ax-x": {"a": 0.3}, "elu": {"alpha": 0.7},
         "selu": {"lambda": 1.2, "alpha": 1.5}, "celu": {"alpha": 0.5},
         "gelu-beta": {"beta": 1.3}, "swish": {"beta": 2.5}, "softplus": {"beta": 0.7},
         "squareplus": {"b": 2.0}, "smelu": {"beta": 1.5}, "isrlu": {"alpha": 0.4},
         "snake": {"a": 0.8}}


@pytest.fixture(scope="module")
def pkg(tmp_path_factory):
    with generated_package(tmp_path_factory, "sums", MEMBERS) as mod:
        yield mod


def _value_sets(name: str) -> list[dict]:
    return [default_params(name), default_params(name, **OTHER.get(name, {}))]


def test_every_family_with_real_parameters_is_checked():
    assert set(OTHER) == set(MEMBERS)
    assert {"e-gem", "se-gem", "sqish", "selu", "swish"} <= set(MEMBERS)


def _numeric(e: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """A printed form's expression in SymPy's own functions (evaluable by ``sp.N``)."""
    e = _plain(e, x)
    e = e.replace(lambda t: isinstance(t, SigmoidLinear),
                  lambda t: 1 / (1 + sp.exp(-(t.args[0] * t.args[1] + t.args[2]))))
    e = e.replace(lambda t: isinstance(t, Sigmoid), lambda t: 1 / (1 + sp.exp(-t.args[0])))
    e = e.replace(lambda t: isinstance(t, hypot), lambda t: sp.sqrt(t.args[0]**2 + t.args[1]**2))
    return e.rewrite(sp.exp).rewrite(sp.log).rewrite(sp.erf)


@pytest.mark.parametrize("name", MEMBERS)
def test_terms_times_constants_are_the_derivatives(name):
    """sum_j c_pj h_j equals SymPy's derivative of the definition in each parameter, on
    each branch, at points inside it (40 digits)."""
    act = get_family(name)
    code = derive(act)
    fac = factored(list(zip(code.first_names, code.first))[1:], code.x)
    assert fac is not None
    x = code.x
    reals = [p for p in act.parameters if not p.integer]
    for values in _value_sets(name):
        subs = {code.symbols[p.name]: sp.Rational(str(values[p.name])) for p in act.parameters}
        orig = {p.symbol: subs[code.symbols[p.name]] for p in act.parameters}
        for b, branch in enumerate(act.branches):
            lo, hi = (sp.sympify(v).xreplace(orig) for v in (branch.lower, branch.upper))
            points = [v for v in (sp.Rational(-7, 3), sp.Rational(-1, 5), sp.Rational(1, 7),
                                  sp.Rational(5, 2), sp.Rational(31, 4)) if lo < v < hi]
            assert points, (name, b)
            for p, coefficients in zip(reals, fac.coefficients):
                want = sp.diff(sp.sympify(branch.expr), p.symbol).xreplace(orig)
                got = sum((c * _numeric(fac.terms[j][1][b].small, x)
                           for j, c in coefficients), sp.Integer(0)).xreplace(subs)
                for v in points:
                    a = sp.N(got.xreplace({x: v}), 40)
                    w = sp.N(want.xreplace({act.x: v}), 40)
                    assert a.is_number and w.is_number, (name, p.name, a, w)
                    assert abs(a - w) <= sp.Float(1e-30) * (1 + abs(w)), (name, p.name, b, v)


def _inputs(dtype: torch.dtype, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=gen, dtype=torch.float64) * 3
    x[:8] = torch.tensor([0.0, -0.0, 1e-30, -1e-30, 40.0, -40.0, 1e4, -1e4])
    g = torch.randn(n, generator=gen, dtype=torch.float64)
    return x.to(dtype), g.to(dtype)


def _call(pkg, name: str, x, values: dict, dtype):
    """(y, the 0-d parameter tensors) of the functional call with learnable parameters."""
    fn = getattr(pkg, name.replace("-", "_"))
    ps = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in values.items()
          if k != "N"}
    ints = {k: v for k, v in values.items() if k == "N"}
    kw = {("lambda_" if k == "lambda" else k): t for k, t in ps.items()}
    return fn(x, **ints, **kw), ps


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("name", MEMBERS)
def test_gradients_are_the_mpmath_sums(pkg, monkeypatch, name, dtype):
    """d/dtheta of sum(g f) through the eager backward (factored sums: checked taken) is the
    mpmath sum of g df/dtheta (the papers' derivatives) within the dtype's epsilon relative
    (one or two units: the float64 sum rounded once, near a tie either way) plus 2^-40 of
    sum |g| times the derivative's largest term."""
    dt = getattr(torch, dtype)
    taken = []
    real = pkg._runtime._factored_sums
    monkeypatch.setattr(pkg._runtime, "_factored_sums",
                        lambda *a: taken.append(1) or real(*a))
    for k, values in enumerate(_value_sets(name)):
        x, g = _inputs(dt, 600, k)
        y, ps = _call(pkg, name, x.clone().requires_grad_(), values, dt)
        got = torch.autograd.grad(y, list(ps.values()), g)
        mp.mp.dps = 50
        # the parameters as the call has them, rounded to the dtype (Snake's sin(a x) at
        # x = 1e4 moves by 1e-4 with a rounded to float32)
        exact = {**values, **{k: float(t) for k, t in ps.items()}}
        refs = {p: (mp.mpf(0), mp.mpf(0)) for p in ps}
        for xv, gv in zip(x.double().tolist(), g.double().tolist()):
            r = cref.reference(name, xv, exact)
            for p in ps:
                v, big = r[f"d_{p}"]
                s, scale = refs[p]
                refs[p] = (s + mp.mpf(gv) * v, scale + abs(mp.mpf(gv)) * big)
        for p, t in zip(ps, got):
            s, scale = refs[p]
            want = float(s)
            unit = float(torch.finfo(dt).eps) * abs(want)  # one rounding of the float64 sum
            err = abs(float(t) - want)
            assert err <= unit + 2.0 ** -40 * float(scale), (name, values, p, float(t), want)
    assert taken, name


@pytest.mark.parametrize("name", MEMBERS)
def test_dx_keeps_the_bits_of_first_and_sums_agree(pkg, name):
    """On the narrow path, ``<name>_sums``'s df/dx is bitwise ``<name>_first``'s, and its
    factored sums are within 2^-45 of sum |g df/dtheta| of the sums of the first formulas'
    terms (float64)."""
    F = pkg._formulas
    fam = name.replace("-", "_")
    for k, values in enumerate(_value_sets(name)):
        x, g = _inputs(torch.float32, 1 << 12, 10 + k)
        xc, gc = x.double(), g.double()
        ints = [values["N"]] if "N" in values else []
        reals = [torch.tensor(v, dtype=torch.float64) for n, v in values.items() if n != "N"]
        terms = getattr(F, f"{fam}_sums")(xc, *ints, *reals, exact=False, narrow=True)
        first = getattr(F, f"{fam}_first")(xc, *ints, *reals, exact=False, narrow=True)
        assert terms is not None
        d_x, hs, coefficients = terms
        assert torch.equal(d_x, first[0]), (name, values)
        sums = [float((gc * h).sum()) for h in hs]
        for d, cs in zip(first[1:], coefficients):
            want = float((gc * d).sum())
            got = sum(c * sums[j] for j, c in cs)
            assert abs(got - want) <= 2.0 ** -45 * float((gc * d).abs().sum()), (name, values)


def test_other_calls_keep_the_first_formulas(pkg, monkeypatch):
    """An input holding an infinity or a NaN, a float64 input and per-channel parameters
    take ``<name>_first`` (``_sums`` returns None, or is not called)."""
    calls = []
    real = pkg._runtime._factored_sums
    monkeypatch.setattr(pkg._runtime, "_factored_sums", lambda *a: calls.append(1) or real(*a))
    F = pkg._formulas
    x = torch.tensor([1.0, float("inf"), -2.0], dtype=torch.float64)
    beta = torch.tensor(1.0, dtype=torch.float64)
    assert F.swish_sums(x, beta, exact=False, narrow=True) is None
    assert F.swish_sums(x[::2].clone(), beta, exact=True, narrow=False) is None
    for xs, b in ((torch.tensor([1.0, float("inf"), float("nan"), -2.0]), torch.tensor(1.5)),
                  (torch.tensor([1.0, -2.0], dtype=torch.float64),
                   torch.tensor(1.5, dtype=torch.float64)),
                  (torch.randn(2, 3, 4), torch.full((3, 1), 1.5))):
        xg = xs.clone().requires_grad_()
        bg = b.clone().requires_grad_()
        gx, gb = torch.autograd.grad(pkg.swish(xg, beta=bg).sum(), (xg, bg))
        assert gb.shape == b.shape
    assert not calls


def test_a_constant_that_is_not_a_number_takes_first(pkg):
    """Where a constant c_pj is inf or NaN (a parameter at 0 in 1/theta), the backward takes
    the elementwise ``first`` terms (c_pj times a zero sum would be NaN)."""
    import dataclasses

    rt = pkg._runtime
    fam = rt.family(pkg._ops.LIB, "swish")
    x = torch.randn(64, dtype=torch.float64)
    g = torch.randn(64, dtype=torch.float64)
    beta = torch.tensor(1.5, dtype=torch.float64)
    want = rt._backward_terms(fam, g, x, (), [beta], False, [True], narrow=True)
    for bad in (math.inf, math.nan):
        def sums(xc, b, exact=True, narrow=False, memo=None, bad=bad):
            return xc, (xc,), (((0, bad),),)

        odd = dataclasses.replace(fam, sums=sums)
        got = rt._backward_terms(odd, g, x, (), [beta], False, [True], narrow=True,
                                 factored=True)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1][0], want[1][0])


def test_chunks_mix_factored_and_first_sums(pkg, monkeypatch):
    """An input of more than one chunk (``_runtime.CPU_CHUNK``, beyond which the backward
    loops over ``CPU_GRAD_CHUNK`` elements at a time) whose last chunk holds +inf: the other
    chunks' sums are factored (Python floats), the last one's from ``first`` (tensors),
    added in chunk order; Sqish's gradients are the mpmath sums over the finite
    inputs (every d/dtheta is 0 at +inf) within the bound of the test above."""
    rt = pkg._runtime
    taken = []
    real = rt._factored_sums
    monkeypatch.setattr(rt, "_factored_sums", lambda *a: taken.append(1) or real(*a))
    n = rt.CPU_CHUNK + 700
    x, g = _inputs(torch.float32, n, 7)
    x[rt.CPU_CHUNK + 5] = math.inf
    chunks = -(-n // rt.CPU_GRAD_CHUNK)
    values = {"a": 0.25, "beta": 1.5, "gamma": 0.75}
    y, ps = _call(pkg, "sqish", x.clone().requires_grad_(), values, torch.float32)
    got = torch.autograd.grad(y, list(ps.values()), g)
    assert chunks >= 2 and len(taken) == chunks - 1
    exact = {k: float(t) for k, t in ps.items()}
    mp.mp.dps = 30
    refs = {p: [mp.mpf(0), mp.mpf(0)] for p in ps}
    for xv, gv in zip(x.double().tolist(), g.double().tolist()):
        if not math.isfinite(xv):
            continue
        r = cref.reference("sqish", xv, exact)
        for p in ps:
            v, big = r[f"d_{p}"]
            refs[p][0] += mp.mpf(gv) * v
            refs[p][1] += abs(mp.mpf(gv)) * big
    for p, t in zip(ps, got):
        want = float(refs[p][0])
        tol = float(torch.finfo(torch.float32).eps) * abs(want) + 2.0 ** -40 * float(refs[p][1])
        assert abs(float(t) - want) <= tol, (p, float(t), want)
