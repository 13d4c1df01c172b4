"""16-bit CPU inputs are computed in float64, so no intermediate underflows before the
16-bit result does: float32, the compute dtype before, has bfloat16's exponent range, and
a factor such as e^{-x^2/2}, x^2 or a subnormal product reached 0 (or lost its bits) where
the true bfloat16 result is a normal number.  Inputs are the ones where the catalogue
measurement (benchmarks/ERRORS.md) found the defects, plus neighbouring bfloat16 values;
references are ``catalogue_reference``'s mpmath formulas (written from the papers,
independent of the generated formulas)."""

from __future__ import annotations


import numpy as np
import pytest

torch = pytest.importorskip("torch")

import catalogue_reference as cref  # noqa: E402
import numerics_reference as nref  # noqa: E402

from gemsym.families import get_family  # noqa: E402
from generated_package import default_params, generated_package  # noqa: E402

#: (member, parameters, quantity, the input ERRORS.md named, the range of its neighbours):
#: gelu-tanh f 155 ULP (got -0, true -2.85e-38) and d_x 225 ULP; mish d_x 245 ULP (got
#: 4.59e-40, true -4.45e-38); e-gem(eps=2^-40) d_x 256 ULP (got 0, true 2.35e-38: x^2
#: underflows in float32); se-gem d_x 96 ULP (got 0, true 8.8e-39, a bfloat16 subnormal)
CASES = [
    ("gelu-tanh", {}, "f", -10.0625, (-10.5, -9.5)),
    ("gelu-tanh", {}, "d_x", -10.0625, (-10.5, -9.5)),
    ("mish", {}, "f", -90.5, (-92.0, -86.0)),
    ("mish", {}, "d_x", -90.5, (-92.0, -86.0)),
    ("e-gem", {"N": 1, "eps": 2.0 ** -40}, "d_x", 8.44144277e-26, (1e-27, 1e-19)),
    ("se-gem", {"N": 1, "eps": 1.0}, "d_x", -4.2949673e9, (-1e10, -1e9)),
]
MEMBERS = sorted({c[0] for c in CASES})


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    """One generated package holding the members under test."""
    with generated_package(tmp_path_factory, "codegen_16bit", MEMBERS) as package:
        yield package


_params = default_params


def _bf16_between(lo: float, hi: float, count: int) -> np.ndarray:
    """``count`` bfloat16 values spread over [lo, hi] (log-spaced magnitudes), distinct."""
    mags = np.geomspace(min(abs(lo), abs(hi)), max(abs(lo), abs(hi)), count)
    v = torch.tensor(np.sign(lo) * mags).to(torch.bfloat16).double().numpy()
    return np.unique(v)


def _errors(bridge, name: str, params: dict, dtype: str, xs: np.ndarray, q: str):
    """(ULP errors of ``q`` at ``xs``, reference rows) by the catalogue measure."""
    act = get_family(name)
    ints = [params[p.name] for p in act.parameters if p.integer]
    reals = [params[p.name] for p in act.parameters if not p.integer]
    x = torch.tensor(xs).to(getattr(torch, dtype)).requires_grad_()
    y = getattr(bridge, act.identifier)(x, *ints, *reals)
    got = y.detach() if q == "f" else torch.autograd.grad(y.sum(), x)[0]
    ref = cref.reference_arrays((name, params, dtype, x.detach().double().numpy()))[q]
    return cref.ulp_errors(got.double().numpy(), ref, dtype), ref


@pytest.mark.parametrize("name, params, q, worst, around", CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_bfloat16_tails_within_one_ulp(bridge, name, params, q, worst, around):
    p = _params(name, **params)
    xs = np.concatenate([[worst], _bf16_between(*around, 24)])
    errs, ref = _errors(bridge, name, p, "bfloat16", xs, q)
    # the named input's true value is a nonzero bfloat16 number (normal but for se-gem)
    assert ref[0][0] != 0 and abs(ref[0][0]) >= 2.0 ** -133
    assert np.all(errs <= 1.0), dict(zip(xs[errs > 1.0], errs[errs > 1.0]))


@pytest.mark.parametrize("name, params, q, worst, around", CASES[:4],
                         ids=[f"{c[0]}-{c[2]}" for c in CASES[:4]])
def test_float16_same_members_within_one_ulp(bridge, name, params, q, worst, around):
    """float16 (whose range float32 covered) stays within the bound on the same members."""
    p = _params(name, **params)
    xs = np.linspace(around[0], around[1], 17)
    errs, _ = _errors(bridge, name, p, "float16", xs, q)
    assert np.all(errs <= 1.0), dict(zip(xs[errs > 1.0], errs[errs > 1.0]))


def test_compute_dtype_is_float64_for_every_cpu_input():
    """The choice itself: float64 on CPU whatever the input's floating dtype; float32 for
    16-bit and float32 inputs elsewhere (the GPU's Triton kernels and formulas)."""
    from gemsym.codegen.runtime._params import compute_dtype

    cpu, meta = torch.device("cpu"), torch.device("meta")
    for dt in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        assert compute_dtype(dt, cpu) == torch.float64
    for dt in (torch.float16, torch.bfloat16, torch.float32):
        assert compute_dtype(dt, meta) == torch.float32
    assert compute_dtype(torch.float64, meta) == torch.float64


def test_16bit_inputs_are_not_excluded_near_underflow():
    """The tests' exclusion region follows the compute dtype: none for 16-bit CPU inputs
    (float64), float32's for the Triton kernels."""
    value = 2.0 ** -110  # a normal bfloat16 below float32's 2^-101 limit
    assert not nref.near_underflow(1.0, "sqish", {}, value, "bfloat16")
    assert nref.near_underflow(1.0, "sqish", {}, value, "bfloat16", "float32")
    assert nref.near_underflow(1.0, "sqish", {}, value, "float32")
