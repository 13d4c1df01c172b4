"""The plain eager CPU lane of the generated package (``_eager.call``): a public function's
call with Python-number parameters runs the registered op's kernel without the op's Python
layers.  Its forward values and input gradients are bitwise the checked path's (the op and
its ``autograd.Function`` with ``as_param``'s tensors), on one chunk, several chunks and
other layouts; a double backward goes through the differentiable op; bad parameters raise
the checked path's ValueError every time; -0.0 and 0.0 get their own parameter tensors;
and a call under a torch.func transform, a dispatch or function mode, the profiler, a JIT
trace or torch.compile still sees the op."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch_bridge as tb  # noqa: E402
from torch_bridge import _eager, _runtime  # noqa: E402

from .torch_calls import (assert_tools_see_the_op, bits, plain_formulas,  # noqa: E402
                          special_inputs)

LIB = "torch_bridge"
#: (family, integer parameters, real parameters as the user passes them)
CASES = [("gem", (1,), ()), ("gem", (4,), ()), ("e_gem", (2,), (0.5,)),
         ("e_gem", (1,), (1e-30,)), ("se_gem", (1,), (3,)), ("sqish", (), (0.0, 1.0, 1.0)),
         ("sqish", (), (-0.25, 2, 0.5))]
DTYPES = (torch.float32, torch.bfloat16, torch.float16, torch.float64)


@pytest.fixture(autouse=True)
def _plain_path():
    with plain_formulas():
        yield


@pytest.fixture()
def lane(monkeypatch):
    """The number of calls the lane answered (forward, with or without a graph)."""
    count = [0]
    call = _eager.call

    def counted(*args):
        y = call(*args)
        count[0] += y is not None
        return y

    monkeypatch.setattr(_eager, "call", counted)
    return count


def _checked(name, x, ints, reals):
    """The checked path: the family's ``autograd.Function`` over the registered op, with
    the parameters as ``as_param`` makes them."""
    entry = _runtime._REGISTRY[(LIB, name)]
    params = [_runtime.as_param(v, x, n, d)
              for v, n, d in zip(reals, entry.family.params, entry.family.domains)]
    return entry.eager.apply(x, *ints, *params)


def _kwargs(name, ints, reals) -> dict:
    fam = _runtime.family(LIB, name)
    return {**dict(zip(fam.int_params, ints)), **dict(zip(fam.params, reals))}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ints,reals", CASES)
def test_lane_is_the_checked_path_bitwise(lane, name, ints, reals, dtype):
    """Forward and x's gradient by the lane, on one chunk, on several chunks and on a
    transposed input: the bits of the checked path for the same call."""
    fn = getattr(tb, name)
    kwargs = _kwargs(name, ints, reals)
    small = special_inputs(dtype, 985)
    big = special_inputs(dtype, _runtime.CPU_CHUNK + 100, seed=1)
    for x in (small, big, small.reshape(40, 25).t()):
        g = special_inputs(dtype, x.numel() - 15, seed=2).reshape(x.shape)
        g0 = g.clone()
        before = lane[0]
        y = fn(x, **kwargs)
        xg = x.detach().clone().requires_grad_()
        (gx,) = torch.autograd.grad(fn(xg, **kwargs), xg, g)
        assert lane[0] == before + 2
        assert torch.equal(bits(g), bits(g0))  # the product goes into a copy of its own
        xr = x.detach().clone().requires_grad_()
        want = _checked(name, xr, ints, reals)
        (want_g,) = torch.autograd.grad(want, xr, g)
        assert y.stride() == want.stride()
        assert torch.equal(bits(y), bits(want.detach()))
        assert torch.equal(bits(gx), bits(want_g))


def test_expanded_gradient_and_inference_mode(lane):
    """``y.sum().backward()`` (a stride-0 gradient) and an inference-mode call take the
    lane with the checked path's values."""
    x = special_inputs(torch.float32, 300)
    xg = x.clone().requires_grad_()
    tb.e_gem(xg, N=1, eps=0.25).nansum().backward()
    xr = x.clone().requires_grad_()
    _checked("e_gem", xr, (1,), (0.25,)).nansum().backward()
    assert torch.equal(bits(xg.grad), bits(xr.grad))
    with torch.inference_mode():
        y = tb.sqish(x, a=0.5)
    assert torch.equal(bits(y), bits(_checked("sqish", x, (), (0.5, 1.0, 1.0)).detach()))
    assert lane[0] == 2


def test_double_backward_goes_through_the_registered_op(lane):
    """create_graph: x's gradient is differentiable again and equals the checked path's
    first and second derivatives (float64 also passes gradgradcheck)."""
    x = torch.randn(50, dtype=torch.float32)
    xg = x.clone().requires_grad_()
    (d1,) = torch.autograd.grad(tb.sqish(xg, a=-0.5).sum(), xg, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), xg)
    xr = x.clone().requires_grad_()
    (r1,) = torch.autograd.grad(_checked("sqish", xr, (), (-0.5, 1.0, 1.0)).sum(), xr,
                                create_graph=True)
    (r2,) = torch.autograd.grad(r1.sum(), xr)
    assert torch.equal(d1, r1) and torch.equal(d2, r2)
    assert lane[0] == 1
    x64 = torch.linspace(-2, 2, 9, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradgradcheck(lambda v: tb.se_gem(v, N=1, eps=0.5), (x64,))


def test_bad_parameters_raise_every_time(lane):
    """The checked path's ValueError, with and without a graph, and again on the next call
    (nothing is cached for a value that failed)."""
    x = torch.randn(64)
    for v in (x, x.clone().requires_grad_(), x, x.double()):
        with pytest.raises(ValueError, match="eps must be a real number > 0"):
            tb.e_gem(v, eps=0.0)
        with pytest.raises(ValueError, match="N must be a positive integer"):
            tb.gem(v, N=0)
        with pytest.raises(ValueError, match="a must be a real number < 1"):
            tb.sqish(v, a=1)
        with pytest.raises(ValueError, match="eps must be a real number > 0"):
            tb.se_gem(v, eps=float("nan"))
    assert lane[0] == 0
    with pytest.raises(ValueError, match="N must be a positive integer"):
        tb.gem(x, N=True)  # a bool is not an int here: the checked path says so
    with pytest.raises(TypeError, match="floating-point tensor"):
        tb.gem(torch.arange(4))


def test_signed_zero_parameters_get_their_own_tensors(lane):
    """a = 0.0 and a = -0.0 are equal dictionary keys; each call gets the tensor of its own
    value (the checked path's bits for both), and an integer N is not taken for True nor
    a real 1 for a tensor holding 1."""
    x = special_inputs(torch.float64, 200)
    for a in (0.0, -0.0, 0.0, -0.0):
        y = tb.sqish(x, a=a)
        want = _checked("sqish", x, (), (a, 1.0, 1.0)).detach()
        assert torch.equal(bits(y), bits(want))
        (plan,) = [p for k, p in _eager._PLANS.items() if k[1] == "sqish" and k[2] == x.dtype
                   and k[4] == (0.0, 1.0, 1.0)]
        assert torch.signbit(plan.params[0]).item() == (str(a) == "-0.0")
    assert lane[0] == 4
    tb.gem(x, N=1)
    with pytest.raises(ValueError, match="N must be a positive integer"):
        tb.gem(x, N=True)
    tb.e_gem(x, eps=1)
    tb.e_gem(x, eps=torch.tensor(1.0))
    assert lane[0] == 6


def test_other_parameter_types_take_the_checked_path(lane):
    """Tensor parameters, integer-valued floats for N and 0-d tensors go through the op."""
    x = torch.randn(32)
    tb.e_gem(x, eps=torch.tensor(0.5))
    tb.sqish(x, a=torch.tensor([0.1]))
    with pytest.raises(ValueError, match="N must be a positive integer"):
        tb.gem(x, N=1.0)
    assert lane[0] == 0


def test_modes_transforms_profiler_trace_compile_see_the_op(lane):
    x = torch.randn(16)
    assert_tools_see_the_op(lambda v: tb.gem(v, N=1), x, torch.ops.torch_bridge.gem_fwd.default)
    tb.gem(torch.nn.Parameter(x), N=1)  # a subclass
    batched = torch.func.vmap(lambda v: tb.gem(v, N=2))(x.reshape(4, 4))
    grads = torch.func.grad(lambda v: tb.sqish(v).sum())(x)
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(x, torch.ones_like(x))
        tangent = torch.autograd.forward_ad.unpack_dual(tb.gem(dual, N=1)).tangent
    compiled = torch.compile(lambda v: tb.gem(v, N=1), fullgraph=True, backend="eager")
    compiled(x)
    assert lane[0] == 0
    xg = x.clone().requires_grad_()
    assert torch.equal(batched, tb.gem(x, N=2).reshape(4, 4))
    assert torch.equal(grads, torch.autograd.grad(tb.sqish(xg).sum(), xg)[0])
    assert torch.allclose(tangent, torch.autograd.grad(tb.gem(xg, N=1).sum(), xg)[0])


def test_modules_with_fixed_values_take_the_lane(lane):
    """A module with fixed (Python-number) values runs the lane as the functional form
    does, with its bits; a learnable module whose parameters need their graph runs the
    op's kernels under ``_module._Learned`` (tests/test_learned_lane.py)."""
    from torch_bridge import modules

    x = special_inputs(torch.float32, 257)
    xg = x.clone().requires_grad_()
    fixed = modules.SEGEM(N=2, eps=0.5)
    y = fixed(x)
    (gx,) = torch.autograd.grad(fixed(xg).sum(), xg)
    assert lane[0] == 2
    xr = x.clone().requires_grad_()
    want = _checked("se_gem", xr, (2,), (0.5,))
    assert torch.equal(bits(y), bits(want.detach()))
    assert torch.equal(bits(gx), bits(torch.autograd.grad(want.sum(), xr)[0]))
    y = modules.SEGEM(N=2, eps=0.5, learnable=True)(x)
    assert lane[0] == 2 and type(y.grad_fn).__name__ == "_LearnedBackward"


def test_a_forced_triton_backend_is_kept(lane, monkeypatch):
    """``set_backend('triton')`` sends CPU calls to the Triton kernels: neither the lane nor
    the compiled CPU kernel takes them (the call reaches the registered op)."""
    reached = []
    monkeypatch.setattr(_runtime, "run", lambda lib, name, *args: reached.append(name) or name)
    x = torch.randn(8)
    _runtime.set_backend("triton")
    try:
        assert tb.gem(x, N=1) == "gem" and tb.e_gem(x, eps=0.5) == "e_gem"
    finally:
        _runtime.set_backend("auto")
    assert reached == ["gem", "e_gem"] and lane[0] == 0
    tb.gem(x, N=1)
    assert lane[0] == 1


def _module_op_path(module, x):
    """The learnable module's op path: the constrained parameter tensors through ``run``."""
    return _runtime.run(LIB, module._family, x, *module._args(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_learnable_module_without_a_graph_of_its_parameters_takes_the_lane(lane, dtype):
    """No gradient recorded (no_grad, or every parameter frozen): a learnable module's
    constrained values reach the lane as numbers, with the op path's bits, values and
    input gradients; a write through ``.data`` (no version bump) is seen at the next call;
    a call under the profiler keeps the op."""
    from torch_bridge import modules

    m = modules.Sqish(a=-0.25, beta=2.0, gamma=0.5, learnable=True)
    x = special_inputs(dtype, 300)
    with torch.no_grad():
        y = m(x)
        assert lane[0] == 1
        assert torch.equal(bits(y), bits(_module_op_path(m, x)))
        m.beta_raw.data.fill_(0.3)
        y = m(x)
        assert lane[0] == 2
        assert torch.equal(bits(y), bits(_module_op_path(m, x)))
    y = m(x)  # parameters need their graph: ``_Learned`` (tests/test_learned_lane.py)
    assert lane[0] == 2 and y.requires_grad
    y.float().sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    with torch.no_grad(), torch.autograd.profiler.profile():
        m(x)
    assert lane[0] == 2
    for p in m.parameters():
        p.requires_grad_(False)
    xg, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
    g = torch.linspace(-1.0, 1.0, x.numel(), dtype=torch.float64).to(dtype)
    (gx,) = torch.autograd.grad(m(xg), xg, g)
    assert lane[0] == 3
    want = _module_op_path(m, xr)
    assert torch.equal(bits(gx), bits(torch.autograd.grad(want, xr, g)[0]))


def test_learnable_module_with_a_non_finite_value_keeps_the_op(lane):
    """A raw parameter of inf or NaN (a diverged training run): the no-grad call keeps the
    op path, which takes the tensors unchecked, with its values (no ValueError)."""
    from torch_bridge import modules

    m = modules.Sqish(a=0.0, beta=1.0, gamma=1.0, learnable=True)
    x = special_inputs(torch.float32, 100)
    for v in (float("nan"), float("inf")):
        with torch.no_grad():
            m.beta_raw.fill_(v)
            y = m(x)
            want = _module_op_path(m, x)
        assert torch.equal(bits(y), bits(want)) and lane[0] == 0


def test_learnable_module_with_a_parametrized_raw_value_keeps_the_op(lane):
    """A raw value moved by ``torch.nn.utils.parametrize`` is no parameter of the module's
    own: the call keeps the op path (with every parameter frozen too), with its values."""
    from torch.nn.utils import parametrize

    from torch_bridge import modules

    class Same(torch.nn.Module):
        def forward(self, t):
            return t

    m = modules.Sqish(a=-0.25, beta=2.0, gamma=0.5, learnable=True)
    parametrize.register_parametrization(m, "a_raw", Same())
    for p in m.parameters():
        p.requires_grad_(False)
    x = special_inputs(torch.float32, 100)
    y = m(x)
    assert torch.equal(bits(y), bits(_module_op_path(m, x))) and lane[0] == 0


@pytest.mark.parametrize("name, reals", [("sqish", (0.0, 1.0, 1.0)), ("sqish", (-0.25, 2.0, 0.5)),
                                         ("e_gem", (0.5,)), ("se_gem", (0.5,))])
def test_parameter_expressions_are_evaluated_once_per_memo(name, reals):
    """The formulas' ``memo`` (``gemsym.codegen.body._memoized``): the first call with a
    memo stores the parameters' own expressions (Sqish's 2 gamma (a - 1), log(beta), and
    those inside larger ones: E-GEM f' 2 eps N, a tail's -c and -d, a < 0) and the body
    conditions; a later call with the same memo and another x makes no 0-d op but the
    scalars of its selections (masked_fill's) and gives the bits of a call without a memo,
    forward and first and second derivatives."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from torch_bridge import _formulas

    class ZeroDimOps(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor) and out.dim() == 0:
                self.ops.append(func.__name__)
            return out

    ints = (2,) if name in ("e_gem", "se_gem") else ()
    params = [torch.tensor(v, dtype=torch.float64) for v in reals]
    x1 = special_inputs(torch.float32, 500).double()
    x2 = torch.randn(300, dtype=torch.float64) * 4
    for suffix in ("f", "dx", "first", "second"):
        fn = getattr(_formulas, f"{name}_{suffix}")
        for narrow in (True, False):
            memo: dict = {}
            fn(x1, *ints, *params, exact=False, narrow=narrow, memo=memo)
            with ZeroDimOps() as mode:
                got = fn(x2, *ints, *params, exact=False, narrow=narrow, memo=memo)
            with ZeroDimOps() as plain:
                want = fn(x2, *ints, *params, exact=False, narrow=narrow)
            for a, b in zip(*((t,) if isinstance(t, torch.Tensor) else t for t in (got, want))):
                assert torch.equal(bits(a), bits(b)), (suffix, narrow)
            assert memo
            if name == "sqish":
                assert mode.ops.count("log.default") < plain.ops.count("log.default")
                assert len(mode.ops) + 4 <= len(plain.ops), (suffix, narrow, mode.ops)
            if name != "sqish" or suffix != "f":
                # (Sqish's f: the dispatch mode makes it apply the values at +-oo, whose
                # lines keep their parameters' expressions: they run only for infinities)
                assert set(mode.ops) <= {"scalar_tensor.default"}, (suffix, narrow, mode.ops)


def test_chunked_calls_share_one_memo(lane):
    """Several chunks of one call (``_runtime._torch_forward``, ``_torch_backward``): the
    parameters' expressions once for all chunks, the bits of the one-chunk evaluation."""
    x = torch.randn(3 * _runtime.CPU_CHUNK + 17) * 3
    want = torch.cat([tb.sqish(c, a=0.25, beta=2.0, gamma=0.5)
                      for c in x.split(_runtime.CPU_CHUNK)])
    assert torch.equal(bits(tb.sqish(x, a=0.25, beta=2.0, gamma=0.5)), bits(want))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_one_chunk_parameter_gradients_are_the_three_ops(dtype, shape):
    """``_param_grad`` (one eager op or none for a 0-d sum) gives bitwise what the one-chunk
    backward made of a float64 sum in three: (t + 0.0).to(q.dtype).reshape(q.shape); a
    parameter with no gradient wanted gets +0 of its dtype and shape."""
    q = torch.zeros(shape, dtype=dtype)
    values = [0.0, -0.0, 1.5, -2.0**-1074, 1e300, -1e300, 3.4028235677973366e38,
              float("inf"), float("-inf"), float("nan"), -float("nan"), 1.0 + 2.0**-30]
    for v in values:
        t = torch.tensor(v, dtype=torch.float64)
        got = _runtime._param_grad(t, q, t.device)
        want = (t + 0.0).to(dtype).reshape(shape)
        assert got.dtype == dtype and got.shape == want.shape
        assert torch.equal(bits(got), bits(want)), (v, dtype, shape)
    none = _runtime._param_grad(None, q, q.device)
    assert none.dtype == dtype and none.shape == q.shape
    assert torch.equal(bits(none), bits(torch.zeros(shape, dtype=dtype)))


def test_memo_keeps_the_compute_dtype_parameters():
    """The chunk loop and the one-chunk calls read the parameters converted to the compute
    dtype from the memo they are given (``_memo_scalars``): made once, and the same
    values as a call without a memo."""
    params = [torch.tensor(0.3, dtype=torch.float32), torch.tensor(2.0, dtype=torch.float64)]
    memo: dict = {}
    first = _runtime._memo_scalars(params, torch.float64, memo)
    assert _runtime._memo_scalars(params, torch.float64, memo) is first
    plain = _runtime._scalars(params, torch.float64)
    assert all(a.dtype == torch.float64 and torch.equal(a, b) for a, b in zip(first, plain))
    assert first[1] is params[1]  # already the compute dtype: passed as it is
