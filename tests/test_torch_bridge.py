"""The generated ``torch_bridge`` package on CPU: API contract, autograd (gradcheck and
gradgradcheck in float64 including parameter gradients), the saved-tensor footprint,
``torch.library.opcheck``, ``torch.compile(fullgraph=True)``, and the exhaustive no-inf/NaN
sweep over every float16 and bfloat16 bit pattern."""

from __future__ import annotations

import inspect
import math

import pytest

torch = pytest.importorskip("torch")

import numerics_reference as ref  # noqa: E402
import torch_bridge as tb  # noqa: E402
from torch_bridge import _runtime  # noqa: E402

FAMILIES = {
    "gem": (tb.gem, {"N": 2}),
    "e_gem": (tb.e_gem, {"N": 1, "eps": 0.3}),
    "se_gem": (tb.se_gem, {"N": 2, "eps": 1.7}),
    "sqish": (tb.sqish, {"a": 0.2, "beta": 1.5, "gamma": 0.8}),
}


_backend = ref.backend_fixture("torch")


# ------------------------------------------------------------------ API contract
def test_functional_signatures_are_the_contract():
    def defaults(fn):
        return {k: p.default for k, p in inspect.signature(fn).parameters.items() if k != "x"}

    assert defaults(tb.gem) == {"N": 1}
    assert defaults(tb.e_gem) == {"N": 1, "eps": 1.0}
    assert defaults(tb.se_gem) == {"N": 1, "eps": 1.0}
    assert defaults(tb.sqish) == {"a": 0.0, "beta": 1.0, "gamma": 1.0}


def test_modules_defaults_and_repr():
    """Modules share the functional defaults (the families' ``Parameter.default``) and are
    not learnable unless asked; learnable ones show the constrained value."""
    from gemsym import families

    assert repr(tb.GEM()) == "GEM(N=1)"
    assert repr(tb.EGEM()) == "EGEM(N=1, eps=1, learnable=False)"
    assert repr(tb.SEGEM(N=2, eps=0.5, learnable=True)) == "SEGEM(N=2, eps=0.5, learnable=True)"
    assert repr(tb.Sqish()) == "Sqish(a=0, beta=1, gamma=1, learnable=False)"
    s = tb.Sqish(learnable=True)
    assert repr(s) == "Sqish(a=0, beta=1, gamma=1, learnable=True)"
    assert sorted(n for n, _ in s.named_parameters()) == ["a_raw", "beta_raw", "gamma_raw"]
    assert list(tb.EGEM().parameters()) == []
    assert len(list(tb.EGEM(learnable=True).parameters())) == 1
    for fn, cls, fam in ((tb.e_gem, tb.EGEM, "e-gem"), (tb.sqish, tb.Sqish, "sqish")):
        definition = {p.name: float(p.default) for p in families.get_family(fam).parameters}
        for name, par in inspect.signature(cls).parameters.items():
            if name in definition:
                assert par.default == definition[name]
                assert inspect.signature(fn).parameters[name].default == definition[name]


def test_module_matches_functional_and_families_agree():
    x = torch.linspace(-4, 4, 101, dtype=torch.float64)
    torch.testing.assert_close(tb.EGEM(N=2, eps=0.5)(x), tb.e_gem(x, N=2, eps=0.5))
    # E-GEM at eps = 1 is GEM; SE-GEM equals E-GEM for x >= 0
    torch.testing.assert_close(tb.e_gem(x, N=3, eps=1.0), tb.gem(x, N=3))
    pos = x[x >= 0]
    torch.testing.assert_close(tb.se_gem(pos, N=2, eps=0.1), tb.e_gem(pos, N=2, eps=0.1))


def test_replace_activations():
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 3), torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Tanh()),
    )
    assert tb.replace_activations(model) == 2
    assert isinstance(model[1], tb.GEM) and isinstance(model[2][1], tb.GEM)
    assert tb.replace_activations(model, old=torch.nn.Tanh, new=lambda: tb.Sqish()) == 1
    assert isinstance(model[2][2], tb.Sqish)
    assert tb.replace_activations(model) == 0


@pytest.mark.parametrize("call, error", [
    (lambda x: tb.gem(x, N=0), "N must be a positive integer"),
    (lambda x: tb.gem(x, N=1.5), "N must be a positive integer"),
    (lambda x: tb.gem(x, N=True), "N must be a positive integer"),
    (lambda x: tb.e_gem(x, eps=-1.0), "eps must be a real number > 0"),
    (lambda x: tb.sqish(x, a=1.0), "a must be a real number < 1"),
    (lambda x: tb.EGEM(eps=0.0), "eps must be a real number > 0"),
])
def test_bad_parameters_raise_value_errors(call, error):
    with pytest.raises(ValueError, match=error):
        call(torch.zeros(3))


def test_integer_input_is_rejected():
    with pytest.raises(TypeError, match="floating-point"):
        tb.gem(torch.arange(3))


# ------------------------------------------------------------------ autograd
def _inputs(name, dtype=torch.float64, learn=True):
    fn, params = FAMILIES[name]
    gen = torch.Generator().manual_seed(1)
    x = (torch.rand(13, generator=gen, dtype=dtype) * 6 - 3).requires_grad_()
    kw = {k: (v if k == "N" else torch.tensor(v, dtype=dtype, requires_grad=learn))
          for k, v in params.items()}
    return fn, x, kw


@pytest.mark.parametrize("name", list(FAMILIES))
def test_gradcheck_and_gradgradcheck_with_parameters(name):
    fn, x, kw = _inputs(name)
    tensors = [k for k, v in kw.items() if isinstance(v, torch.Tensor)]

    def f(x, *ps):
        return fn(x, **{**kw, **dict(zip(tensors, ps))})

    args = (x, *[kw[k] for k in tensors])
    assert torch.autograd.gradcheck(f, args)
    assert torch.autograd.gradgradcheck(f, args)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_backward_saves_only_the_input(name):
    """Saved tensors of one activation call: x itself, plus 0-d parameter scalars."""
    fn, x, kw = _inputs(name, dtype=torch.float32)
    x = torch.randn(64, 32).requires_grad_()
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = fn(x, **kw)
    big = [t for t in saved if t.dim() > 0]
    assert len(big) == 1 and big[0].data_ptr() == x.data_ptr() and big[0].shape == x.shape
    assert all(t.dim() == 0 for t in saved if t is not big[0])
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", list(FAMILIES))
def test_opcheck(name):
    fn, x, kw = _inputs(name, dtype=torch.float32)
    op = getattr(torch.ops.torch_bridge, f"{name}_fwd")
    ints = [v for k, v in kw.items() if k == "N"]
    params = [v for k, v in kw.items() if k != "N"]
    torch.library.opcheck(op, (x.detach().requires_grad_(), *ints, *params))
    bwd = getattr(torch.ops.torch_bridge, f"{name}_bwd")
    torch.library.opcheck(bwd, (torch.randn(13), x.detach(), *ints,
                                *[p.detach() for p in params], True))


def test_parameter_gradients_match_finite_sums_over_chunks():
    """Inputs longer than one CPU chunk: the parameter gradient is the sum over chunks."""
    x = torch.linspace(-6, 6, 3 * _runtime.CPU_CHUNK + 17, dtype=torch.float64)
    eps = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    tb.e_gem(x, N=1, eps=eps).sum().backward()
    pos = x[x > 0]
    expected = (-pos ** 3 / (pos ** 2 + 0.4) ** 2).sum()  # d/deps of x^3/(x^2+eps)
    torch.testing.assert_close(eps.grad, expected)


def test_sixteen_bit_inputs_with_learnable_parameters():
    m = tb.Sqish(learnable=True)
    x = torch.randn(257, dtype=torch.bfloat16, requires_grad=True)
    y = m(x)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert x.grad.dtype == torch.bfloat16
    for p in m.parameters():
        assert p.grad.dtype == torch.float32 and torch.isfinite(p.grad)


def test_torch_compile_fullgraph_model_with_every_module():
    """The four modules in one model compile as one graph whose values and gradients are
    eager's.  float32: each family's float64 formulas under compile are checked against
    mpmath in test_numerics (compiling all four float64 bodies here took ~115 s of the
    suite, against ~37 s)."""
    torch._dynamo.reset()
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 4), tb.GEM(N=2), torch.nn.Linear(4, 4), tb.EGEM(learnable=True),
        torch.nn.Linear(4, 4), tb.SEGEM(N=1, eps=0.5), torch.nn.Linear(4, 4), tb.Sqish(learnable=True),
    )
    compiled = torch.compile(model, fullgraph=True, backend="inductor")
    x = torch.randn(3, 4)
    eager = model(x)
    eager.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    out = compiled(x)
    out.sum().backward()
    torch.testing.assert_close(out, eager)
    for p, g in zip(model.parameters(), grads):
        torch.testing.assert_close(p.grad, g)


# ------------------------------------------------------------------ exhaustive 16-bit
def _all_bit_patterns(dtype):
    bits = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16)
    return bits.view(dtype)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_16bit_value_gives_finite_results(dtype, name):
    fn, params = FAMILIES[name]
    x = _all_bit_patterns(dtype).clone().requires_grad_()
    y = fn(x, **params)
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
    finite = torch.isfinite(x.detach())
    assert torch.isfinite(y[finite]).all() and torch.isfinite(g[finite]).all()
    nan = torch.isnan(x.detach())
    assert torch.isnan(y[nan]).all() and torch.isnan(g[nan]).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_infinities_give_the_limits(dtype):
    x = torch.tensor([-math.inf, math.inf], dtype=dtype, requires_grad=True)

    def check(y, expected_y, expected_g):
        (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
        assert y.tolist() == expected_y and g.tolist() == expected_g

    check(tb.gem(x, N=2), [0.0, math.inf], [0.0, 1.0])
    check(tb.e_gem(x, N=1, eps=0.25), [0.0, math.inf], [0.0, 1.0])
    check(tb.se_gem(x, N=1, eps=0.25), [-1.0, math.inf], [0.0, 1.0])
    check(tb.sqish(x), [0.0, math.inf], [0.0, 1.0])
    check(tb.sqish(x, a=0.25), [-math.inf, math.inf], [0.25, 1.0])
    check(tb.sqish(x, a=-0.5), [math.inf, math.inf], [-0.5, 1.0])


# ------------------------------------------------------------------ user-defined family
def test_generated_package_for_user_families_runs(tmp_path, monkeypatch):
    """`gemsym codegen --family module:attr` output is importable and correct: SiLU
    (sigmoid form) against torch's silu, and a concrete-N GEM variant (power form with
    numeric exponents) against its closed form."""
    import importlib

    from gemsym.cli import main

    module = tmp_path / "user_family.py"
    module.write_text("import sympy as sp\nfrom gemsym import Activation, X\n"
                      "gem5 = Activation.from_branches('gem5', [sp.S.Zero, X**5 / (X**4 + 3)], [0])\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "user_bridge"
    assert main(["codegen", "--out", str(out), "--family", "gemsym.families:silu",
                 "--family", "user_family:gem5"]) == 0
    pkg = importlib.import_module("user_bridge")
    assert hasattr(pkg, "Gem5") and hasattr(pkg, "Silu") and repr(pkg.Gem5()) == "Gem5()"
    x = torch.linspace(-30, 30, 1001, dtype=torch.float64, requires_grad=True)
    y = pkg.silu(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    xr = x.detach().clone().requires_grad_()
    yr = torch.nn.functional.silu(xr)
    (gr,) = torch.autograd.grad(yr.sum(), xr)
    torch.testing.assert_close(y, yr)
    torch.testing.assert_close(g, gr)
    big = torch.tensor([-1e300, 1e300, -math.inf, math.inf], dtype=torch.float64)
    assert pkg.silu(big).tolist() == [0.0, 1e300, 0.0, math.inf]
    xd = x.detach()
    want = torch.where(xd > 0, xd**5 / (xd**4 + 3), torch.zeros_like(xd))
    torch.testing.assert_close(pkg.gem5(xd), want)
    assert torch.isfinite(pkg.gem5(torch.tensor([1e300, -1e300], dtype=torch.float64))).all()
    model = torch.nn.Sequential(torch.nn.ReLU())
    assert pkg.replace_activations(model) == 1 and isinstance(model[0], pkg.Silu)


# ------------------------------------------------------------------ fused eager CPU path
def test_fused_eager_cpu_path_matches_the_chunk_loop(monkeypatch):
    """Opted in, large eager CPU inputs (float32/16-bit) run one compiled kernel per pass;
    with the size threshold lowered it must agree with the chunk loop: values, input
    gradients, summed parameter gradients, and +-inf / NaN."""
    monkeypatch.setattr(_runtime, "_fuse", True)
    # the ahead-of-time C++ kernel, when built, takes these inputs before the fused one
    monkeypatch.setattr(_runtime._cpu_kernel, "_on", False)
    gen = torch.Generator().manual_seed(3)
    finite = torch.cat([torch.randn(4093, generator=gen) * 4,
                        torch.tensor([0.0, -0.0, 1e30, -1e-30])])
    special = torch.tensor([math.inf, -math.inf, math.nan])

    def run(name, kw, dtype, x):
        fn = FAMILIES[name][0]
        xd = x.to(dtype).requires_grad_()
        ps = {k: (v if k == "N" else torch.tensor(v, requires_grad=True)) for k, v in kw.items()}
        y = fn(xd, **ps)
        tensors = [v for v in ps.values() if isinstance(v, torch.Tensor)]
        g = torch.linspace(-2, 2, x.numel(), dtype=dtype)
        return (y.detach(), *torch.autograd.grad(y, (xd, *tensors), g))

    cases = [("gem", {"N": 2}, torch.float32),
             ("sqish", {"a": 0.2, "beta": 1.5, "gamma": 0.8}, torch.float32),
             ("e_gem", {"N": 1, "eps": 0.3}, torch.bfloat16)]
    for name, kw, dtype in cases:
        for x in (finite, special):
            monkeypatch.setattr(_runtime, "FUSE_MIN", 1 << 40)
            want = run(name, kw, dtype, x)
            monkeypatch.setattr(_runtime, "FUSE_MIN", 1)
            got = run(name, kw, dtype, x)
            assert any(k[0] == name and v is not None for k, v in _runtime._FUSED.items()), name
            # both round float64 arithmetic (16-bit: through float32); libm differences
            # may move a result by one unit of the output
            tol = dict(rtol=2.0 ** -22 if dtype == torch.float32 else 2.0 ** -7, atol=1e-30,
                       equal_nan=True)
            torch.testing.assert_close(got[0], want[0], **tol)
            torch.testing.assert_close(got[1], want[1], **tol)
            for a, b in zip(got[2:], want[2:]):  # parameter gradients (sums)
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, equal_nan=True)
