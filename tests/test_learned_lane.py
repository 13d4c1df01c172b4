"""A learnable module's plain eager call with the graph of its parameters
(``_module._Learned``): the constrained values are read once per raw values, the forward is
the functional call on those numbers, the backward the registered backward op's kernel and
``Domain.constrain_grad``.  Its values, input and raw-parameter gradients and double
backward are bitwise the op path's (``constrain``'s ops recorded by autograd, then the
family's ``autograd.Function``), which a dispatch mode forces; the raw gradient is also
checked against finite differences in float64 (``gradcheck``).  Calls that a tool must
see, and torch.func transforms, keep the op path."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from torch_bridge import _params, modules  # noqa: E402

from .torch_calls import _Dispatch, bits, plain_formulas  # noqa: E402

#: (module class, its values): Sqish's a is bounded above (hi - softplus), beta and gamma
#: below (lo + softplus); E-GEM's and SE-GEM's eps below
MODULES = [(modules.Sqish, dict(a=0.0, beta=1.0, gamma=1.0)),
           (modules.Sqish, dict(a=-0.5, beta=2.0, gamma=0.3)),
           (modules.Sqish, dict(a=0.9, beta=1e-3, gamma=5.0)),
           (modules.EGEM, dict(N=2, eps=1e-4)),
           (modules.SEGEM, dict(N=1, eps=1.0))]
DTYPES = (torch.float32, torch.bfloat16, torch.float64)


@pytest.fixture(params=["formulas", "kernel"])
def path(request):
    """Both CPU paths the lane's calls take: the PyTorch formulas, and the compiled kernel
    where it is built (else the formulas again)."""
    if request.param == "formulas":
        with plain_formulas():
            yield request.param
    else:
        yield request.param


def _bit_list(ts):
    return [None if t is None else bits(t) for t in ts]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        (s is None and t is None) or (s is not None and t is not None and torch.equal(s, t))
        for s, t in zip(_bit_list(a), _bit_list(b)))


def _module(cls, values, dtype, shift):
    m = cls(learnable=True, **values).to(torch.float64 if dtype == torch.float64 else torch.float32)
    with torch.no_grad():
        for p, s in zip(m.parameters(), shift):
            p.add_(s)
    return m


@pytest.mark.parametrize("cls, values", MODULES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [9, 40000])
def test_values_and_gradients_are_the_op_paths(path, cls, values, dtype, n):
    """y, dL/dx and dL/draw of one call and of two calls between parameter writes, with x
    requiring its gradient or not, and a double backward: bitwise the op path's."""
    gen = torch.Generator().manual_seed(n)
    m = _module(cls, values, dtype, torch.randn(3, generator=gen) * 0.7)
    x = (torch.randn(n, generator=gen, dtype=torch.float64) * 4).to(dtype)
    g = torch.randn(n, generator=gen, dtype=torch.float64).to(dtype)
    params = tuple(m.parameters())

    def first(x_grad: bool):
        xi = x.clone().requires_grad_(x_grad)
        y = m(xi)
        return (y, *torch.autograd.grad(y, ((xi,) if x_grad else ()) + params, g))

    def second():
        xi = x.clone().requires_grad_()
        y = m(xi)
        gs = torch.autograd.grad(y, (xi, *params), g, create_graph=True)
        return (*gs, *torch.autograd.grad(sum(t.float().sum() for t in gs), (xi, *params),
                                          allow_unused=True))

    for run in (lambda: first(True), lambda: first(False), second):
        got = run()
        assert got[0].grad_fn is not None
        with _Dispatch():  # the op path: constrain's graph, the op's Function
            want = run()
        assert _same(got, want)
    with torch.no_grad():
        m.__getattr__(m._raw_names[-1]).mul_(0.5)  # a training step's write
    got = first(True)
    with _Dispatch():
        want = first(True)
    assert _same(got, want)


@pytest.mark.parametrize("cls, values", [(modules.EGEM, dict(N=1, eps=0.3)),
                                         (modules.SEGEM, dict(N=1, eps=2.0))])
def test_memos_follow_the_integer_parameter_and_the_dtype(path, cls, values):
    """The lane keeps the formulas' memos with the constrained values (the parameters'
    own expressions, once per value); the raw values alone do not key them: a module's
    N set between calls, or an input of another dtype at the same values, gets the op
    path's bits, not the memo of the previous call."""
    m = cls(learnable=True, **values)
    x = torch.linspace(-3.0, 5.0, 301, dtype=torch.float64)
    g = torch.cos(x)
    params = tuple(m.parameters())
    for n_value, dtype in ((1, torch.float32), (3, torch.float32), (3, torch.bfloat16),
                           (3, torch.float64), (2, torch.float32)):
        m.N = n_value
        xi = x.to(dtype).requires_grad_()
        gi = g.to(dtype)

        def call():
            y = m(xi)
            return (y, *torch.autograd.grad(y, (xi, *params), gi))

        got = call()
        assert got[0].grad_fn is not None and type(got[0].grad_fn).__name__ == "_LearnedBackward"
        with _Dispatch():
            want = call()
        assert _same(got, want), (n_value, dtype)


def test_the_lane_takes_a_plain_call_and_tools_see_the_op(path):
    """A plain call records one node (``_Learned``); under a dispatch mode, the profiler,
    torch.func or forward-mode AD the op path runs (constrain's nodes, the op's Function)."""
    m = modules.Sqish(a=-0.25, beta=2.0, gamma=0.5, learnable=True)
    x = torch.randn(64, requires_grad=True)
    assert type(m(x).grad_fn).__name__ == "_LearnedBackward"
    with _Dispatch():
        assert type(m(x).grad_fn).__name__ != "_LearnedBackward"
    with torch.autograd.profiler.profile():
        assert type(m(x).grad_fn).__name__ != "_LearnedBackward"
    # a backward the profiler watches recomputes by the op path: the same gradients
    g = torch.linspace(-2.0, 3.0, 64)
    want = torch.autograd.grad(m(x), (x, *m.parameters()), g)
    y = m(x)
    with torch.autograd.profiler.profile() as prof:
        got = torch.autograd.grad(y, (x, *m.parameters()), g)
    assert _same(got, want) and "torch_bridge::sqish_bwd" in {e.name for e in prof.function_events}
    # torch.func: the op path's rules (vmap, grad of the functional call)
    params = {k: v.detach() for k, v in m.named_parameters()}
    gx = torch.func.grad(lambda p, t: torch.func.functional_call(m, p, (t,)).sum(),
                         argnums=(0, 1))(params, x.detach())
    want = torch.autograd.grad(m(x).sum(), (x, *m.parameters()))
    assert torch.allclose(gx[1], want[0]) and all(
        torch.allclose(gx[0][k], w) for k, w in zip(params, want[1:]))


def test_raw_gradient_against_finite_differences():
    """gradcheck in float64: dL/draw and dL/dx of the lane against central differences of
    the module's own forward."""
    m = modules.Sqish(a=-0.3, beta=1.5, gamma=0.7, learnable=True).double()
    x = torch.linspace(-6.0, 6.0, 41, dtype=torch.float64, requires_grad=True)
    raws = tuple(m.parameters())
    assert type(m(x).grad_fn).__name__ == "_LearnedBackward"
    y = m(x)
    g = torch.autograd.grad(y.sum(), (x, *raws))
    eps = 1e-6
    for i, p in enumerate(raws):
        with torch.no_grad():
            v = p.item()
            p.fill_(v + eps)
            up = m(x.detach()).sum().item()
            p.fill_(v - eps)
            down = m(x.detach()).sum().item()
            p.fill_(v)
        assert math.isclose(g[1 + i].item(), (up - down) / (2 * eps), rel_tol=1e-6, abs_tol=1e-9)
    assert torch.autograd.gradcheck(lambda t: m(t), (x,))


#: every kind of domain: below, above, both bounded, the real line
DOMAINS = [_params.Domain(lo=0.0), _params.Domain(hi=1.0), _params.Domain(lo=-3.0),
           _params.Domain(lo=0.5, hi=2.0), _params.Domain(lo=0.0, hi=1.0), _params.Domain()]
RAWS = [-1e4, -200.0, -104.0, -90.0, -30.0, -5.0, -1e-3, -0.0, 0.0, 1e-30, 1e-3, 0.5, 5.0,
        19.99, 20.0, 20.01, 60.0, 89.0, 200.0]


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.describe())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_constrain_parts_are_autograds(domain, dtype):
    """``Domain.constrain_parts(raw)`` is (``constrain(raw)``, and autograd's d constrain(raw)/d
    raw times g), bit for bit, at raw values inside, at and beyond the clamps and softplus'
    threshold, for gradients of either sign, zeros and large magnitudes."""
    tiny = {torch.float64: 1e-300, torch.float32: 1e-40}.get(dtype, 1e-7)
    grads = [1.0, -1.0, 0.0, -0.0, 3.7e-5, -2.5e30 if dtype != torch.float16 else -6e4, tiny]
    for r in RAWS:
        raw = torch.tensor(r, dtype=dtype, requires_grad=True)
        if not math.isfinite(raw.item()):
            continue
        value, backward = domain.constrain_parts(raw)
        want_value = domain.constrain(raw)
        assert torch.equal(bits(value), bits(want_value.detach())) and not value.requires_grad
        for gv in grads:
            g = torch.tensor(gv, dtype=dtype)
            (want,) = torch.autograd.grad(domain.constrain(raw), raw, g)
            got = backward(raw, g)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert torch.equal(bits(got), bits(want)), (domain.describe(), r, gv, got, want)


def test_the_benchmark_script_runs(tmp_path):
    """``benchmarks/learnable_ab.py`` at one tiny size: a row per family with every variant
    and its ratio to the anchor (the naive formula for Sqish, the op path otherwise)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "ab.json"
    subprocess.run([sys.executable, str(root / "benchmarks" / "learnable_ab.py"), "--sizes", "4",
                    "--rounds", "1", "--step", "--json", str(out)], check=True, cwd=root,
                   capture_output=True, timeout=300)
    rows = json.loads(out.read_text())["rows"]
    assert [r["family"] for r in rows] == ["sqish", "e-gem", "se-gem"]
    for r in rows:
        assert r["numel"] == 16 and r["step"] and r["over"][r["anchor"]] == 1.0
        assert set(r["median_us"]) == ({"module", "op path", "naive"} if r["family"] == "sqish"
                                       else {"module", "op path"})
        assert all(v > 0 for v in r["median_us"].values())


def test_an_output_kept_on_the_module_does_not_keep_it_alive():
    """The call's autograd node holds no reference to the module: a module that keeps its
    last output (and so the node) is freed once unreferenced."""
    import gc
    import weakref

    m = modules.Sqish(learnable=True)
    m.last = m(torch.randn(8, requires_grad=True))
    assert type(m.last.grad_fn).__name__ == "_LearnedBackward"
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
