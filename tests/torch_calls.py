"""Helpers of the tests of the generated package's eager calls: inputs with the special
values, bitwise comparison, the PyTorch formulas without the compiled kernel, and the check that a call is seen as the registered op by the
tools that must see it."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode


def special_inputs(dtype, n: int = 4001, seed: int = 0) -> torch.Tensor:
    """Signed zeros, +-1, +-inf, NaN, the smallest normal and the largest finite values of
    ``dtype`` and a few others, then n normal samples (scaled by 4) of a seeded generator."""
    info = torch.finfo(dtype)
    special = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), info.tiny,
               -info.tiny, info.max, -info.max, 1e-3, -1e-3, 30.0, -30.0]
    gen = torch.Generator().manual_seed(seed)
    rand = torch.randn(n, generator=gen, dtype=torch.float64) * 4
    return torch.cat([torch.tensor(special, dtype=torch.float64), rand]).to(dtype)


def bits(t: torch.Tensor) -> torch.Tensor:
    """The bit patterns of ``t`` (NaN payloads and signed zeros compared too)."""
    return t.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


@contextmanager
def plain_formulas():
    """The PyTorch formulas, not the optional compiled C++ kernel, inside the block."""
    from torch_bridge import _cpu_kernel

    before = _cpu_kernel._on
    _cpu_kernel._on = False
    try:
        yield
    finally:
        _cpu_kernel._on = before


class _Dispatch(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.append(func)
        return func(*args, **(kwargs or {}))


class _Function(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.seen.append(func)
        return func(*args, **(kwargs or {}))


def assert_tools_see_the_op(fn, x: torch.Tensor, op) -> None:
    """``fn(x)`` calls the registered op ``op`` (an OpOverload) where a dispatch mode, a
    function mode, the profiler and a JIT trace look."""
    with _Dispatch() as d:
        fn(x)
    with _Function() as f:
        fn(x)
    assert op in d.seen and op in f.seen
    name = op.name()
    with torch.autograd.profiler.profile() as prof:
        fn(x)
    assert name in {e.name for e in prof.function_events}
    # check_trace=False: the check runs the function again, eagerly
    traced = torch.jit.trace(fn, x, check_trace=False)
    assert name in str(traced.graph)
