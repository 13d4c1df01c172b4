"""mpmath references for the generated kernels, written from the SPEC formulas (not from the
generated code), and ULP error measurement.  Shared by tests/test_numerics.py and
benchmarks/measure_errors.py.

Each reference returns, at 50 digits, the value and the size of the largest term of the
sum it is made of (the error of a value near a zero of a sum is measured in ULPs of that
term, as the issue asks).  Derivatives are hand-derived from the SPEC definitions; they are
cross-checked against ``mpmath.diff`` in the tests.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

mp.mp.dps = 50

# (mantissa bits, minimum normal exponent, maximum finite value)
FORMATS = {
    "float16": (10, -14, 65504.0),
    "bfloat16": (7, -126, 3.3895313892515355e38),
    "float32": (23, -126, 3.4028234663852886e38),
    "float64": (52, -1022, 1.7976931348623157e308),
}


def backend_fixture(name: str):
    """An autouse fixture selecting the generated package's backend for a test module."""

    @pytest.fixture(autouse=True)
    def _backend():
        from torch_bridge import _runtime

        previous = _runtime.get_backend()
        _runtime.set_backend(name)
        yield
        _runtime.set_backend(previous)

    return _backend


# ------------------------------------------------------------------ references (SPEC)
def e_gem(x, N, eps):
    """E-GEM_{N,eps}: x^{2N+1}/(x^{2N}+eps) for x > 0, 0 for x <= 0 (GEM: eps = 1).
    Returns {name: (value, largest term)} for f, d_x, d_eps."""
    x = mp.mpf(x)
    eps = mp.mpf(eps)
    if x <= 0:
        return {"f": (mp.mpf(0), mp.mpf(0)), "d_x": (mp.mpf(0), mp.mpf(0)),
                "d_eps": (mp.mpf(0), mp.mpf(0))}
    p = x ** (2 * N)
    f = x * p / (p + eps)
    dx = p * (p + (2 * N + 1) * eps) / (p + eps) ** 2
    de = -x * p / (p + eps) ** 2
    return {"f": (f, abs(f)), "d_x": (dx, abs(dx)), "d_eps": (de, abs(de))}


def se_gem(x, N, eps):
    """SE-GEM: E-GEM for x >= 0, x^{2N+1}/(1 - x^{2N+1}) for x < 0."""
    x = mp.mpf(x)
    if x >= 0:
        return e_gem(x, N, eps)
    q = x ** (2 * N + 1)
    f = q / (1 - q)
    dx = (2 * N + 1) * x ** (2 * N) / (1 - q) ** 2
    return {"f": (f, abs(f)), "d_x": (dx, abs(dx)), "d_eps": (mp.mpf(0), mp.mpf(0))}


def sqish(x, a, beta, gamma):
    """Sqish: a x + (1 - a) x / (1 + beta e^{-2 gamma (1 - a) x}), with the partial
    derivatives in x, a, beta, gamma."""
    x, a, beta, gamma = (mp.mpf(v) for v in (x, a, beta, gamma))
    c = 2 * gamma * (1 - a)
    E = beta * mp.exp(-c * x)
    s = 1 / (1 + E)
    ds_dc = x * E * s * s  # ds/dc
    f_terms = (a * x, (1 - a) * x * s)
    # a + (1 - a) s = s (1 + a E) (1 - s = E s) as one term: for a < 0 the terms a and
    # (1 - a) s cancel as x -> 0 (a = -1, beta = 1: 4x in all from terms ~ 1, whose scale
    # hid every digit the generated d/dx lost there), 1 + a E written as for f below
    gate = -s * mp.expm1(mp.log(-a * beta) - c * x) if a < 0 else s * (1 + a * E)
    dx_terms = (gate, (1 - a) * x * c * E * s * s)
    da_terms = (x, -x * s, (1 - a) * x * ds_dc * (-2 * gamma))
    db = (1 - a) * x * (-E / beta * s * s)
    dg = (1 - a) * x * ds_dc * 2 * (1 - a)
    out = {}
    for name, terms in (("f", f_terms), ("d_x", dx_terms), ("d_a", da_terms)):
        out[name] = (mp.fsum(terms), max(abs(t) for t in terms))
    # f = x (1 + a E)/(1 + E): for a < 0 the sum of f_terms cancels to x (1 + a E) s where
    # a E is near -1 (|x| < 1e-50 leaves nothing of 50 digits for a = -1, beta = 1), so
    # 1 + a E = -expm1(log(-a beta) - c x) keeps the value relative to itself
    if a < 0:
        out["f"] = (-x * mp.expm1(mp.log(-a * beta) - c * x) * s, out["f"][1])
    out["d_beta"] = (db, abs(db))
    out["d_gamma"] = (dg, abs(dg))
    return out


def reference(family: str, x, params: dict):
    """Dispatch by family name (gem, e_gem, se_gem, sqish)."""
    if family == "gem":
        return e_gem(x, params["N"], 1)
    if family == "e_gem":
        return e_gem(x, params["N"], params["eps"])
    if family == "se_gem":
        return se_gem(x, params["N"], params["eps"])
    if family == "sqish":
        return sqish(x, params["a"], params["beta"], params["gamma"])
    raise ValueError(f"family must be gem, e_gem, se_gem or sqish (got {family!r})")


# ------------------------------------------------------------------ sampling
def samples(dtype: str, n: int, seed: int = 0) -> np.ndarray:
    """Finite float64 values exactly representable in ``dtype``: log-uniform magnitudes
    in 1e-30..1e30 clipped to the format's range, both signs, +-0, subnormals, log-uniform
    magnitudes from the smallest normal number to 1e-30 (n // 20 more) and the
    neighbourhoods of 0 and of +-1 (where the stable forms switch)."""
    import torch

    rng = np.random.default_rng(seed)
    mant, emin, fmax = FORMATS[dtype]
    tiny_sub = 2.0 ** (emin - mant)
    lo = max(1e-30, tiny_sub)
    hi = min(1e30, fmax)
    k = n - 64 - n // 10 - n // 10
    mags = np.exp(rng.uniform(math.log(lo), math.log(hi), k))
    signs = rng.choice([-1.0, 1.0], k)
    sub = rng.integers(1, 2**mant, n // 10) * tiny_sub * rng.choice([-1.0, 1.0], n // 10)
    near = []
    for centre in (-1.0, 1.0):
        v = torch.tensor(centre, dtype=getattr(torch, dtype))
        for _ in range(16):
            near.append(float(v))
            v = torch.nextafter(v, torch.tensor(0.0, dtype=v.dtype))
        v = torch.tensor(centre, dtype=getattr(torch, dtype))
        for _ in range(15):
            v = torch.nextafter(v, torch.tensor(2 * centre, dtype=v.dtype))
            near.append(float(v))
    small = rng.uniform(-4, 4, n // 10)
    # |x| from the smallest normal number to 1e-30 too (drawn last, so that the draws
    # above stay as they were): where f -> 0 faster than its terms (Sqish, a < 0)
    tiny_lo = 2.0 ** emin
    tiny = np.exp(rng.uniform(math.log(tiny_lo), math.log(lo), n // 20)) if tiny_lo < lo else []
    tiny = np.asarray(tiny) * rng.choice([-1.0, 1.0], len(tiny))
    vals = np.concatenate([signs * mags, sub, small, near, tiny, [0.0, -0.0]])
    t = torch.tensor(vals, dtype=torch.float64).to(getattr(torch, dtype)).to(torch.float64)
    out = t.numpy()
    return out[np.isfinite(out)]


# ------------------------------------------------------------------ ULPs
def ulp(scale: float, dtype: str) -> float:
    """Spacing of ``dtype`` numbers at magnitude ``scale`` (subnormal spacing below the
    smallest normal)."""
    mant, emin, _ = FORMATS[dtype]
    scale = abs(float(scale))
    if scale == 0.0 or not math.isfinite(scale):
        return 2.0 ** (emin - mant)
    e = math.frexp(scale)[1] - 1
    return 2.0 ** (max(e, emin) - mant)


def ulp_error(computed: float, value, scale, dtype: str) -> float:
    """|computed - value| in ULPs of ``dtype`` at ``max(|value|, scale)``; inf when a
    finite true value gives a non-finite result (or the other way round)."""
    _, _, fmax = FORMATS[dtype]
    v = float(value)
    if abs(v) > fmax * (1 + 2.0 ** -(FORMATS[dtype][0] + 1)):
        return 0.0 if computed == math.copysign(math.inf, v) else math.inf
    if not math.isfinite(computed):
        return math.inf
    err = abs(mp.mpf(computed) - value)
    return float(err / ulp(max(abs(v), float(scale)), dtype))


def near_underflow(x: float, family: str, params: dict, value, dtype: str,
                   compute: str | None = None) -> bool:
    """The region excluded from the ULP bound: the result, or the power |x|^{2N+1} the GEM
    families are built from, is below 2^p times the smallest normal number of ``compute``
    (p = its mantissa bits + 1).  By default float32 for float32 inputs and float64
    otherwise: the CPU path computes 16-bit inputs in float64, where no 16-bit input
    comes near underflow, so every 16-bit value is held to the bound; the Triton kernels,
    which compute 16-bit inputs in float32, pass ``compute="float32"``."""
    if compute is None:
        compute = "float32" if dtype == "float32" else "float64"
    mant, emin, _ = FORMATS[compute]
    limit = mp.mpf(2) ** (emin + mant + 1)
    if 0 < abs(value) < limit:
        return True
    if family in ("gem", "e_gem", "se_gem") and x != 0:
        if abs(mp.mpf(x)) ** (2 * params["N"] + 1) < limit:
            return True
    return False


# ------------------------------------------------------------------ measurement
def measure(family: str, params: dict, dtype: str, xs: np.ndarray, with_params: bool = True,
            refs: list | None = None, fn=None):
    """ULP errors of the generated package against the references at ``xs``:
    {quantity: (errors, excluded mask)} for f, d_x (through autograd) and, for float32
    and float64, the elementwise parameter derivatives the CPU op sums (generated
    formulas in its compute dtype, rounded to ``dtype``).  ``fn(x, **params)`` replaces
    the package's functional (e.g. by a ``torch.compile`` of it)."""
    computed = computed_values(family, params, dtype, xs, with_params, fn)
    out = {}
    if refs is None:
        refs = [reference(family, float(v), params) for v in xs]
    for q, vals in computed.items():
        errs = np.empty(len(xs))
        excl = np.zeros(len(xs), dtype=bool)
        for i, (v, ref) in enumerate(zip(xs, refs)):
            value, scale = ref[q]
            errs[i] = ulp_error(float(vals[i]), value, scale, dtype)
            excl[i] = near_underflow(
                float(v), family, params, value, dtype)
        out[q] = (errs, excl)
    return out


def computed_values(family: str, params: dict, dtype: str, xs: np.ndarray,
                    with_params: bool = True, fn=None) -> dict:
    """{quantity: float64 array} the generated package gives at ``xs`` in ``dtype``: f,
    d_x through autograd and (``with_params``, float32/float64) the elementwise parameter
    derivatives the CPU op sums, as ``measure`` compares them."""
    import torch

    import torch_bridge
    from torch_bridge import _formulas

    tdt = getattr(torch, dtype)
    x = torch.tensor(xs, dtype=torch.float64).to(tdt).requires_grad_()
    fn = fn or getattr(torch_bridge, family)
    kw = {k: v for k, v in params.items()}
    y = fn(x, **kw)
    (gx,) = torch.autograd.grad(y, x, torch.ones_like(y))
    computed = {"f": y.detach().double().numpy(), "d_x": gx.double().numpy()}
    names = [n for n in params if n != "N"]
    if with_params and names and dtype in ("float32", "float64"):
        # the elementwise terms the CPU op sums, in the dtype it computes them in
        from torch_bridge import _runtime

        cdt, exact = _runtime._plan(tdt, x.device)
        xc = x.detach().to(cdt)
        ps = [torch.tensor(float(params[n]), dtype=cdt) for n in names]
        ints = [params["N"]] if "N" in params else []
        first = getattr(_formulas, f"{family}_first")(xc, *ints, *ps, exact=exact)
        for n, d in zip(names, first[1:]):
            computed[f"d_{n}"] = d.to(tdt).double().numpy()
    return computed
