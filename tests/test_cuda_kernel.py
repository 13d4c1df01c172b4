"""The ahead-of-time CUDA kernels (``_cuda_kernels.cu``): the CPU kernels' scalar bodies
compiled by nvcc.  On a machine without CUDA only the source's structure and the build
step's behaviour are checked; with a GPU (``benchmarks/gpu.sh``), the kernels against the
CPU path, which tests/test_cpu_kernel.py and tests/test_numerics.py check against mpmath:
float32 values and input gradients bit for bit (the same double arithmetic, rounded once),
16-bit ones within the one unit that the CPU path's double rounding can move, parameter
gradients as float64 sums."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TB = ROOT / "torch_bridge"
DTYPES = ("float32", "bfloat16", "float16")
CASES = [
    ("gem", {"N": 1}),
    ("gem", {"N": 2}),
    ("gem", {"N": 4}),
    ("e_gem", {"N": 1, "eps": 1e-4}),
    ("e_gem", {"N": 2, "eps": 0.5}),
    ("se_gem", {"N": 1, "eps": 1.0}),
    ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}),
    ("sqish", {"a": -0.25, "beta": 2.0, "gamma": 0.5}),
    ("sqish", {"a": -1.0, "beta": 1.0, "gamma": 1.0}),
]
IDS = [f"{f}-{i}" for i, (f, _) in enumerate(CASES)]


def _definitions(source: str) -> list[str]:
    """The family part of a generated kernel source (between the helpers and the
    registration)."""
    body = source.split("// ---- ", 1)[1]
    return ("// ---- " + body).split("TORCH_LIBRARY(", 1)[0].splitlines()


def test_cuda_source_holds_the_cpu_bodies():
    """The CUDA source is the CPU source's families verbatim (so the kernels compute what
    the CPU kernels compute), registered for CUDA in the namespace ``<lib>_cuda``, with
    device lambdas and no fused multiply-adds asked for."""
    cpu = (TB / "_cpu_kernels.cpp").read_text()
    cuda = (TB / "_cuda_kernels.cu").read_text()
    assert _definitions(cuda) == _definitions(cpu)
    assert "TORCH_LIBRARY(torch_bridge_cuda, m)" in cuda
    assert "TORCH_LIBRARY_IMPL(torch_bridge_cuda, CUDA, m)" in cuda
    assert re.findall(r'm\.def\("(\w+)\(', cuda) == re.findall(r'm\.def\("(\w+)\(', cpu)
    assert "[=] _LAMBDA_SPACE (double v" in cuda and "#define _LAMBDA_SPACE __device__" in cuda
    sys.path.insert(0, str(TB))
    try:
        import build
    finally:
        sys.path.remove(str(TB))
    assert "-fmad=false" in build.NVCC_FLAGS and "--use_fast_math" not in build.NVCC_FLAGS


@pytest.mark.skipif(torch.version.cuda is not None, reason="checks a torch without CUDA")
def test_build_step_skips_cuda_without_a_cuda_torch():
    """With a CPU build of torch there is no CUDA library to look for, and the build step
    builds the CPU kernels alone (exit 0)."""
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                           " import build; print(build.cuda_library_path(), "
                           "build.build_cuda(quiet=True))", str(TB)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["None", "None"]


# ---------------------------------------------------------------- on a GPU
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(scope="module")
def tb():
    """torch_bridge with its CUDA kernels loaded (built here if they are not)."""
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    import torch_bridge
    from torch_bridge import _cuda_kernel, _ops

    if not _cuda_kernel.loaded():
        proc = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                               " import build; print(build.build_cuda())", str(TB)],
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
        _cuda_kernel.load(_ops.LIB, _ops.FAMILIES)
    assert set(_cuda_kernel.loaded()) == {"gem", "e_gem", "se_gem", "sqish"}
    yield torch_bridge
    _cuda_kernel.set_cuda_kernel(True)


class _Counting:
    def __init__(self, monkeypatch):
        from torch_bridge import _cuda_kernel

        self.calls = 0
        for name, ops in list(_cuda_kernel._OPS.items()):
            monkeypatch.setitem(_cuda_kernel._OPS, name, tuple(self._wrap(op) for op in ops))

    def _wrap(self, op):
        def counted(*args):
            self.calls += 1
            return op(*args)
        return counted


def _inputs(dt: torch.dtype, n: int = 20011, seed: int = 3) -> torch.Tensor:
    info = torch.finfo(dt)
    special = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), info.tiny,
               -info.tiny, info.tiny / 4, info.max, -info.max, 1e-3, -1e-3, 30.0, -30.0, 700.0]
    gen = torch.Generator().manual_seed(seed)
    wide = torch.randn(n, generator=gen, dtype=torch.float64) * 4
    scales = torch.exp2(torch.randint(-60, 60, (n // 4,), generator=gen).double())
    return torch.cat([torch.tensor(special, dtype=torch.float64), wide,
                      torch.randn(n // 4, generator=gen, dtype=torch.float64) * scales]).to(dt)


def _assert_same(a: torch.Tensor, b: torch.Tensor, dtype: str) -> None:
    """Bit for bit (float32); 16-bit: equal, or one unit apart where the CPU path's double
    rounding (float64 -> float32 -> 16-bit) moved a near-tie."""
    a, b = a.cpu(), b.cpu()
    if dtype == "float32":
        torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True)
        return
    assert torch.equal(a.isnan(), b.isnan()) and torch.equal(a.isinf(), b.isinf())
    fin = a.isfinite()
    diff = (a[fin].double() - b[fin].double()).abs()
    eps = torch.finfo(a.dtype).eps
    assert (diff <= eps * b[fin].double().abs().clamp_min(torch.finfo(a.dtype).tiny)).all()


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family, params", CASES, ids=IDS)
def test_values_are_the_cpu_paths(tb, monkeypatch, family, params, dtype):
    """A plain call on a CUDA tensor runs the kernel (directly from the public function)
    and gives the CPU path's values."""
    dt = getattr(torch, dtype)
    x = _inputs(dt)
    counter = _Counting(monkeypatch)
    with torch.no_grad():
        y = getattr(tb, family)(x.cuda(), **params)
    assert counter.calls == 1
    _assert_same(y, getattr(tb, family)(x, **params), dtype)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family, params", CASES, ids=IDS)
def test_backward_is_the_cpu_paths(tb, family, params, dtype):
    """The backward op's kernel: g f'(x) as the CPU path's, and the parameter
    derivatives' sums as its float64 sums (another order of summation: 1e-12 relative to
    the sum of magnitudes)."""
    from torch_bridge import _cuda_kernel

    dt = getattr(torch, dtype)
    x = _inputs(dt, seed=5)
    gen = torch.Generator().manual_seed(6)
    g = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(dt)
    ints = [v for k, v in params.items() if k == "N"]
    reals = [float(v) for k, v in params.items() if k != "N"]
    op = getattr(torch.ops.torch_bridge, f"{family}_bwd").default
    want = op(g, x, *ints, *[torch.tensor(v, dtype=torch.float64) for v in reals], True)
    want = want if isinstance(want, (tuple, list)) else (want,)
    gx, sums = _cuda_kernel._OPS[family][1](g.cuda(), x.cuda(), *ints, *reals, True)
    _assert_same(gx, want[0], dtype)
    fin = (x.double() * g.double()).isfinite() & want[0].isfinite()
    scale = float((g.double().abs() * x.double().abs().clamp_max(1e30))[fin].sum()) + 1.0
    for got, ref in zip(sums.cpu(), want[1:]):
        if ref.isfinite():
            assert abs(float(got) - float(ref)) <= 1e-12 * scale, (float(got), float(ref))
        else:
            assert float(got) == float(ref) or (got.isnan() and ref.isnan())
    again = _cuda_kernel._OPS[family][1](g.cuda(), x.cuda(), *ints, *reals, True)[1]
    # fixed blocks and trees: the same bits every time (NaN sums included)
    assert torch.equal(again.view(torch.int64), sums.view(torch.int64))


@needs_cuda
@pytest.mark.parametrize("family, params", CASES, ids=IDS)
def test_autograd_takes_the_kernel_for_python_numbers(tb, monkeypatch, family, params):
    """Forward and backward through autograd with Python-number parameters (held on the
    host for the kernel): both in the kernel, with the CPU path's values and input
    gradients; a parameter tensor that needs its gradient keeps the Triton kernels."""
    x = _inputs(torch.float32).cuda().requires_grad_()
    counter = _Counting(monkeypatch)
    y = getattr(tb, family)(x, **params)
    (gx,) = torch.autograd.grad(y.sum(), x)
    assert counter.calls == 2
    xc = x.detach().cpu().requires_grad_()
    yc = getattr(tb, family)(xc, **params)
    (want,) = torch.autograd.grad(yc.sum(), xc)
    _assert_same(y.detach(), yc.detach(), "float32")
    _assert_same(gx, want, "float32")
    reals = {k: torch.tensor(v, device="cuda", requires_grad=True)
             for k, v in params.items() if k != "N"}
    if reals:
        ints = {k: v for k, v in params.items() if k == "N"}
        y = getattr(tb, family)(x, **ints, **reals)
        torch.autograd.grad(y.sum(), [x, *reals.values()])
        assert counter.calls == 2


@needs_cuda
def test_sizes_and_layouts(tb, monkeypatch):
    """Each element's value does not depend on the size of the call (blocks, tails); an
    empty input works; a non-contiguous input or float64 keeps the other paths."""
    x = _inputs(torch.float32, n=(1 << 20) + 3).cuda()
    with torch.no_grad():
        whole = tb.sqish(x)
        for n in (0, 1, 255, 1023, 1025, 4097, 65537):
            part = tb.sqish(x[:n].clone())
            assert torch.equal(part.view(torch.int32), whole[:n].view(torch.int32))
        counter = _Counting(monkeypatch)
        tb.gem(x[::2], N=1)
        tb.gem(x.double(), N=1)
    assert counter.calls == 0


@needs_cuda
@pytest.mark.parametrize("kwargs, message", [
    ({"N": 1, "eps": -1.0}, "eps"),
    ({"N": 1, "eps": 1e-46}, "eps"),
    ({"N": 0, "eps": 0.5}, "N"),
])
def test_direct_calls_check_parameters(tb, kwargs, message):
    """The direct call raises the checked path's ValueError (eps = 1e-46 is 0 in float32,
    the dtype CUDA inputs' parameters are checked in)."""
    x = torch.randn(8, device="cuda")
    for _ in range(2):
        with pytest.raises(ValueError, match=message):
            tb.e_gem(x, **kwargs)
