"""The direct Python binding of the C++ CPU kernels (``_cpu_direct`` in the same library as
the ``torch.library`` ops, see ``_cpu_kernel_helpers.h``): its results are bitwise the ops'
(forward, and x's gradient through ``_cpu_kernel._Graph``), a double backward and every
call it declines go through the registered ops, and a call under a torch.func transform,
the profiler, a dispatch or function mode, a JIT trace or torch.compile still sees the op;
a library without the binding loads and runs through the ops."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")


from .torch_calls import assert_tools_see_the_op, bits, special_inputs  # noqa: E402

DTYPES = ("float32", "bfloat16", "float16")
#: (family, integer parameters, real parameters as the user passes them)
CASES = [("gem", (1,), ()), ("gem", (3,), ()), ("gem", (7,), ()), ("e_gem", (2,), (0.5,)),
         ("e_gem", (1,), (1e-30,)), ("se_gem", (1,), (3,)),
         ("sqish", (), (0.0, 1.0, 1.0)), ("sqish", (), (-0.25, 2, 0.5))]


@pytest.fixture(scope="module")
def tb():
    """torch_bridge with its CPU kernels and their direct binding loaded."""
    import torch_bridge
    from torch_bridge import _cpu_kernel, _ops, build

    if not build._python_flags():
        pytest.skip("no Python headers: the build has no direct binding")
    if not _cpu_kernel.loaded():  # built here if `make` has not (as tests/test_cpu_kernel.py)
        proc = subprocess.run([sys.executable, build.__file__, "--quiet"], capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
        _cpu_kernel.load(_ops.LIB, _ops.FAMILIES)
    assert set(_cpu_kernel._DIRECT) == set(_cpu_kernel._GRAD) == set(_cpu_kernel.loaded())
    return torch_bridge


@pytest.fixture()
def hits(tb, monkeypatch):
    """The number of binding calls that ran a kernel (returned a tensor)."""
    from torch_bridge import _cpu_kernel

    count = [0]

    def wrap(fn):
        def counted(*args):
            out = fn(*args)
            count[0] += isinstance(out, torch.Tensor)
            return out
        return counted

    for table in (_cpu_kernel._DIRECT, _cpu_kernel._GRAD):
        for name, fn in list(table.items()):
            monkeypatch.setitem(table, name, wrap(fn))
    return count


def _op_params(reals):
    """The real parameters as the checked path passes them to the op (float64 0-d)."""
    return [torch.full((), float(v), dtype=torch.float64) for v in reals]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ints,reals", CASES)
def test_binding_is_the_op_bitwise(tb, name, ints, reals, dtype):
    """Forward and x's gradient by the binding: the bits of the C++ ops and of the public
    function's checked path (registered op, autograd.Function) for the same call."""
    from torch_bridge import _cpu_kernel

    dt = getattr(torch, dtype)
    x = special_inputs(dt)
    g = special_inputs(dt, seed=1)[: x.numel()]
    cpu = getattr(torch.ops.torch_bridge_cpu, f"{name}_fwd")
    bwd = getattr(torch.ops.torch_bridge_cpu, f"{name}_bwd")
    floats = [float(v) for v in reals]
    y = _cpu_kernel._DIRECT[name](x, ints, reals)
    with torch.no_grad():  # as in a backward without create_graph
        gx = _cpu_kernel._GRAD[name](g, x, ints, reals)
    assert torch.equal(bits(y), bits(cpu(x, *ints, *floats)))
    assert torch.equal(bits(gx), bits(bwd(g, x, *ints, *floats, False)[0]))
    # the public function, with the binding and through the registered op
    fn = getattr(tb, name)
    fam = tb._ops.FAMILIES[name]
    kwargs = {**dict(zip(fam.int_params, ints)), **dict(zip(fam.params, reals))}
    xg = x.clone().requires_grad_()
    with_binding = (fn(x, **kwargs), *torch.autograd.grad(fn(xg, **kwargs), xg, g))
    entry = tb._runtime._REGISTRY[("torch_bridge", name)]
    op_y = entry.op(x, *ints, *_op_params(reals))
    op_g = torch.autograd.grad(entry.eager.apply(xg, *ints, *_op_params(reals)), xg, g)[0]
    assert torch.equal(bits(with_binding[0]), bits(op_y))
    assert torch.equal(bits(with_binding[1]), bits(op_g))


def test_plain_calls_take_the_binding(tb, hits):
    """A plain call, an inference-mode call and forward+backward (an expanded gradient
    too) run the binding: one kernel call each way."""
    x = torch.randn(100)
    tb.gem(x, N=2)
    with torch.inference_mode():
        tb.sqish(x, a=0.5)
    assert hits[0] == 2
    xg = x.clone().requires_grad_()
    y = tb.e_gem(xg, N=1, eps=0.25)
    assert y.requires_grad and hits[0] == 3
    y.sum().backward()  # the gradient is a stride-0 expansion
    assert hits[0] == 4
    xr = x.clone().requires_grad_()
    entry = tb._runtime._REGISTRY[("torch_bridge", "e_gem")]
    entry.eager.apply(xr, 1, *_op_params([0.25])).sum().backward()
    assert torch.equal(xg.grad, xr.grad)


def test_double_backward_goes_through_the_registered_op(tb, hits):
    """create_graph: x's gradient is differentiable again and equals the checked path's
    first and second derivatives."""
    x = torch.randn(50, dtype=torch.float32)
    xg = x.clone().requires_grad_()
    (d1,) = torch.autograd.grad(tb.sqish(xg, a=-0.5).sum(), xg, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), xg)
    entry = tb._runtime._REGISTRY[("torch_bridge", "sqish")]
    xr = x.clone().requires_grad_()
    (r1,) = torch.autograd.grad(entry.eager.apply(xr, *_op_params([-0.5, 1.0, 1.0])).sum(), xr,
                                create_graph=True)
    (r2,) = torch.autograd.grad(r1.sum(), xr)
    assert torch.equal(d1, r1) and torch.equal(d2, r2)
    assert hits[0] == 1  # the forward; the backward ran the differentiable op


def test_declined_calls_keep_their_errors_and_paths(tb, hits):
    """Bad parameters raise the checked path's ValueError with and without a graph;
    a negative view, a subclass, a non-contiguous or float64 input go through the op."""
    x = torch.randn(64)
    for v in (x, x.clone().requires_grad_()):
        with pytest.raises(ValueError, match="eps must be a real number > 0"):
            tb.e_gem(v, eps=0.0)
        with pytest.raises(ValueError, match="N must be a positive integer"):
            tb.gem(v, N=True)
        with pytest.raises(ValueError, match="a must be a real number < 1"):
            tb.sqish(v, a=1)
    neg = torch._neg_view(x)
    assert torch.equal(tb.gem(neg, N=1), tb.gem((-x).contiguous(), N=1))
    assert hits[0] == 1  # the second call only
    tb.gem(torch.nn.Parameter(x), N=1)
    tb.gem(x.reshape(8, 8).t(), N=1)
    tb.gem(x.double(), N=1)
    assert hits[0] == 1


def test_modes_transforms_profiler_trace_compile_see_the_op(tb, hits):
    x = torch.randn(16)
    assert_tools_see_the_op(lambda v: tb.gem(v, N=1), x, torch.ops.torch_bridge.gem_fwd.default)
    assert hits[0] == 0
    # torch.func: the same values as plain calls, none of them by the binding
    batched = torch.func.vmap(lambda v: tb.gem(v, N=2))(x.reshape(4, 4))
    grads = torch.func.grad(lambda v: tb.sqish(v).sum())(x)
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(x, torch.ones_like(x))
        tangent = torch.autograd.forward_ad.unpack_dual(tb.gem(dual, N=1)).tangent
    assert hits[0] == 0
    xg = x.clone().requires_grad_()
    assert torch.equal(batched, tb.gem(x, N=2).reshape(4, 4))
    assert torch.equal(grads, torch.autograd.grad(tb.sqish(xg).sum(), xg)[0])
    assert torch.allclose(tangent, torch.autograd.grad(tb.gem(xg, N=1).sum(), xg)[0])
    # Dynamo traces the call without a graph break (fullgraph) and never calls the binding
    hits[0] = 0
    compiled = torch.compile(lambda v: tb.gem(v, N=1), fullgraph=True, backend="eager")
    compiled(x)
    assert hits[0] == 0


def test_a_forced_triton_backend_is_kept(tb, hits, monkeypatch):
    """``set_backend('triton')`` sends CPU calls to the Triton kernels: the binding does not
    take them (the call reaches the registered op)."""
    reached = []
    monkeypatch.setattr(tb._runtime, "run", lambda lib, name, *args: reached.append(name))
    tb._runtime.set_backend("triton")
    try:
        tb.gem(torch.randn(8), N=1)
    finally:
        tb._runtime.set_backend("auto")
    assert reached == ["gem"] and hits[0] == 0


def test_a_library_without_the_binding_loads(tb, monkeypatch):
    """A library with no ``PyInit__cpu_direct`` gives no binding (the calls then take the
    ops, with the same results)."""
    from pathlib import Path

    from torch_bridge import _cpu_kernel

    c10 = next(Path(torch.__file__).parent.joinpath("lib").glob("libc10.so*"))
    assert _cpu_kernel._direct_module("torch_bridge", c10) is None
    x = torch.randn(300)
    want = tb.e_gem(x, N=2, eps=0.5)
    monkeypatch.setattr(_cpu_kernel, "_DIRECT", {})
    monkeypatch.setattr(_cpu_kernel, "_GRAD", {})
    assert torch.equal(tb.e_gem(x, N=2, eps=0.5), want)


def test_modules_with_fixed_values_take_the_binding(tb, hits):
    """A module with fixed (Python-number) values runs the binding as the functional form
    does, with its bits; so does the forward of a learnable module whose parameters need
    their graph (``_module._Learned``, tests/test_learned_lane.py)."""
    from torch_bridge import modules

    x = torch.randn(257)
    xg = x.clone().requires_grad_()
    fixed = modules.EGEM(N=2, eps=0.5)
    y = fixed(x)
    (gx,) = torch.autograd.grad(fixed(xg).sum(), xg)
    assert hits[0] == 3
    entry = tb._runtime._REGISTRY[("torch_bridge", "e_gem")]
    xr = x.clone().requires_grad_()
    want = entry.eager.apply(xr, 2, *_op_params([0.5]))
    assert torch.equal(y, want.detach())
    assert torch.equal(gx, torch.autograd.grad(want.sum(), xr)[0])
    y = modules.EGEM(N=2, eps=0.5, learnable=True)(x)
    assert hits[0] == 4 and type(y.grad_fn).__name__ == "_LearnedBackward"


@pytest.mark.parametrize("dtype", DTYPES)
def test_learnable_modules_without_a_parameter_graph_take_the_binding(tb, hits, dtype):
    """A learnable module's no-grad call passes its constrained values as numbers
    (``_module._numbers``), which the binding takes: bitwise the op path with the
    constrained parameter tensors (inf, NaN and signed zeros included)."""
    from torch_bridge import _runtime, modules

    x = special_inputs(getattr(torch, dtype), 3000)
    for m in (modules.Sqish(a=-0.25, beta=2.0, gamma=0.5, learnable=True),
              modules.EGEM(N=2, eps=0.3, learnable=True),
              modules.SEGEM(N=1, eps=1e-4, learnable=True)):
        before = hits[0]
        with torch.no_grad():
            y = m(x)
            assert hits[0] == before + 1, m._family
            want = _runtime.run("torch_bridge", m._family, x, *m._args(x))
        assert torch.equal(bits(y), bits(want)), (m._family, dtype)
