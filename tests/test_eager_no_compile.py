"""Eager calls of the generated package never compile: ``torch.compile`` and Inductor are
made to raise, and every family runs forward and backward, float32 and bfloat16, above the
size from which the opt-in fused CPU kernel would take over (the threshold lowered to 1)."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")

import torch_bridge as tb  # noqa: E402
from torch_bridge import _runtime  # noqa: E402

CALLS = {
    "gem": lambda x: tb.gem(x, N=2),
    "e_gem": lambda x: tb.e_gem(x, N=1, eps=torch.tensor(0.3, requires_grad=True)),
    "se_gem": lambda x: tb.se_gem(x, N=1, eps=0.5),
    "sqish": lambda x: tb.sqish(x, a=torch.tensor(0.2, requires_grad=True), beta=1.5, gamma=0.8),
}


def _forbid(monkeypatch):
    import torch._inductor.compile_fx as compile_fx

    def refuse(*args, **kwargs):
        raise AssertionError("an eager call compiled")

    monkeypatch.setattr(torch, "compile", refuse)
    monkeypatch.setattr(compile_fx, "compile_fx", refuse)


@pytest.mark.skipif(os.environ.get("TORCH_BRIDGE_CPU_FUSE") == "1", reason="fusion opted in")
def test_fusion_is_off_by_default():
    assert _runtime._fuse is False


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_eager_call_never_compiles(monkeypatch, name, dtype):
    monkeypatch.setattr(_runtime, "_fuse", False)
    monkeypatch.setattr(_runtime, "FUSE_MIN", 1)
    _forbid(monkeypatch)
    x = torch.linspace(-5, 5, 4099, dtype=dtype).requires_grad_()
    y = CALLS[name](x)
    (g,) = torch.autograd.grad(y.sum(), x)
    assert y.shape == x.shape and g.dtype == dtype
    assert torch.isfinite(y.float()).all() and torch.isfinite(g.float()).all()


def test_opting_in_then_out_keeps_eager_calls_compile_free(monkeypatch):
    monkeypatch.setattr(_runtime, "FUSE_MIN", 1)
    _runtime.set_cpu_fusion(True)
    _runtime.set_cpu_fusion(False)
    _forbid(monkeypatch)
    x = torch.randn(1000)
    torch.testing.assert_close(tb.gem(x, N=1), torch.where(x > 0, x**3 / (x**2 + 1), 0.0))
    with pytest.raises(ValueError, match="on must be True or False"):
        _runtime.set_cpu_fusion(1)
