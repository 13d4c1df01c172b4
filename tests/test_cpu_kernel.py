"""The ahead-of-time C++ CPU kernels (``torch_bridge/_cpu_kernels.cpp``, compiled by
``torch_bridge/build.py``): against mpmath (``numerics_reference``, ``catalogue_reference``)
in every dtype, bitwise equal to the PyTorch path where that path is the same arithmetic
(float32: double compute rounded once; 16-bit: double compute too, which the PyTorch path
rounds through float32; float64 stays on the PyTorch path),
results independent of the input size
and of the number of threads, the fallbacks (layouts, per-channel parameters), opcheck of
the ops with the kernels on, and the one warning at import when there is no build.

The build is made once (``make test`` makes it before pytest) and cached by the hash of the
source and torch's version (``build.library_path``), so a session normally finds it."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import catalogue_reference as cref  # noqa: E402
import numerics_reference as nref  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: the dtypes the kernels take (float64 stays on the PyTorch path and its compensated steps)
DTYPES = ("float32", "bfloat16", "float16")
CASES = [
    ("gem", {"N": 1}),
    ("gem", {"N": 3}),
    ("gem", {"N": 4}),
    ("e_gem", {"N": 5, "eps": 1e-4}),
    ("e_gem", {"N": 2, "eps": 0.5}),
    ("se_gem", {"N": 1, "eps": 1.0}),
    ("se_gem", {"N": 4, "eps": 1e-4}),
    ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}),
    ("sqish", {"a": -0.25, "beta": 2.0, "gamma": 0.5}),
]
#: the accuracy contract of benchmarks/ERRORS.md (as tests/test_numerics.py)
BOUND = {"float16": 1.0, "bfloat16": 1.0, "float32": 4.0, "float64": 4.0}


def _build(source: Path) -> None:
    """Compile (or find) the build of ``source`` without importing its package (whose
    import would warn that it is not built yet)."""
    proc = subprocess.run([sys.executable, str(source.with_name("build.py")), "--quiet"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def tb():
    """torch_bridge with its CPU kernels loaded (built here if ``make`` has not)."""
    import torch_bridge
    from torch_bridge import _cpu_kernel, _ops

    if not _cpu_kernel.loaded():
        _build(Path(torch_bridge.__file__).with_name("_cpu_kernels.cpp"))
        _cpu_kernel.load(_ops.LIB, _ops.FAMILIES)
    assert set(_cpu_kernel.loaded()) == {"gem", "e_gem", "se_gem", "sqish"}
    yield torch_bridge
    _cpu_kernel.set_cpu_kernel(True)


class _Counting:
    """Counts the calls of the loaded kernels (to know which path ran): the ops, and the
    calls of their direct binding that ran a kernel (returned a tensor)."""

    def __init__(self, kernel, monkeypatch):
        self.calls = 0
        for name, ops in list(kernel._OPS.items()):
            monkeypatch.setitem(kernel._OPS, name, tuple(self._wrap(op) for op in ops))
        for table in (getattr(kernel, "_DIRECT", {}), getattr(kernel, "_GRAD", {})):
            for name, fn in list(table.items()):
                monkeypatch.setitem(table, name, self._wrap(fn))

    def _wrap(self, op):
        def counted(*args):
            out = op(*args)
            self.calls += isinstance(out, (torch.Tensor, tuple))
            return out
        return counted


def _both(tb, fn):
    """fn() with the kernel, then with the PyTorch path."""
    from torch_bridge import _cpu_kernel

    try:
        on = fn()
        _cpu_kernel.set_cpu_kernel(False)
        off = fn()
    finally:
        _cpu_kernel.set_cpu_kernel(True)
    return on, off


def _special(dtype) -> torch.Tensor:
    info = torch.finfo(dtype)
    vals = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), info.tiny,
            -info.tiny, info.tiny / 4, info.max, -info.max, 1e-3, -1e-3, 30.0, -30.0, 700.0]
    return torch.tensor(vals, dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family, params", CASES, ids=[f"{f}-{i}" for i, (f, _) in
                                                      enumerate(CASES)])
def test_kernel_meets_the_ulp_bound(tb, monkeypatch, family, params, dtype):
    """f and d/dx by the kernel against mpmath at 50 digits: within ERRORS.md's bound
    away from underflow (the same exclusions as tests/test_numerics.py)."""
    from torch_bridge import _cpu_kernel

    counter = _Counting(_cpu_kernel, monkeypatch)
    xs = nref.samples(dtype, 150, seed=7)
    res = nref.measure(family, params, dtype, xs, with_params=False, fn=getattr(tb, family))
    assert counter.calls >= 2  # forward and backward both ran in C++
    for quantity, (errors, excluded) in res.items():
        assert (~excluded).sum() >= len(xs) // 5
        worst = errors[~excluded].max()
        assert worst <= BOUND[dtype], (quantity, worst,
                                       xs[~excluded][errors[~excluded].argmax()])


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("family, params", CASES, ids=[f"{f}-{i}" for i, (f, _) in
                                                      enumerate(CASES)])
def test_bitwise_equal_to_the_pytorch_path(tb, family, params, dtype):
    """float32: the PyTorch path computes the same double arithmetic and rounds once, so
    values and input gradients agree bit for bit (inf and NaN included); 16-bit: the same
    double arithmetic, which the kernel rounds once (through a round-to-odd float) and
    the PyTorch path through a nearest float, so the two differ only where that double
    rounding moves a near-tie, by one unit of the dtype."""
    dt = getattr(torch, dtype)
    gen = torch.Generator().manual_seed(3)
    x = torch.cat([_special(dt), (torch.randn(4099, generator=gen, dtype=torch.float64)
                                  * 4).to(dt)])
    g = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(dt)

    def run():
        xg = x.clone().requires_grad_()
        y = getattr(tb, family)(xg, **params)
        (gx,) = torch.autograd.grad(y, xg, g)
        return y.detach(), gx

    (y1, g1), (y0, g0) = _both(tb, run)
    for a, b in ((y1, g1), (y0, g0)):
        assert a.dtype == dt and b.dtype == dt
    if dtype == "float32":
        torch.testing.assert_close(y1, y0, rtol=0, atol=0, equal_nan=True)
        torch.testing.assert_close(g1, g0, rtol=0, atol=0, equal_nan=True)
    else:
        eps = torch.finfo(dt).eps
        for a, b in ((y1, y0), (g1, g0)):
            assert torch.equal(a.isnan(), b.isnan()) and torch.equal(a.isinf(), b.isinf())
            fin = a.isfinite()
            diff = (a[fin].double() - b[fin].double()).abs()
            assert (diff <= eps * b[fin].double().abs().clamp_min(1e-3)).all()


@pytest.mark.parametrize("family", ["gem", "e_gem", "se_gem"])
def test_narrow_bodies_take_their_integer_values_as_constants(family):
    """Every value of N that a narrow body's condition lists is a compile-time constant of
    its own case in the op (the integer powers then unroll and the element loop
    vectorises; with N read at run time GEM N=4's forward took 7x longer), in the
    forward and in the backward; so is each N <= 8 that only the general body takes."""
    import re

    source = (ROOT / "torch_bridge" / "_cpu_kernels.cpp").read_text()
    for op in ("fwd", "bwd"):
        body = source.split(f" {family}_{op}(", 1)[1].split("\n}\n", 1)[0]
        blocks = re.findall(r"if \([^\n]*?x\.scalar_type\(\) != at::kDouble[^\n]*?\(("
                            r"(?:i0 == \d+(?: \|\| )?)+)\)[^\n]*\{(.*?)\n  \}", body, re.S)
        assert blocks, (family, op)
        narrow = set()
        for values, block in blocks:
            for v in re.findall(r"i0 == (\d+)", values):
                assert re.search(rf"case {v}: return .*\(v, {v}\.0[,)]", block), (family, op, v)
                narrow.add(int(v))
        # the general body: N = 1..3, and each N <= 8 that no narrow body takes, at the
        # op's top level
        for v in {1, 2, 3} | (set(range(1, 9)) - narrow):
            assert re.search(rf"\n    case {v}: return .*\(v, {v}\.0[,)]", body), (family, op, v)


@pytest.mark.parametrize("family", ["gem", "e_gem", "se_gem"])
def test_narrow_bodies_across_their_parameter_condition(tb, family):
    """The power-form families' kernels take the narrow bodies (no |x| > 1 forms, see
    gemsym.codegen.narrow) for float32 / 16-bit inputs with N where they hold and eps
    within 2^-128 .. 2^128, else the general ones: float32 values, input gradients and
    parameter sums as the PyTorch path's on both sides of every bound (the extreme inputs
    included), for N = 1..4 and 8 (GEM's and E-GEM's second narrow bodies from N = 4 on,
    SE-GEM's clamped at both ends from N = 2 on; N = 8's powers the longest that the
    kernels' integer powers unroll)."""
    source = Path(tb.__file__).with_name("_cpu_kernels.cpp").read_text()
    assert f"{family}_f_narrow<" in source and f"{family}_first_narrow<" in source
    from torch_bridge import _cpu_kernel

    info = torch.finfo(torch.float32)
    gen = torch.Generator().manual_seed(13)
    x = torch.cat([_special(torch.float32),
                   torch.tensor([2.0**127, -2.0**127, 2.0**-149, -2.0**-149, 2.0**-126,
                                 2.0**64, -2.0**64, 2.0**-60, info.max / 2]),
                   (torch.randn(2000, generator=gen, dtype=torch.float64)
                    * 2.0 ** torch.randint(-40, 40, (2000,), generator=gen)).float()])
    g = torch.randn(x.shape, generator=gen, dtype=torch.float64).float()
    eps_values = ([0.5, 2.0**-128, 2.0**-129, 2.0**127.5, 2.0**128]
                  if family != "gem" else [None])
    for n in (1, 2, 3, 4, 8):
        for eps in eps_values:
            params = {"N": n} if eps is None else {"N": n, "eps": eps}

            def run(params=params):
                xg = x.clone().requires_grad_()
                # float64 parameters: 2^128 and 2^-129 as they are
                ps = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                      for k, v in params.items() if k != "N"}
                y = getattr(tb, family)(xg, **{**params, **ps})
                grads = torch.autograd.grad(y, [xg, *ps.values()], g)
                return (y.detach(), *grads)

            with pytest.MonkeyPatch.context() as mp:
                counter = _Counting(_cpu_kernel, mp)
                got, want = _both(tb, run)
            assert counter.calls >= 2, params
            for a, b in zip(got[:2], want[:2]):
                torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True,
                                           msg=lambda m, params=params: f"{params}: {m}")
            for a, b in zip(got[2:], want[2:]):
                # float64 sums of the same float64 terms (blocks vs one reduction)
                tol = 2.0**-52 * abs(float(b)) + 1e-12 * float(g.abs().double().sum())
                assert a.isfinite() == b.isfinite(), params
                if b.isfinite():
                    assert abs(float(a) - float(b)) <= tol, (params, float(a), float(b))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_every_16bit_input(tb, dtype):
    """Every float16 / bfloat16 bit pattern (the kernels load and store 16-bit values
    through their bits): f and g f' within one unit of the PyTorch path, NaN and inf at
    the same places."""
    dt = getattr(torch, dtype)
    x = torch.arange(-(1 << 15), 1 << 15, dtype=torch.int32).to(torch.int16).view(dt)
    g = torch.ones_like(x)
    for family, params in (("gem", {"N": 1}), ("sqish", {"a": -0.25, "beta": 2.0,
                                                         "gamma": 0.5})):
        def run():
            xg = x.clone().requires_grad_()
            y = getattr(tb, family)(xg, **params)
            (gx,) = torch.autograd.grad(y, xg, g)
            return y.detach(), gx

        for a, b in zip(*_both(tb, run)):
            assert torch.equal(a.isnan(), b.isnan()) and torch.equal(a.isinf(), b.isinf())
            fin = b.isfinite()
            assert torch.equal(a[fin & (b == 0)], b[fin & (b == 0)])  # signed zeros too
            ulp = torch.finfo(dt).eps * b[fin].double().abs().clamp_min(torch.finfo(dt).tiny)
            assert ((a[fin].double() - b[fin].double()).abs() <= ulp).all(), family


def test_float64_stays_on_the_pytorch_path(tb, monkeypatch):
    from torch_bridge import _cpu_kernel

    counter = _Counting(_cpu_kernel, monkeypatch)
    x = torch.randn(100, dtype=torch.float64, requires_grad=True)
    tb.sqish(x).sum().backward()
    tb.gem(x.detach(), N=2)
    assert counter.calls == 0


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_parameter_gradients_are_the_float64_sums(tb, dtype):
    """d/dtheta of sum(g f) by the kernel: the float64 sum of the elementwise terms, as the
    PyTorch path's (to a unit of the dtype), the same bits whatever the threads."""
    dt = getattr(torch, dtype)
    gen = torch.Generator().manual_seed(5)
    x = (torch.randn(70001, generator=gen, dtype=torch.float64) * 3).to(dt)
    g = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(dt)
    for family, params in CASES:
        reals = {k: v for k, v in params.items() if k != "N"}
        if not reals:
            continue

        def run():
            ps = {k: torch.tensor(v, dtype=dt, requires_grad=True) for k, v in reals.items()}
            y = getattr(tb, family)(x, **{**params, **ps})
            return torch.autograd.grad(y, list(ps.values()), g)

        got, want = _both(tb, run)
        threads = torch.get_num_threads()
        try:
            torch.set_num_threads(1)
            single = run()
        finally:
            torch.set_num_threads(threads)
        for a, b, s in zip(got, want, single):
            assert a.dtype == dt and a.shape == ()
            assert torch.equal(a, s)  # blocks of fixed size, summed in order
            # one unit of the dtype (both round a float64 sum of float64 terms)
            tol = torch.finfo(dt).eps * abs(float(b)) + 1e-9 * float(x.abs().double().sum())
            assert abs(float(a) - float(b)) <= tol, (family, float(a), float(b))


def test_results_do_not_depend_on_the_size(tb):
    """Each element's value is the same whatever the size of the call (sizes around the
    kernel's blocks and threads' shares)."""
    gen = torch.Generator().manual_seed(11)
    x = (torch.randn(3 * 7 * 256 * 40 + 5, generator=gen, dtype=torch.float64) * 4)
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        xd = x.to(dt)
        whole = tb.sqish(xd)
        for n in (1, 1023, 3 * 7 * 256, (1 << 14) + 1):
            assert torch.equal(tb.sqish(xd[:n].clone()), whole[:n])
            assert torch.equal(tb.gem(xd[-n:].clone(), N=2), tb.gem(xd, N=2)[-n:])


def test_other_layouts_and_channel_parameters_take_the_pytorch_path(tb, monkeypatch):
    """Non-contiguous inputs and per-channel parameters stay on the PyTorch formulas (and
    give the kernel's values where both apply)."""
    from torch_bridge import _cpu_kernel

    x = torch.randn(4, 3, 5, 6, dtype=torch.float32)
    eps = torch.tensor([0.5, 1.0, 2.0]).reshape(3, 1, 1)
    counter = _Counting(_cpu_kernel, monkeypatch)
    y_t = tb.e_gem(x.transpose(2, 3), N=1, eps=0.5)
    y_c = tb.e_gem(x, N=1, eps=eps)
    assert counter.calls == 0
    assert torch.equal(y_t, tb.e_gem(x.transpose(2, 3).contiguous(), N=1, eps=0.5))
    assert counter.calls == 1
    for c in range(3):
        assert torch.equal(y_c[:, c], tb.e_gem(x[:, c].contiguous(), N=1, eps=float(eps[c])))
    # an expanded (stride 0) gradient, as from y.sum().backward(), is made contiguous
    xg = x.clone().requires_grad_()
    tb.sqish(xg).sum().backward()
    assert counter.calls == 1 + 3 + 2
    (want,) = _both(tb, lambda: torch.autograd.grad(tb.sqish(x.requires_grad_()).sum(), x))[1]
    assert torch.equal(xg.grad, want)


def test_opcheck_with_the_kernels_on(tb):
    """The registered ops pass torch.library.opcheck while their CPU impl runs the C++
    kernels (schema, fake tensors, autograd registration, AOT dispatch)."""
    x = torch.randn(33, dtype=torch.float32, requires_grad=True)
    eps = torch.tensor(0.75, requires_grad=True)
    g = torch.randn(33)
    ops = torch.ops.torch_bridge
    torch.library.opcheck(ops.e_gem_fwd.default, (x, 2, eps))
    torch.library.opcheck(ops.gem_fwd.default, (x, 1))
    torch.library.opcheck(ops.sqish_bwd.default, (g, x.detach(), torch.tensor(0.0),
                                                  torch.tensor(1.0), torch.tensor(1.0), True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_public_functions_call_the_kernel_directly(tb, monkeypatch, dtype):
    """A plain eager call with Python-number parameters runs the kernel straight from
    the public function (``_cpu_kernel.call``), with the values of the registered op;
    a call under the profiler goes through the op (tests/test_cpu_direct.py: the binding's
    calls, with x's graph too)."""
    from torch_bridge import _cpu_kernel

    dt = getattr(torch, dtype)
    x = torch.cat([_special(dt), (torch.randn(3001, dtype=torch.float64) * 4).to(dt)])
    ops = torch.ops.torch_bridge
    eps = torch.tensor(0.5, dtype=torch.float64)
    cases = [(tb.gem(x, N=2), ops.gem_fwd(x, 2)),
             (tb.e_gem(x, N=1, eps=0.5), ops.e_gem_fwd(x, 1, eps)),
             (tb.sqish(x, a=-0.25, beta=2, gamma=0.5),
              ops.sqish_fwd(x, *[torch.tensor(v, dtype=torch.float64)
                                 for v in (-0.25, 2.0, 0.5)]))]
    for direct, op in cases:
        assert torch.equal(direct.isnan(), op.isnan())
        assert torch.equal(direct.nan_to_num(), op.nan_to_num())
    from torch_bridge import _runtime

    counter = _Counting(_cpu_kernel, monkeypatch)
    op_path = []
    run = _runtime.run
    monkeypatch.setattr(_runtime, "run", lambda *a: op_path.append(1) or run(*a))
    tb.sqish(x)
    assert counter.calls == 1 and not op_path  # the kernel, by the direct call
    with torch.autograd.profiler.profile() as prof:
        tb.gem(x, N=1)
    assert op_path and "torch_bridge::gem_fwd" in {e.name for e in prof.function_events}
    xg = x.clone().requires_grad_()
    tb.gem(xg, N=1).sum().backward()
    assert xg.grad is not None


@pytest.mark.parametrize("call, message", [
    (lambda x: torch_bridge_call(x, "e_gem", N=0), "N must be a positive integer"),
    (lambda x: torch_bridge_call(x, "e_gem", N=True), "N must be a positive integer"),
    (lambda x: torch_bridge_call(x, "e_gem", eps=-1.0), "eps must be a real number > 0"),
    (lambda x: torch_bridge_call(x, "e_gem", eps=float("nan")), "eps must be"),
    (lambda x: torch_bridge_call(x, "sqish", a=1), "a must be a real number < 1"),
])
def test_direct_calls_check_parameters_every_time(tb, call, message):
    """The direct path raises the checked path's ValueError, on every call (a value is
    remembered only once it passed)."""
    x = torch.randn(64)
    for _ in range(2):
        with pytest.raises(ValueError, match=message):
            call(x)


def torch_bridge_call(x, name, **kwargs):
    import torch_bridge

    return getattr(torch_bridge, name)(x, **kwargs)


def _import_lines(env_extra: dict, tmp_path) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TORCH_BRIDGE_BUILD_DIR=str(tmp_path),
               PYTHONWARNINGS="default", **env_extra)
    code = ("import torch, torch_bridge\n"
            "x = torch.randn(100)\n"
            "torch_bridge.gem(x); torch_bridge.sqish(x)\n"
            "from torch_bridge import _cpu_kernel\nprint(len(_cpu_kernel.loaded()))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"
    return proc.stderr


def test_one_warning_at_import_when_not_built(tmp_path):
    err = _import_lines({"TORCH_BRIDGE_CPU_KERNEL": "1"}, tmp_path)
    assert err.count("RuntimeWarning") == 1, err
    assert "not built" in err and "build.py" in err and "TORCH_BRIDGE_CPU_KERNEL=0" in err


def test_opt_out_is_silent(tmp_path):
    assert "Warning" not in _import_lines({"TORCH_BRIDGE_CPU_KERNEL": "0"}, tmp_path)


# ------------------------------------------------------------------ catalogue members
CATALOGUE = ("gelu", "softplus", "mish", "silu", "relu6", "leaky-relu", "hardsigmoid", "relu2",
             "squareplus", "isrlu")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """gelu, softplus, mish, silu, four piecewise polynomial members (a clamp between two
    constants, a polynomial piece on both sides of |x| = 1, a derivative with an infinite
    limit) and two with hypot (squareplus, ISRLU) generated into one package, built
    (cached by its source's hash) and imported."""
    from gemsym.codegen.writer import write_package
    from gemsym.families import get_family

    root = tmp_path_factory.mktemp("cpu_kernel_catalogue")
    write_package([get_family(n) for n in CATALOGUE], root / "cpu_kernel_bridge")
    _build(root / "cpu_kernel_bridge" / "_cpu_kernels.cpp")
    sys.path.insert(0, str(root))
    try:
        mod = importlib.import_module("cpu_kernel_bridge")
        assert set(mod._cpu_kernel.loaded()) == {get_family(n).identifier for n in CATALOGUE}
        yield mod
    finally:
        sys.path.remove(str(root))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CATALOGUE)
def test_catalogue_kernel_against_mpmath(catalogue, monkeypatch, name, dtype):
    """Catalogue members by their C++ kernels: f and d/dx within ERRORS.md's bound where
    the true value is a normal number of the dtype (papers' formulas, mpmath)."""
    from gemsym.families import get_family

    act = get_family(name)
    params = {p.name: (int(p.default) if p.integer else float(p.default))
              for p in act.parameters}
    counter = _Counting(catalogue._cpu_kernel, monkeypatch)
    xs = nref.samples(dtype, 160, seed=13)
    x = torch.tensor(xs, dtype=torch.float64).to(getattr(torch, dtype)).requires_grad_()
    ints = [params[p.name] for p in act.parameters if p.integer]
    reals = [params[p.name] for p in act.parameters if not p.integer]
    y = getattr(catalogue, act.identifier)(x, *ints, *reals)
    (gx,) = torch.autograd.grad(y.sum(), x)
    assert counter.calls == 2
    refs = cref.reference_arrays((name, params, dtype, xs))
    tiny = 2.0 ** nref.FORMATS[dtype][1]
    for q, got in (("f", y), ("d_x", gx)):
        errs = cref.ulp_errors(got.detach().double().numpy(), refs[q], dtype)
        normal = np.abs(refs[q][0]) >= tiny * 2 ** (nref.FORMATS[dtype][0] + 2)
        assert np.isfinite(errs).all(), (q, xs[~np.isfinite(errs)][:4])
        if normal.any():  # (hardsigmoid's d/dx, 0 or 1/6, is below float16's threshold)
            worst = errs[normal].max()
            assert worst <= BOUND[dtype], (q, worst, xs[normal][errs[normal].argmax()])


@pytest.mark.parametrize("name", CATALOGUE)
def test_catalogue_kernel_at_infinity(catalogue, monkeypatch, name):
    """The kernels' f and d/dx at x = -inf, +inf are the plain path's, bit for bit (the
    limits there: tests/test_catalogue_infinity.py checks those against mpmath), in every
    dtype the kernels take."""
    from gemsym.families import get_family

    from .torch_calls import bits, plain_formulas

    act = get_family(name)
    params = [(int(p.default) if p.integer else float(p.default)) for p in act.parameters]
    fn = getattr(catalogue, act.identifier)

    def run(dtype):
        x = torch.tensor([-math.inf, math.inf], dtype=dtype, requires_grad=True)
        y = fn(x, *params)
        return y.detach(), torch.autograd.grad(y.sum(), x)[0]

    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        counter = _Counting(catalogue._cpu_kernel, monkeypatch)
        kernel = run(dtype)
        assert counter.calls == 2
        with plain_formulas():
            plain = run(dtype)
        for k, p in zip(kernel, plain):
            assert torch.equal(bits(k), bits(p)), (str(dtype), k.tolist(), p.tolist())
        monkeypatch.undo()


def test_catalogue_kernel_infinite_derivative(catalogue, monkeypatch):
    """ReLU^2's kernel backward at x = +inf with a gradient of 1e-30 is inf (its d/dx,
    2x, keeps its infinite limit: no finite value at a clamp bound stands for it)."""
    counter = _Counting(catalogue._cpu_kernel, monkeypatch)
    for dtype in (torch.float32, torch.bfloat16):
        x = torch.tensor([math.inf, 3.0], dtype=dtype, requires_grad=True)
        (gx,) = torch.autograd.grad(catalogue.relu2(x), x, torch.full((2,), 1e-30, dtype=dtype))
        assert gx[0].item() == math.inf and gx[1].item() == pytest.approx(6e-30, rel=1e-2)
    assert counter.calls == 4


# ------------------------------------------------------------------ branch-free exp, expm1
def _math_program(tmp_path, name: str, main: str):
    """runtime/_cpu_kernel_math.h with ``main`` compiled alone, with the kernels' flags, as
    ``tmp_path/name`` (skips without a C++ compiler)."""
    import shutil

    from gemsym.codegen import runtime
    from gemsym.codegen.runtime import build

    cxx = os.environ.get("CXX", "c++").split()
    if shutil.which(cxx[0]) is None:
        pytest.skip("no C++ compiler")
    src = tmp_path / f"{name}.cpp"
    src.write_text(runtime.read("_cpu_kernel_math.h") + main)
    exe = tmp_path / name
    flags = [f for f in build.FLAGS if f not in ("-shared", "-fPIC", "-w")]
    subprocess.run([*cxx, *flags, *build._isa_flags(), str(src), "-o", str(exe)],
                   check=True, capture_output=True, timeout=120)
    return exe


_MATH_MAIN = r"""
#include <cstdio>
int main() {
  double x;
  while (std::scanf("%lf", &x) == 1) std::printf("%a %a\n", _vexp(x), _vexpm1(x));
}
"""


def test_branch_free_exp_and_expm1_within_one_ulp(tmp_path):
    """_vexp and _vexpm1 (runtime/_cpu_kernel_math.h, compiled alone with the kernels'
    flags) against mpmath at 120 bits: within 1 ULP of double (subnormal results: of the
    smallest subnormal), over the whole range, the reduction's boundaries and the
    special values."""
    import mpmath

    exe = _math_program(tmp_path, "math", _MATH_MAIN)
    rng = np.random.default_rng(17)
    ln2 = float(mpmath.log(2))
    xs = np.concatenate([
        rng.uniform(-746, 710, 3000), rng.uniform(-3, 3, 3000), rng.uniform(-40, 60, 1500),
        rng.uniform(-1e-6, 1e-6, 300), rng.uniform(-745.2, -708, 800),
        # the boundaries of the reduction's n, where |r| is largest
        (np.arange(-1075, 1025) + 0.5) * ln2,
        [0.0, -0.0, 1e-300, -1e-300, 5e-324, 709.78, 709.79, -745.13, -745.14, -37.0, 1.0]])
    out = subprocess.run([str(exe)], input="\n".join(repr(float(x)) for x in xs),
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    got = np.array([float.fromhex(v) for v in out]).reshape(-1, 2)
    mpmath.mp.prec = 120
    tiny = 2.0 ** -1074
    for x, pair in zip(xs, got):
        for j, (fn, v) in enumerate(zip((mpmath.exp, mpmath.expm1), pair)):
            ref = fn(mpmath.mpf(float(x)))
            if abs(ref) > np.finfo(np.float64).max:
                assert v == np.inf, (j, x, v)
                continue
            r = float(ref)
            ulp = max(np.spacing(abs(r)), tiny) if r != 0 else tiny
            err = float(abs(mpmath.mpf(float(v)) - ref)) / ulp
            assert err <= 1.0, (("exp", "expm1")[j], float(x), float(v), r, err)
    zeros = got[xs == 0]  # +0, then -0: expm1 keeps the sign of a zero
    assert list(np.signbit(zeros[:, 1])) == [False, True] and (zeros[:, 0] == 1).all()
    special = subprocess.run([str(exe)], input="nan inf -inf", capture_output=True, text=True,
                             check=True).stdout.split()
    assert [float.fromhex(v) for v in special[2:]] == [np.inf, np.inf, 0.0, -1.0]
    assert all(np.isnan(float.fromhex(v)) for v in special[:2])


_HYPOT_MAIN = r"""
#include <cstdio>
int main() {
  double a, b;
  while (std::scanf("%lf %lf", &a, &b) == 2) std::printf("%a\n", _vhypot(a, b));
}
"""


def test_branch_free_hypot_within_its_bound(tmp_path):
    """_vhypot (runtime/_cpu_kernel_math.h, compiled alone with the kernels' flags) against
    mpmath at 120 bits: within 3.25 ULP of double (its five roundings' bound, 3.25 units of
    2^-53 relative) over magnitudes 2^-1074 .. 2^1023 of both
    arguments (no overflow of their squares), and C's special values (+-inf with a NaN is
    inf, a NaN otherwise NaN, zeros +0)."""
    import mpmath

    exe = _math_program(tmp_path, "hypot", _HYPOT_MAIN)
    rng = np.random.default_rng(29)
    n = 6000
    mags = np.concatenate([rng.uniform(-1074, 1023, (n, 2)), rng.uniform(-3, 3, (n, 2)),
                           rng.uniform(-60, 60, (n, 1)) + rng.uniform(-2, 2, (n, 2))])
    pairs = np.exp2(mags) * np.where(rng.random(mags.shape) < 0.5, -1.0, 1.0)
    pairs = np.concatenate([pairs, [[3.0, 4.0], [1e308, 1e308], [5e-324, 5e-324],
                                    [1.0, 1e-300], [-2.0, 0.0], [0.0, 7.5]]])
    text = "\n".join(f"{float(a)!r} {float(b)!r}" for a, b in pairs)
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True,
                         timeout=120).stdout.split()
    got = np.array([float.fromhex(v) for v in out])
    assert len(got) == len(pairs)
    mpmath.mp.prec = 120
    worst = 0.0
    for (a, b), v in zip(pairs, got):
        ref = mpmath.sqrt(mpmath.mpf(float(a)) ** 2 + mpmath.mpf(float(b)) ** 2)
        r = float(ref)
        ulp = max(np.spacing(r), 2.0 ** -1074)
        err = float(abs(mpmath.mpf(float(v)) - ref)) / ulp
        worst = max(worst, err)
        assert err <= 3.25, (float(a), float(b), float(v), r, err)
    assert worst > 0, worst  # the comparison is not vacuous
    special = "inf nan\nnan -inf\nnan 1\n2 nan\n0 -0\n-0 -0\n-inf 3"
    res = subprocess.run([str(exe)], input=special, capture_output=True, text=True,
                         check=True).stdout.split()
    vals = [float.fromhex(v) for v in res]
    assert vals[0] == vals[1] == np.inf and np.isnan(vals[2]) and np.isnan(vals[3])
    assert vals[4] == 0 and vals[5] == 0 and not np.signbit(vals[4]) and not np.signbit(vals[5])
    assert vals[6] == np.inf


_LOG1P_MAIN = r"""
#include <cstdio>
int main() {
  double x;
  while (std::scanf("%lf", &x) == 1) std::printf("%a\n", _vlog1p(x));
}
"""


def test_branch_free_log1p_within_one_ulp(tmp_path):
    """_vlog1p (runtime/_cpu_kernel_math.h, compiled alone with the kernels' flags) against
    mpmath at 120 bits: within 1 ULP of double from -1 to the largest double, near the
    reduction's sqrt(2) boundaries and for tiny and subnormal x; -1, x < -1, +-inf, NaN."""
    import mpmath

    exe = _math_program(tmp_path, "log1p", _LOG1P_MAIN)
    rng = np.random.default_rng(23)
    r2 = 2.0 ** 0.5
    xs = np.concatenate([
        rng.uniform(-1, 3, 3000), -1 + 10.0 ** rng.uniform(-16, 0, 800),
        10.0 ** rng.uniform(-320, 308, 1500), -(10.0 ** rng.uniform(-320, -0.01, 800)),
        10.0 ** rng.uniform(-20, -0.4, 1500), -(10.0 ** rng.uniform(-20, -0.55, 1500)),
        # around 1 + x = sqrt(2)/2, sqrt(2), where the reduction's k steps
        rng.uniform(r2 - 1 - 1e-3, r2 - 1 + 1e-3, 500), rng.uniform(-0.2939, -0.2919, 500),
        [0.0, -0.0, 1e-300, -1e-300, 5e-324, 2.0 ** -53, -(2.0 ** -53), 2.0 ** -54, r2 - 1,
         2 ** -0.5 - 1, 1.0, 1e308, -0.5, 2.0 ** 53, 2.0 ** 54, -1 + 2.0 ** -53]])
    out = subprocess.run([str(exe)], input="\n".join(repr(float(x)) for x in xs),
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    got = np.array([float.fromhex(v) for v in out])
    mpmath.mp.prec = 120
    tiny = 2.0 ** -1074
    for x, v in zip(xs, got):
        ref = mpmath.log1p(mpmath.mpf(float(x)))
        r = float(ref)
        ulp = max(np.spacing(abs(r)), tiny) if r != 0 else tiny
        err = float(abs(mpmath.mpf(float(v)) - ref)) / ulp
        assert err <= 1.0, (float(x), float(v), r, err)
    zeros = got[xs == 0]  # +0, then -0
    assert list(np.signbit(zeros)) == [False, True]
    special = subprocess.run([str(exe)], input="nan inf -inf -1 -2", capture_output=True,
                             text=True, check=True).stdout.split()
    vals = [float.fromhex(v) for v in special]
    assert np.isnan(vals[0]) and vals[1] == np.inf and np.isnan(vals[2])
    assert vals[3] == -np.inf and np.isnan(vals[4])


_TANH_MAIN = r"""
#include <cstdio>
int main() {
  double x;
  while (std::scanf("%lf", &x) == 1) std::printf("%a\n", _vtanh(x));
}
"""


def test_branch_free_tanh_within_three_ulp(tmp_path):
    """_vtanh (runtime/_cpu_kernel_math.h, compiled alone with the kernels' flags) against
    mpmath at 120 bits: within 3 ULP of double (its documented bound: -u/(2 + u) with
    u = expm1(-2|t|) doubles u's error where |u| nears 1), the sign of zeros and NaN kept."""
    import mpmath

    exe = _math_program(tmp_path, "tanh", _TANH_MAIN)
    rng = np.random.default_rng(29)
    xs = np.concatenate([rng.uniform(-20, 20, 4000), rng.uniform(-1, 1, 4000),
                         10.0 ** rng.uniform(-320, 3, 1500), -(10.0 ** rng.uniform(-320, 3, 1500)),
                         [0.0, -0.0, 1e-300, 5e-324, 0.55, 19.0, 20.0, 40.0, 1e300]])
    out = subprocess.run([str(exe)], input="\n".join(repr(float(x)) for x in xs),
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    got = np.array([float.fromhex(v) for v in out])
    mpmath.mp.prec = 120
    tiny = 2.0 ** -1074
    for x, v in zip(xs, got):
        ref = mpmath.tanh(mpmath.mpf(float(x)))
        r = float(ref)
        ulp = max(np.spacing(abs(r)), tiny) if r != 0 else tiny
        err = float(abs(mpmath.mpf(float(v)) - ref)) / ulp
        assert err <= 3.0, (float(x), float(v), r, err)
    assert list(np.signbit(got[xs == 0])) == [False, True]
    special = subprocess.run([str(exe)], input="nan inf -inf", capture_output=True,
                             text=True, check=True).stdout.split()
    vals = [float.fromhex(v) for v in special]
    assert np.isnan(vals[0]) and vals[1:] == [1.0, -1.0]
