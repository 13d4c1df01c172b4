"""The lean eager PyTorch path of the generated package: calls that bypass the dispatcher
(``_runtime.direct``) and the one-chunk fast path give bitwise the results of the op and of
the chunk loop; the shared sigmoid pair is bitwise the two single sigmoids; a GEM forward
evaluates each condition on x once (ATen ops counted)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch_bridge as tb  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
from torch_bridge import _runtime  # noqa: E402

from .torch_calls import plain_formulas  # noqa: E402

LIB = "torch_bridge"
#: (family, integer parameters, real parameters)
CASES = [("gem", (2,), ()), ("e_gem", (1,), (0.3,)), ("se_gem", (1,), (0.5,)),
         ("sqish", (), (0.2, 1.5, 0.8)), ("sqish", (), (-0.4, 0.7, 1.3))]


@pytest.fixture(autouse=True)
def _plain_path():
    with plain_formulas():
        yield


def _inputs(n: int, dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(n)
    x = torch.randn(n, generator=g, dtype=torch.float64) * 3
    x[:8] = torch.tensor([0.0, -0.0, 1.0, -1.0, 1e-30, -1e30, 40.0, -40.0])
    return x.to(dtype)


def _params(x, reals):
    """The real parameters as ``call`` passes them to the op: 0-d, in the compute dtype."""
    cdt = _runtime.compute_dtype(x.dtype, x.device)
    return [torch.full((), v, dtype=cdt) for v in reals]


@pytest.mark.parametrize("name,ints,reals", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_direct_call_is_the_op(name, ints, reals, dtype):
    """No grad: the kernel called directly and the registered op agree bitwise."""
    x = _inputs(1000, dtype)
    entry = _runtime._REGISTRY[(LIB, name)]
    p = _params(x, reals)
    with torch.no_grad():
        assert _runtime.direct(x, *ints, *p)
        via_op = entry.op(x, *ints, *p)
        direct = _runtime.call(LIB, name, x, ints, reals)
    same = (direct == via_op) | (direct.isnan() & via_op.isnan())
    assert bool(same.all())
    assert torch.equal(torch.signbit(direct), torch.signbit(via_op))


def test_direct_refused_under_modes_and_subclasses():
    x = torch.randn(4)

    class Probe(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    assert _runtime.direct(x, 1)
    with Probe():
        assert not _runtime.direct(x, 1)
    with torch.device("cpu"):  # a function mode
        assert not _runtime.direct(x, 1)
    assert not _runtime.direct(torch.nn.Parameter(x), 1)
    assert not _runtime.direct(x.to("meta"), 1)


@pytest.mark.parametrize("name,ints,reals", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_one_chunk_equals_chunk_loop(name, ints, reals, dtype):
    """Forward values and input gradients of n <= CPU_CHUNK elements (one-chunk path) are
    bitwise those of the same elements inside a tensor the chunk loop evaluates."""
    small = _inputs(999, dtype)
    big = torch.cat([small, _inputs(_runtime.CPU_CHUNK + 5, dtype)])
    g_small = torch.linspace(-2, 2, 999, dtype=torch.float64).to(dtype)
    g_big = torch.cat([g_small, torch.ones(big.numel() - 999, dtype=dtype)])
    results = []
    for x, g in ((small, g_small), (big, g_big)):
        x = x.clone().requires_grad_(True)
        y = _runtime.call(LIB, name, x, ints, reals)
        (gx,) = torch.autograd.grad(y, x, g)
        results.append((y.detach()[:999], gx[:999]))
    for a, b in zip(*results):
        same = (a == b) | (a.isnan() & b.isnan())
        assert bool(same.all()), name


def test_sigmoid_trio_product_rounds_once():
    """``_sigmoid_trio``: the two sides bitwise ``_sigmoid_pair``'s; the float64 product
    sigma(s) sigma(-s) against 1/((1 + e^-s)(1 + e^s)) by mpmath at 40 digits, in units of
    2^-53 relative, on s = -0.75 x + log 2 (Sqish(a=0.25, beta=2, gamma=0.5)): measured 2.65
    at most (the product of the two rounded sides: 3.63); float32 results (not ``exact``):
    the plain product."""
    import mpmath

    from gemsym.codegen.runtime import _runtime as runtime

    x = torch.linspace(-60, 60, 4001, dtype=torch.float64)
    c = torch.tensor(-0.75, dtype=torch.float64)
    d = torch.log(torch.tensor(2.0, dtype=torch.float64))
    for exact in (False, True):
        pos, neg, prod = runtime._sigmoid_trio(c, x, d, exact)
        pair = runtime._sigmoid_pair(c, x, d, exact)
        assert torch.equal(pos, pair[0]) and torch.equal(neg, pair[1])
        if not exact:
            assert torch.equal(prod, pos * neg)
    worst = 0.0
    with mpmath.workdps(40):
        for i in range(4001):
            s = mpmath.mpf(float(c)) * mpmath.mpf(float(x[i])) + mpmath.log(2)
            want = 1 / ((1 + mpmath.exp(-s)) * (1 + mpmath.exp(s)))
            worst = max(worst, float(abs(mpmath.mpf(float(prod[i])) - want) / want) * 2.0**53)
    assert worst <= 3.2, worst


@pytest.mark.parametrize("exact", [False, True])
def test_sigmoid_pair_is_both_sigmoids(exact):
    x = torch.linspace(-60, 60, 4001, dtype=torch.float64)
    c, d = torch.tensor(-1.7, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)
    pos, neg = _runtime._sigmoid_pair(c, x, d, exact)
    assert torch.equal(pos, _runtime._sigmoid_lin(c, x, d, exact))
    assert torch.equal(neg, _runtime._sigmoid_lin(c, x, d, exact, True))
    # an independent value: the logistic function at high precision; without ``exact``
    # the rounding of s = c x + d (|s| 2^-53 relative, for a float32 result) is not corrected
    import mpmath

    tol = 4e-16 if exact else 1e-13
    with mpmath.workdps(40):
        for i in range(0, 4001, 400):
            s = mpmath.mpf(float(c)) * mpmath.mpf(float(x[i])) + mpmath.mpf(float(d))
            for got, want in ((pos[i], 1 / (1 + mpmath.exp(-s))), (neg[i], 1 / (1 + mpmath.exp(s)))):
                assert abs(float(got) - float(want)) <= tol * float(want)


class _Count(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def test_gem_forward_evaluates_each_condition_once():
    """|x| <= 1 and x < 0 once each; no division of a number by a tensor (``1/t`` is a
    reciprocal and a multiplication by a wrapped 1 in eager PyTorch)."""
    x = _inputs(256, torch.float32)
    fam = _runtime.family(LIB, "gem")
    with torch.no_grad(), _Count() as count:
        fam.forward(x.double(), 1, exact=False)
    assert count.ops.count("aten.le") == 1, count.ops
    assert count.ops.count("aten.lt") == 1, count.ops
    # 15 ATen ops, plus the guard of the |x| <= 1 form against x^(2N+1) underflowing
    # (|x^(2N+1)| < 2^-100: x (x^2N/(x^2N + 1)) instead): abs, ge, where, mul, div
    assert len(count.ops) <= 20, count.ops
