"""The generated code of every catalogue member over every finite float16 and bfloat16 value
(CPU, eager): f and d/dx are inf/NaN only where the true value (mpmath, written from the
papers in ``catalogue_reference``) overflows the dtype, and the values at 0, the junctions
and every 61st input (so also any removable singularity) are within 1 ULP of it wherever it
is a normal number of the dtype."""

from __future__ import annotations

import importlib
import sys

import mpmath as mp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import catalogue_reference as cref  # noqa: E402
import numerics_reference as nref  # noqa: E402

from gemsym.families import FAMILIES, get_family  # noqa: E402

#: Members whose code generation fails today: {name: the failure's text}.
UNSUPPORTED: dict[str, str] = {}
#: Measured breaches of "no inf/NaN where the true value is finite": {(name, quantity): cause}.
NONFINITE: dict[tuple[str, str], str] = {}

def _defaults(act) -> dict:
    return {p.name: (int(p.default) if p.integer else float(p.default)) for p in act.parameters}


def _cases():
    for name in FAMILIES:
        for dtype in ("float16", "bfloat16"):
            for q in ("f", "d_x"):
                reason = UNSUPPORTED.get(name) or NONFINITE.get((name, q))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(name, dtype, q, marks=marks, id=f"{name}-{dtype}-{q}")


@pytest.fixture(scope="session")
def catalogue_modules(tmp_path_factory):
    """One package with every member whose generation is supported, generated once."""
    from gemsym.codegen.writer import write_package

    root = tmp_path_factory.mktemp("catalogue_numerics")
    acts = [get_family(n) for n in FAMILIES if n not in UNSUPPORTED]
    write_package(acts, root / "catalogue_numerics_bridge")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("catalogue_numerics_bridge")
    finally:
        sys.path.remove(str(root))


def _sweep(dtype: str) -> torch.Tensor:
    bits = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16)
    every = bits.view(getattr(torch, dtype))
    return every[torch.isfinite(every)]


def _compute(bridge, act, x: torch.Tensor, q: str) -> np.ndarray:
    params = _defaults(act)
    ints = [params[p.name] for p in act.parameters if p.integer]
    reals = [params[p.name] for p in act.parameters if not p.integer]
    xg = x.clone().requires_grad_()
    y = getattr(bridge, act.identifier)(xg, *ints, *reals)
    if q == "f":
        return y.detach().double().numpy()
    (g,) = torch.autograd.grad(y.sum(), xg)
    return g.double().numpy()


@pytest.mark.parametrize("name, dtype, q", list(_cases()))
def test_every_16bit_value(catalogue_modules, name, dtype, q):
    act = get_family(name)
    params = _defaults(act)
    x = _sweep(dtype)
    got = _compute(catalogue_modules, act, x, q)
    xs = x.double().numpy()
    # inf/NaN: allowed only where the true value rounds to inf in the dtype (same sign);
    # a NaN is always wrong (16 of them are shown), and of the infs the 16 nearest 0 on each side (where overflow
    # starts) and 64 more spread over the rest
    nan = np.flatnonzero(np.isnan(got))
    checked = [nan[:16]]
    for side in (xs < 0, xs >= 0):
        inf = np.flatnonzero(np.isinf(got) & side)
        inf = inf[np.argsort(np.abs(xs[inf]))]
        checked += [inf[:16], inf[16::max(1, len(inf) // 64)]]
    # 0, the junctions (removable singularities and kinks) and every 61st value for ULPs
    special = [0.0, -0.0] + [float(j) for j in cref.JUNCTIONS.get(name, lambda p: [])(params)]
    spread = np.flatnonzero(np.isin(xs, special) | (np.arange(len(xs)) % 61 == 0))
    idx = np.union1d(np.concatenate(checked), spread).astype(np.int64)
    refs = cref.reference_arrays((name, params, dtype, xs[idx]))[q]
    errs = cref.ulp_errors(got[idx], refs, dtype)
    # ULPs where the true value is a normal number of the dtype (the subnormal results a
    # float32 compute path gets from underflowed terms are in benchmarks/ERRORS.md)
    tiny = 2.0 ** nref.FORMATS[dtype][1]
    failures = [(float(xs[i]), float(got[i]), float(refs[0][k]), float(errs[k]))
                for k, i in enumerate(idx)
                if np.isinf(errs[k]) or (errs[k] > 1.0 and abs(refs[0][k]) >= tiny)]
    assert not failures and not len(nan), (
        f"{len(nan)} NaN; {len(failures)} inputs (x, got, true, ULP): {failures[:5]}")


@pytest.mark.parametrize("name", FAMILIES)
def test_hand_derivatives_match_mpmath_diff(name):
    """The references' hand-derived partial derivatives equal mpmath.diff of their f."""
    act = get_family(name)
    params = _defaults(act)
    joints = [float(j) for j in cref.JUNCTIONS.get(name, lambda p: [])(params)]
    with mp.workdps(40):
        for x in (-7.25, -2.5, -0.75, 0.3, 1.7, 4.5, 9.0):
            if any(abs(x - j) < 0.1 for j in joints):
                continue
            ref = cref.reference(name, x, params)
            want = mp.diff(lambda t: cref.reference(name, t, params)["f"][0], mp.mpf(x))
            assert abs(ref["d_x"][0] - want) <= mp.mpf(10) ** -25 * (1 + abs(want)), (x, "d_x")
            for p in act.parameters:
                if p.integer:
                    continue
                want = mp.diff(lambda v: cref.reference(
                    name, x, {**params, p.name: v})["f"][0], mp.mpf(params[p.name]))
                got = ref[f"d_{p.name}"][0]
                assert abs(got - want) <= mp.mpf(10) ** -25 * (1 + abs(want)), (x, p.name)
