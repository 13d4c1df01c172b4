"""Values and gradients of the generated package (PyTorch path) against mpmath at 50
digits, in ULPs, per dtype: float32/float64 <= 4 ULP away from underflow, 16-bit <= 1 ULP
of the 16-bit result; errors near a zero of a sum are measured against its largest term.
Non-finite results where the true value is finite are counted separately (must be none,
underflow region included).  The >= 1e5-sample measurement is benchmarks/measure_errors.py."""

from __future__ import annotations

import math
import zlib

import mpmath as mp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import numerics_reference as ref  # noqa: E402
from torch_bridge import _runtime  # noqa: E402

SAMPLES = 3000  # per dtype and configuration in CI

CONFIGS = [
    ("gem", {"N": 1}),
    ("gem", {"N": 3}),
    ("e_gem", {"N": 2, "eps": 0.25}),
    ("se_gem", {"N": 1, "eps": 1.0}),
    ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}),
    ("sqish", {"a": 0.25, "beta": 2.0, "gamma": 0.5}),
]
BOUND = {"float16": 1.0, "bfloat16": 1.0, "float32": 4.0, "float64": 4.0}


_backend = ref.backend_fixture("torch")


def test_hand_derivatives_agree_with_mpmath_diff():
    """The references' derivatives (hand-derived from the SPEC) against numerical
    differentiation of the SPEC formulas themselves."""
    mp.mp.dps = 50
    cases = [
        ("e_gem", {"N": 2, "eps": 0.3}, (0.2, 1.3, 7.0)),
        ("se_gem", {"N": 1, "eps": 0.7}, (-3.0, -0.4, 0.6)),
        ("sqish", {"a": 0.25, "beta": 2.0, "gamma": 0.5}, (-6.0, -0.5, 0.1, 4.0)),
        ("sqish", {"a": -1.0, "beta": 1.0, "gamma": 1.0}, (-3.0, -0.7, 0.01, 2.0)),
        ("sqish", {"a": -0.25, "beta": 2.0, "gamma": 0.5}, (-6.0, -0.5, 0.1, 4.0)),
    ]
    for family, params, points in cases:
        for x in points:
            got = ref.reference(family, x, params)
            f = lambda v: ref.reference(family, v, params)["f"][0]  # noqa: E731
            assert abs(mp.diff(f, x) - got["d_x"][0]) < mp.mpf(10) ** -30
            for name in params:
                if name == "N":
                    continue
                g = lambda v: ref.reference(family, x, {**params, name: v})["f"][0]  # noqa: E731
                assert abs(mp.diff(g, params[name]) - got[f"d_{name}"][0]) < mp.mpf(10) ** -30


@pytest.mark.parametrize("dtype", list(BOUND))
@pytest.mark.parametrize("family, params", CONFIGS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CONFIGS)])
def test_ulp_error_against_mpmath(family, params, dtype):
    xs = ref.samples(dtype, SAMPLES, seed=zlib.crc32(f"{family}{params}{dtype}".encode()))
    out = ref.measure(family, params, dtype, xs)
    assert {"f", "d_x"} <= set(out)
    for quantity, (errors, excluded) in out.items():
        # inf/NaN where the true value is finite: never, even where underflow is allowed
        assert not np.isinf(errors).any(), (quantity, xs[np.isinf(errors)][:5])
        assert (~excluded).sum() >= len(xs) // 5, "the ULP bound must cover many samples"
        worst = float(errors[~excluded].max())
        assert worst <= BOUND[dtype], (quantity, worst, xs[~excluded][errors[~excluded].argmax()])
        # away from underflow nothing is lost: the excluded region still stays close in
        # absolute terms (relative to the smallest normal of the compute format)
        if excluded.any():
            assert np.all(np.isfinite(errors[excluded]))


def test_ulp_helpers():
    assert ref.ulp(1.0, "float32") == 2.0 ** -23
    assert ref.ulp(1.5, "bfloat16") == 2.0 ** -7
    assert ref.ulp(0.0, "float16") == 2.0 ** -24
    assert ref.ulp(1e-300, "float64") == 2.0 ** -1074 * 2 ** (math.frexp(1e-300)[1] - 1 + 1074 - 52)
    assert ref.ulp_error(1.0 + 2.0 ** -23, mp.mpf(1), 0, "float32") == pytest.approx(1.0)
    assert ref.ulp_error(math.inf, mp.mpf(1e39), 0, "float32") == 0.0
    assert ref.ulp_error(math.inf, mp.mpf(1), 0, "float32") == math.inf


# ------------------------------------------------------------------ torch.compile path
COMPILED_CONFIGS = [
    ("gem", {"N": 1}),
    ("gem", {"N": 3}),
    ("e_gem", {"N": 2, "eps": 0.25}),
    ("se_gem", {"N": 1, "eps": 1.0}),
    ("sqish", {"a": 0.25, "beta": 2.0, "gamma": 0.5}),
]
COMPILED_SAMPLES = 400


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("family, params", COMPILED_CONFIGS,
                         ids=[f"{f}-{i}" for i, (f, _) in enumerate(COMPILED_CONFIGS)])
def test_compiled_path_against_mpmath(family, params, dtype):
    """Under torch.compile(fullgraph=True) the functional traces the generated formulas
    (no call of the registered op): values and input gradients meet the same ULP bound,
    the summed parameter gradients agree with the mpmath sum, +-inf give the limits and
    NaN propagates."""
    from torch_bridge import _runtime

    if not _runtime.TRACED_COMPILE:
        pytest.skip(f"torch {torch.__version__}: compile calls the registered op")
    import torch_bridge
    from torch._inductor.compile_fx import compile_fx

    torch._dynamo.reset()  # the lambda below is one code object for every case
    tdt = getattr(torch, dtype)
    names = [n for n in params if n != "N"]
    ints = {"N": params["N"]} if "N" in params else {}
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm.code)
        return compile_fx(gm, example_inputs)

    op = getattr(torch_bridge, family)
    compiled = torch.compile(lambda t, *p: op(t, **ints, **dict(zip(names, p))),
                             backend=backend, fullgraph=True, dynamic=False)
    ps = [torch.tensor(params[n], dtype=tdt, requires_grad=True) for n in names]

    def fn(x, **_):
        return compiled(x, *ps)

    xs = ref.samples(dtype, COMPILED_SAMPLES, seed=zlib.crc32(f"compiled{family}{params}{dtype}".encode()))
    xs = xs[: COMPILED_SAMPLES - 3]
    refs = [ref.reference(family, float(v), params) for v in xs]
    out = ref.measure(family, params, dtype, xs, with_params=False, refs=refs, fn=fn)
    assert graphs and not any(f"{family}_fwd" in code for code in graphs), "the op was not traced"
    for quantity, (errors, excluded) in out.items():
        assert not np.isinf(errors).any(), (quantity, xs[np.isinf(errors)][:5])
        worst = float(errors[~excluded].max())
        assert worst <= BOUND[dtype], (quantity, worst, xs[~excluded][errors[~excluded].argmax()])
    # parameter gradients: sum over the samples of d f / d theta, against the mpmath sum
    x = torch.tensor(xs, dtype=torch.float64).to(tdt).requires_grad_()
    grads = torch.autograd.grad(compiled(x, *ps), (x, *ps), torch.ones_like(x))
    for n, g in zip(names, grads[1:]):
        terms = [r[f"d_{n}"][0] for r in refs]
        size = mp.fsum(abs(t) for t in terms)
        assert abs(mp.mpf(float(g)) - mp.fsum(terms)) <= 4 * ref.ulp(float(size), dtype), (n, float(g))
    # +-inf and NaN (padded to the same shape: no recompilation) as in eager mode
    x = torch.ones(len(xs), dtype=tdt)
    x[:3] = torch.tensor([-math.inf, math.inf, math.nan], dtype=tdt)
    x.requires_grad_()
    y = compiled(x, *ps)
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
    xe = x.detach()[:3].clone().requires_grad_()
    ye = op(xe, **ints, **dict(zip(names, [p.detach() for p in ps])))
    (ge,) = torch.autograd.grad(ye, xe, torch.ones_like(ye))
    torch.testing.assert_close(y[:3].detach(), ye.detach(), equal_nan=True)
    torch.testing.assert_close(g[:3], ge, equal_nan=True)
