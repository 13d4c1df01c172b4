"""The generated Triton kernels, executed on CPU by the Triton interpreter
(``TRITON_INTERPRET=1``, float32) and on a GPU with every dtype when one is present:
values and gradients against mpmath at odd and prime sizes (1, 1023, 3*7*256), parameter
gradients by the deterministic two-stage reduction, limits at +-oo and NaN propagation."""

from __future__ import annotations

import math
import os
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    # must be set before torch_bridge._kernels is imported (triton.jit reads it then)
    os.environ.setdefault("TRITON_INTERPRET", "1")
pytest.importorskip("triton")

import mpmath as mp  # noqa: E402
import numerics_reference as ref  # noqa: E402
import torch_bridge as tb  # noqa: E402
from torch_bridge import _runtime  # noqa: E402

CONFIGS = [
    ("gem", {"N": 1}),
    ("e_gem", {"N": 2, "eps": 0.25}),
    ("se_gem", {"N": 1, "eps": 1.0}),
    ("sqish", {"a": 0.25, "beta": 2.0, "gamma": 0.5}),
]
SIZES = [1, 1023, 3 * 7 * 256]
# the interpreter evaluates both sides of every tl.where in numpy, which warns on the
# unused side (1/0 for r = 1/x at x = 0); the results are checked below
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
needs_kernels = pytest.mark.skipif(
    not (torch.cuda.is_available() or INTERPRETED),
    reason="needs a GPU or TRITON_INTERPRET=1 set before triton was imported")


_backend = ref.backend_fixture("triton")


def _device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def _run(family, params, x):
    """Forward, d/dx (through the backward kernel) and the parameter gradients."""
    fn = getattr(tb, family)
    x = x.clone().requires_grad_()
    kw = {k: (v if k == "N" else torch.tensor(v, dtype=torch.float32, device=x.device,
                                              requires_grad=True))
          for k, v in params.items()}
    y = fn(x, **kw)
    y.backward(torch.ones_like(y))
    grads = {k: v.grad for k, v in kw.items() if k != "N"}
    return y.detach(), x.grad, grads


@needs_kernels
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("family, params", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_kernels_against_mpmath_float32(family, params, size):
    pool = ref.samples("float32", 6000, seed=zlib.crc32(f"{family}{size}".encode()))
    rng = np.random.default_rng(size)
    xs = rng.choice(pool, size, replace=False)
    x = torch.tensor(xs, dtype=torch.float32, device=_device())
    y, gx, gp = _run(family, params, x)
    refs = [ref.reference(family, float(v), params) for v in xs]
    for quantity, got in (("f", y), ("d_x", gx)):
        got = got.double().cpu().numpy()
        for v, r, g in zip(xs, refs, got):
            value, scale = r[quantity]
            err = ref.ulp_error(float(g), value, scale, "float32")
            assert err < math.inf, (quantity, v, g, value)
            if not ref.near_underflow(float(v), family, params, value, "float32"):
                assert err <= 4.0, (quantity, v, g, value, err)
    for name, grad in gp.items():
        terms = [r[f"d_{name}"][0] for r in refs]
        total = mp.fsum(terms)
        size_of_sum = mp.fsum(abs(t) for t in terms)
        assert grad.dtype == torch.float32 and grad.shape == ()
        assert abs(mp.mpf(float(grad)) - total) <= 1e-6 * size_of_sum + 1e-30, (name, grad, total)


@needs_kernels
def test_parameter_gradients_are_deterministic():
    x = torch.randn(5000, device=_device()) * 3
    first = _run("sqish", CONFIGS[3][1], x)[2]
    second = _run("sqish", CONFIGS[3][1], x)[2]
    for k in first:
        assert torch.equal(first[k], second[k])


@needs_kernels
@pytest.mark.parametrize("family, params", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_kernels_finite_on_every_bfloat16_value_as_float32(family, params):
    """Every third bfloat16 bit pattern (all of float32's exponent range, every sign and
    special value), widened to float32: finite inputs give finite values and gradients,
    NaN stays NaN.  (The 16-bit sweep over all patterns runs on the PyTorch path.)"""
    bits = torch.arange(-(2**15), 2**15, 3, dtype=torch.int32).to(torch.int16)
    specials = torch.tensor([math.inf, -math.inf, math.nan, 0.0, -0.0])
    x = torch.cat([bits.view(torch.bfloat16).float(), specials]).to(_device())
    y, gx, _ = _run(family, params, x)
    finite = torch.isfinite(x)
    assert torch.isfinite(y[finite]).all() and torch.isfinite(gx[finite]).all()
    nan = torch.isnan(x)
    assert torch.isnan(y[nan]).all() and torch.isnan(gx[nan]).all()


@needs_kernels
def test_kernel_limits_at_infinity():
    x = torch.tensor([-math.inf, math.inf], device=_device())
    cases = [
        ("gem", {"N": 2}, [0.0, math.inf], [0.0, 1.0]),
        ("se_gem", {"N": 1, "eps": 0.25}, [-1.0, math.inf], [0.0, 1.0]),
        ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}, [0.0, math.inf], [0.0, 1.0]),
        ("sqish", {"a": 0.25, "beta": 1.0, "gamma": 1.0}, [-math.inf, math.inf], [0.25, 1.0]),
    ]
    for family, params, want_y, want_g in cases:
        y, gx, _ = _run(family, params, x)
        assert y.tolist() == want_y and gx.tolist() == want_g, family


import triton  # noqa: E402
import triton.language as tl  # noqa: E402
from torch_bridge._kernels import _exp as _kernel_exp  # noqa: E402


@triton.jit
def _exp_probe(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, _kernel_exp(tl.load(x_ptr + offs, mask=m)), mask=m)


@needs_kernels
def test_triton_exp_is_accurate():
    """The kernels' own exp (no libdevice): <= 2 ulp over the float32 range."""
    if not INTERPRETED:
        pytest.skip("checked through the sigmoid on GPU")
    t = torch.linspace(-103, 88.7, 4001)
    out = torch.empty_like(t)
    _exp_probe[(4,)](t, out, t.numel(), BLOCK=1024)
    for v, got in zip(t.tolist()[::10], out.tolist()[::10]):
        want = mp.exp(mp.mpf(v))
        assert ref.ulp_error(got, want, 0, "float32") <= 2.0, (v, got)


@needs_kernels
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("family, params", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_kernels_all_dtypes(family, params, dtype):
    """Every dtype through the Triton kernels, same bounds as the CPU path: 16-bit data
    takes the kernels' plain (not PRECISE) arithmetic. The interpreter has no bfloat16 and
    float32 is checked above, so without a GPU this runs float16 only."""
    if not torch.cuda.is_available() and dtype != "float16":
        pytest.skip("needs CUDA")
    xs = ref.samples(dtype, 4000, seed=zlib.crc32(f"gpu{family}{dtype}".encode()))
    tdt = getattr(torch, dtype)
    x = torch.tensor(xs, dtype=torch.float64).to(tdt).to(_device()).requires_grad_()
    fn = getattr(tb, family)
    y = fn(x, **params)
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
    bound = 4.0 if dtype == "float32" else 1.0
    for quantity, got in (("f", y.detach()), ("d_x", g)):
        got = got.double().cpu().numpy()
        for v, gv in zip(xs, got):
            value, scale = ref.reference(family, float(v), params)[quantity]
            err = ref.ulp_error(float(gv), value, scale, dtype)
            assert err < math.inf
            if not ref.near_underflow(float(v), family, params, value, dtype):
                assert err <= bound, (quantity, v, gv, value, err)
