"""The generated ops as PyTorch ops: ``torch.library.opcheck`` over memory layouts and
dtypes, outputs laid out as ``torch.relu`` lays them out, ``torch.func`` transforms against
finite differences (float64), ``torch.compile``/``torch.export``/ONNX on the traced and the
op path, parameter validation in every form, learnable parameters kept in their domains by
the reparametrisation (training steps at lr = 1 and 10), and per-channel parameters."""

from __future__ import annotations

import math
import warnings

import pytest

torch = pytest.importorskip("torch")

import numerics_reference as ref  # noqa: E402
import torch_bridge as tb  # noqa: E402
from torch_bridge import _runtime  # noqa: E402

_backend = ref.backend_fixture("torch")

#: family -> (functional, integer parameters, real parameters)
FAMILIES = {
    "gem": (tb.gem, {"N": 2}, {}),
    "e_gem": (tb.e_gem, {"N": 1}, {"eps": 0.3}),
    "se_gem": (tb.se_gem, {"N": 2}, {"eps": 1.7}),
    "sqish": (tb.sqish, {}, {"a": 0.2, "beta": 1.5, "gamma": 0.8}),
}
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]


def _layouts(dtype):
    """name -> input of that layout (values away from GEM's junction at 0 are not needed:
    the checks compare layouts and metadata, not derivatives)."""
    gen = torch.Generator().manual_seed(7)

    def rnd(*shape):
        return (torch.randn(*shape, generator=gen) * 2).to(dtype)

    return {
        "contiguous": rnd(2, 3, 4, 5),
        "channels_last": rnd(2, 3, 4, 5).to(memory_format=torch.channels_last),
        "transposed": rnd(5, 6).t(),
        "sliced": rnd(4, 10)[:, ::3],
        "expanded": rnd(3, 1).expand(3, 4),
        "0-dim": rnd(()),
        "empty": rnd(0, 3),
    }


def _op_args(name, x, dtype=torch.float32, requires_grad=False):
    _, ints, reals = FAMILIES[name]
    params = [torch.tensor(v, dtype=dtype, requires_grad=requires_grad) for v in reals.values()]
    return list(ints.values()), params


# ------------------------------------------------------------------ opcheck and layout
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(FAMILIES))
def test_opcheck_every_layout_and_dtype(name, dtype):
    """Schema, autograd registration and fake-tensor metadata (strides included) of the
    forward and backward ops for every layout; the backward with a gradient laid out
    differently from x."""
    fwd = getattr(torch.ops.torch_bridge, f"{name}_fwd")
    bwd = getattr(torch.ops.torch_bridge, f"{name}_bwd")
    utils = ("test_schema", "test_autograd_registration", "test_faketensor")
    for layout, x in _layouts(dtype).items():
        ints, params = _op_args(name, x, requires_grad=True)
        torch.library.opcheck(fwd, (x.clone().requires_grad_() if layout != "expanded"
                                    else x.detach().requires_grad_(), *ints, *params),
                              test_utils=utils)
        grad = torch.randn(x.shape).to(dtype).contiguous()
        torch.library.opcheck(bwd, (grad, x, *ints, *[p.detach() for p in params], True),
                              test_utils=utils)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_output_layout_is_relus_and_values_do_not_depend_on_it(name):
    fn, ints, reals = FAMILIES[name]
    for dtype in (torch.float32, torch.bfloat16):
        for layout, x in _layouts(dtype).items():
            y = fn(x, **ints, **reals)
            assert y.shape == x.shape and y.dtype == x.dtype
            assert y.stride() == torch.relu(x).stride(), layout
            want = fn(x.contiguous(), **ints, **reals)
            torch.testing.assert_close(y, want, rtol=0, atol=0, equal_nan=True)
            g = torch.randn(x.shape).to(dtype)
            xr = x.detach().requires_grad_()
            (gx,) = torch.autograd.grad(fn(xr, **ints, **reals), xr, g)
            xc = x.detach().contiguous().requires_grad_()
            (gc,) = torch.autograd.grad(fn(xc, **ints, **reals), xc, g.contiguous())
            torch.testing.assert_close(gx, gc, rtol=0, atol=0, equal_nan=True)


# ------------------------------------------------------------------ torch.func
@pytest.fixture
def strict_functorch():
    """No vmap fallback (an op without a batching rule raises) and no warnings, except
    torch's own deprecation notice of torch.jit that jacfwd triggers."""
    torch._C._functorch._set_vmap_fallback_enabled(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*torch.jit.*", category=DeprecationWarning)
        yield
    torch._C._functorch._set_vmap_fallback_enabled(True)


def _fd(f, t, h=1e-6):
    """Central difference of the elementwise (or scalar-parameter) function f at t."""
    return (f(t + h) - f(t - h)) / (2 * h)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_torch_func_transforms_match_finite_differences(name, strict_functorch):
    fn, ints, reals = FAMILIES[name]
    gen = torch.Generator().manual_seed(11)
    # |x| >= 0.1: central differences stay on one side of GEM's junction
    x = torch.rand(9, generator=gen, dtype=torch.float64) * 5 + 0.1
    x = torch.where(torch.arange(9) % 2 == 0, x, -x)

    def f(t):
        return fn(t, **ints, **reals)

    d = _fd(f, x)
    tol = dict(rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(torch.func.grad(lambda t: f(t).sum())(x), d, **tol)
    torch.testing.assert_close(torch.func.jacrev(f)(x), torch.diag(d), **tol)
    torch.testing.assert_close(torch.func.jacfwd(f)(x), torch.diag(d), **tol)
    torch.testing.assert_close(torch.func.vmap(torch.func.grad(f))(x), d, **tol)
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(x, torch.ones_like(x))
        tangent = torch.autograd.forward_ad.unpack_dual(f(dual)).tangent
    torch.testing.assert_close(tangent, d, **tol)
    rows = torch.stack([x, 2 * x, -x])
    torch.testing.assert_close(torch.func.vmap(f)(rows), f(rows), rtol=0, atol=0)
    torch.testing.assert_close(torch.func.vmap(f, in_dims=1, out_dims=1)(rows.t()),
                               f(rows.t()), rtol=0, atol=0)
    dd = _fd(lambda t: torch.func.grad(lambda s: f(s).sum())(t), x)
    torch.testing.assert_close(torch.func.hessian(lambda t: f(t).sum())(x), torch.diag(dd),
                               rtol=1e-5, atol=1e-7)
    for pname, value in reals.items():
        p0 = torch.tensor(value, dtype=torch.float64)

        def fp(p, pname=pname):
            return fn(x, **ints, **{**reals, pname: p})

        dp = _fd(fp, p0)
        torch.testing.assert_close(torch.func.jacrev(fp)(p0), dp, **tol)
        torch.testing.assert_close(torch.func.jacfwd(fp)(p0), dp, **tol)
        torch.testing.assert_close(torch.func.grad(lambda p: fp(p).sum())(p0), dp.sum(), **tol)
        # a batch of parameter values through vmap, and the mixed second derivative
        batch = p0 * torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64)
        torch.testing.assert_close(torch.func.vmap(fp)(batch),
                                   torch.stack([fp(b) for b in batch]), rtol=0, atol=0)
        mixed = torch.func.jacfwd(torch.func.grad(lambda p: fp(p).sum()))(p0)
        torch.testing.assert_close(mixed, _fd(lambda p: torch.func.grad(
            lambda q: fp(q).sum())(p), p0), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------ compile, export, ONNX
class _ConvModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.act = tb.EGEM(eps=0.5, learnable=True, num_parameters=4)
        self.c2 = torch.nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x):
        return self.c2(self.act(self.c1(x)))


@pytest.mark.parametrize("traced", [True, False], ids=["traced", "op"])
def test_compile_and_export_channels_last(traced, monkeypatch, request):
    """conv -> E-GEM (per-channel learnable eps) -> conv in channels_last, fullgraph.  The
    op path through Inductor (its layout must match the fake kernel's); the traced path
    through AOTAutograd only (Inductor on the traced formulas: test_torch_bridge).  With
    ``CI`` set, as CI services set it, Inductor refuses an op it must fall back to while the
    op has a decomposition (the forward's, for exporters): the op declares its kernel."""
    monkeypatch.setattr(_runtime, "TRACED_COMPILE", traced)
    monkeypatch.setenv("CI", "true")
    if not traced:
        from torch._inductor import config as inductor_config
        from torch._inductor.lowering import lowerings

        # lowered as in a fresh process, whatever an earlier test or run compiled
        monkeypatch.delitem(lowerings, torch.ops.torch_bridge.e_gem_fwd.default, raising=False)
        # the config's own patch: monkeypatch's undo left later compilations without the
        # option ("force_disable_caches does not exist")
        patch = inductor_config.patch(force_disable_caches=True)
        patch.__enter__()
        request.addfinalizer(lambda: patch.__exit__(None, None, None))
    torch.manual_seed(0)
    model = _ConvModel().double().to(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64).to(memory_format=torch.channels_last)
    eager = model(x)
    eager.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    torch._dynamo.reset()
    out = torch.compile(model, fullgraph=True, backend="aot_eager" if traced else "inductor")(x)
    out.sum().backward()
    torch.testing.assert_close(out, eager)
    assert out.is_contiguous(memory_format=torch.channels_last)
    for p, g in zip(model.parameters(), grads):
        torch.testing.assert_close(p.grad, g)
    program = torch.export.export(model, (x,))
    targets = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert any("torch_bridge" in t for t in targets) == (not traced)
    torch.testing.assert_close(program.module()(x), eager)


@pytest.mark.parametrize("traced", [True, False], ids=["traced", "op"])
def test_onnx_export(traced, monkeypatch):
    pytest.importorskip("onnxscript", reason="ONNX export needs onnx and onnxscript, which "
                        "are not among the test dependencies")
    from onnx.reference import ReferenceEvaluator

    monkeypatch.setattr(_runtime, "TRACED_COMPILE", traced)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), tb.Sqish(learnable=True),
                                torch.nn.Linear(4, 2), tb.GEM(N=2))
    x = torch.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (x,), dynamo=True, verbose=False)
    proto = program.model_proto
    assert not any(node.domain == "torch_bridge" for node in proto.graph.node)
    (got,) = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), model(x).detach(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ validation
_x = torch.linspace(-2, 2, 6)


@pytest.mark.parametrize("call, message", [
    (lambda: tb.e_gem(_x, eps=torch.tensor(-1.0)), "eps must be a real number > 0"),
    (lambda: tb.sqish(_x, beta=torch.tensor(-1.0)), "beta must be a real number > 0"),
    (lambda: tb.sqish(_x, a=torch.tensor(2.0)), "a must be a real number < 1"),
    (lambda: tb.sqish(_x, a=torch.tensor([0.5, 1.0, 0.0, 0.0, 0.0, 0.0])), "a must be"),
    (lambda: tb.sqish(_x, a=-math.inf), "a must be a real number < 1"),
    (lambda: tb.sqish(_x, gamma=math.nan), "gamma must be a real number > 0"),
    (lambda: tb.e_gem(_x, eps=math.inf), "eps must be a real number > 0"),
    (lambda: tb.e_gem(_x, eps=torch.tensor(math.inf)), "eps must be a real number > 0"),
    (lambda: tb.e_gem(_x, eps=torch.tensor(math.nan)), "eps must be a real number > 0"),
    # inputs computed in float32 (16-bit ones off the CPU; a meta tensor here)
    (lambda: tb.e_gem(_x.half().to("meta"), eps=1e39), "eps = 1e"),
    (lambda: tb.e_gem(_x.half().to("meta"), eps=1e-46),
     "eps = 1e-46 leaves the domain in float32"),
    (lambda: tb.e_gem(_x.bfloat16().to("meta"), eps=torch.tensor(1e39, dtype=torch.float64)),
     "eps = 1e"),
    (lambda: tb.e_gem(_x, eps=torch.ones(4)), "eps must be a number or a tensor broadcastable"),
    (lambda: tb.e_gem(_x, eps="1"), "eps must be a real number > 0"),
    (lambda: tb.e_gem(_x, eps=True), "eps must be a real number > 0"),
    (lambda: tb.EGEM(eps=-1.0), "eps must be a real number > 0"),
    (lambda: tb.Sqish(a=1.0, learnable=True), "a must be a real number < 1"),
    (lambda: tb.EGEM(num_parameters=3), "num_parameters must be 1 unless"),
    (lambda: tb.EGEM(num_parameters=0, learnable=True), "num_parameters must be a positive"),
    (lambda: tb.EGEM(learnable=True, num_parameters=3)(torch.zeros(2, 4)), "x must have 3 ch"),
])
def test_bad_parameters_are_value_errors_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_python_float_parameters_keep_full_precision_on_cpu():
    """float32 CPU inputs are computed in float64, so eps = 1e39 (no float32) and
    gamma = 0.01 (not a float32) are used as given: the result is the float64 value of the
    formula rounded once."""
    x = torch.tensor([0.5, 3.0, 1e20, 1e25], dtype=torch.float32)
    got = tb.e_gem(x, eps=1e39)
    xd = x.double()
    torch.testing.assert_close(got, (xd ** 3 / (xd ** 2 + 1e39)).float(), rtol=2 ** -23, atol=0)
    s = torch.tensor([1.0, 2.0], dtype=torch.float64)
    want = s / (1 + torch.exp(-2 * 0.01 * s))
    torch.testing.assert_close(tb.sqish(s.float(), gamma=0.01), want.float(), rtol=2 ** -23,
                               atol=0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_16bit_cpu_inputs_take_float64_parameters(dtype):
    """16-bit CPU inputs are computed in float64 too: eps = 1e39 and 1e-46 (neither a
    float32) are used as given, and E-GEM(N=1)'s x^3/(x^2 + eps) is x^3/eps where float32
    would have made eps inf or 0 (x = 3, eps = 1e39: 2.7e-38, a normal bfloat16)."""
    x = torch.tensor([3.0, 0.5, 6e4, 1e-7], dtype=torch.float64).to(dtype)
    xd = x.double()
    for eps in (1e39, 1e-46):
        want = (xd ** 3 / (xd ** 2 + eps)).to(dtype)
        # rounded through float32 (PyTorch's float64 -> 16-bit conversion): a unit at most
        got = tb.e_gem(x, eps=eps)
        torch.testing.assert_close(got.double(), want.double(), rtol=torch.finfo(dtype).eps,
                                   atol=0)
    assert float(tb.e_gem(x[:1].bfloat16(), eps=1e39)) > 2.6e-38


# ------------------------------------------------------------------ reparametrisation
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_constrained_values_stay_in_their_domains(dtype):
    raws = torch.tensor([-1e30, -1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4, 1e30], dtype=dtype)
    for name in FAMILIES:
        fam = _runtime.family("torch_bridge", name)
        for domain in fam.domains:
            values = domain.constrain(raws)
            assert bool(domain.holds(values).all()), (name, domain, values)
            for v in (1e-4, 0.3, 0.99, 5.0, 1e6, -3.0, -1e3):
                if domain.contains(v):
                    raw = torch.tensor(domain.unconstrain(v), dtype=torch.float64)
                    assert domain.constrain(raw).item() == pytest.approx(v, rel=1e-12)


@pytest.mark.parametrize("lr", [1.0, 10.0])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_training_at_a_large_learning_rate_keeps_parameters_in_their_domains(lr, sign):
    torch.manual_seed(3)
    modules = [tb.EGEM(eps=1e-4, learnable=True), tb.SEGEM(N=2, eps=0.5, learnable=True),
               tb.Sqish(a=0.5, beta=0.5, learnable=True),
               tb.Sqish(learnable=True, num_parameters=3)]
    for m in modules:
        opt = torch.optim.SGD(m.parameters(), lr=lr)
        fam = _runtime.family("torch_bridge", m._family)
        for _ in range(6):
            x = torch.randn(2, 3, 16) * 4
            y = m(x)
            assert torch.isfinite(y).all()
            opt.zero_grad()
            (sign * 100 * y.sum()).backward()
            opt.step()
            for pname, domain in zip(fam.params, fam.domains):
                value = getattr(m, pname)
                assert bool(domain.holds(value).all()), (m, pname, value)
        assert torch.isfinite(m(torch.randn(2, 3, 8))).all()


def test_learnable_module_shows_the_constrained_value():
    m = tb.EGEM(eps=1e-4, learnable=True)
    assert [n for n, _ in m.named_parameters()] == ["eps_raw"]
    assert m.eps.item() == pytest.approx(1e-4, rel=1e-6)
    assert repr(m) == "EGEM(N=1, eps=0.0001, learnable=True)"
    with torch.no_grad():
        m.eps_raw.fill_(-5.0)
    assert m.eps.item() == pytest.approx(math.log1p(math.exp(-5.0)), rel=1e-6)
    s = tb.Sqish(a=-0.5, learnable=True)
    with torch.no_grad():
        s.a_raw.fill_(0.0)
    assert s.a.item() == pytest.approx(1 - math.log(2), rel=1e-6)
    assert tb.EGEM(eps=0.25).eps == 0.25 and list(tb.EGEM(eps=0.25).parameters()) == []


# ------------------------------------------------------------------ per-channel parameters
def test_per_channel_parameters_values_and_gradients():
    torch.manual_seed(5)
    m = tb.EGEM(N=1, eps=0.3, learnable=True, num_parameters=3).double()
    with torch.no_grad():
        m.eps_raw.copy_(torch.tensor([-2.0, 0.0, 1.5]))
    assert repr(m).startswith("EGEM(N=1, eps=[") and "num_parameters=3" in repr(m)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    g = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    y = m(x)
    y.backward(g)
    assert m.eps_raw.grad.shape == (3,)
    eps = m.eps.detach()
    for c in range(3):
        ec = eps[c].clone().requires_grad_()
        yc = tb.e_gem(x[:, c], N=1, eps=ec)
        torch.testing.assert_close(y[:, c], yc)
        (d,) = torch.autograd.grad(yc, ec, g[:, c])
        # chain rule through eps = softplus(eps_raw): d eps / d raw = sigmoid(raw)
        torch.testing.assert_close(m.eps_raw.grad[c], d * torch.sigmoid(m.eps_raw[c].detach()))
    # the functional API takes a broadcastable tensor; its gradient has its shape
    e = torch.tensor([0.2, 0.5, 1.0], dtype=torch.float64).reshape(3, 1, 1).requires_grad_()
    tb.e_gem(x, eps=e).sum().backward()
    assert e.grad.shape == (3, 1, 1)
    for c in range(3):
        ec = e[c, 0, 0].detach().clone().requires_grad_()
        tb.e_gem(x[:, c], eps=ec).sum().backward()
        torch.testing.assert_close(e.grad[c, 0, 0], ec.grad)
    assert torch.autograd.gradcheck(lambda t, p: tb.sqish(t, a=p), (
        x[:1, :, :2, :2].clone().requires_grad_(),
        torch.tensor([0.1, -0.3, 0.5], dtype=torch.float64).reshape(3, 1, 1).requires_grad_()))
