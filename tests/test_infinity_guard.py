"""The values at x = +-oo that the generated PyTorch formulas apply after an output's
finite form, under ``if _nonfinite(x):`` (``gemsym.codegen.body._at_infinity_guard``): an
input holding an infinity gets them, an all-finite input the same bits without them, and
``_nonfinite`` is true wherever a branch on the data must not be taken (torch.compile,
torch.func, fake and meta tensors, dispatch modes)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import torch_bridge as tb  # noqa: E402
from torch_bridge import _runtime  # noqa: E402

from .generated_package import default_params, generated_package  # noqa: E402
from .torch_calls import bits, plain_formulas, special_inputs  # noqa: E402

#: catalogue members whose formulas have a guarded output (sigmoid forms with limits)
MEMBERS = ("silu", "swish", "gelu-tanh", "softplus")


@pytest.fixture(autouse=True)
def _plain_path():
    with plain_formulas():
        yield


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    with generated_package(tmp_path_factory, "guard", MEMBERS) as pkg:
        yield pkg


def test_nonfinite_is_false_only_for_a_finite_plain_cpu_tensor():
    f = _runtime._nonfinite
    x = torch.randn(100, dtype=torch.float64)
    assert f(x) is False and f(x.float()) is False
    for v in (math.inf, -math.inf, math.nan):
        y = x.clone()
        y[37] = v
        assert f(y) is True
    # finite elements whose sum overflows: true (the guarded lines then change nothing)
    assert f(torch.tensor([1e308, 1e308], dtype=torch.float64)) is True
    assert f(x.to("meta")) is True
    seen = []
    torch.vmap(lambda t: seen.append(f(t)) or t)(x.reshape(10, 10))
    assert seen == [True]
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode() as mode:
        assert f(mode.from_tensor(x)) is True
    compiled = torch.compile(lambda t: t * 2.0 if f(t) else t, backend="eager", fullgraph=True)
    assert torch.equal(compiled(x), x * 2.0)


def _value_and_grad(fn, x: torch.Tensor):
    xg = x.clone().requires_grad_()
    y = fn(xg)
    (gx,) = torch.autograd.grad(y.sum(), xg)
    return y.detach(), gx


def _assert_guard_changes_only_the_infinities(fn, dtype):
    """fn on finite inputs, and on the same inputs with two of them made +inf and -inf:
    the other values and derivatives keep their bits; at the infinities, those of fn at
    [inf, -inf] alone (returned)."""
    x = special_inputs(dtype, 3000)
    x = x[torch.isfinite(x)]
    y, g = _value_and_grad(fn, x)
    xi = x.clone()
    xi[5], xi[-7] = math.inf, -math.inf
    yi, gi = _value_and_grad(fn, xi)
    keep = torch.isfinite(xi)
    assert torch.equal(bits(yi[keep]), bits(y[keep]))
    assert torch.equal(bits(gi[keep]), bits(g[keep]))
    ends, gends = _value_and_grad(fn, torch.tensor([math.inf, -math.inf], dtype=dtype))
    assert torch.equal(bits(yi[~keep]), bits(ends)) and torch.equal(bits(gi[~keep]), bits(gends))
    return ends, gends


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("a", [0.0, 0.25, -0.25])
def test_sqish_values_at_infinity(a, dtype):
    """Sqish = a x + (1 - a) x sigma(2 gamma (1 - a) x - log beta): at +inf, f = +inf and
    f' = 1; at -inf, f = a (-inf) (0 for a = 0) and f' = a."""
    ends, gends = _assert_guard_changes_only_the_infinities(
        lambda t: tb.sqish(t, a=a, beta=2.0, gamma=0.5), dtype)
    at_minus = 0.0 if a == 0 else -math.copysign(math.inf, a)
    assert ends.double().tolist() == [math.inf, at_minus]
    assert gends.double().tolist() == [1.0, a]


@pytest.mark.parametrize("member", MEMBERS)
def test_catalogue_members_values_at_infinity(catalogue, member):
    fn = getattr(catalogue, member.replace("-", "_"))
    params = default_params(member)
    ends, gends = _assert_guard_changes_only_the_infinities(lambda t: fn(t, **params),
                                                           torch.float32)
    # every one of them is x-like at +inf and vanishes at -inf, with f' -> 1 and 0
    assert ends.tolist() == [math.inf, 0.0]
    assert gends.tolist() == [1.0, 0.0]


def test_the_guarded_formulas_select_nothing_before_the_guard():
    """In Sqish's formulas no comparison nor selection on x is made before the guard."""
    import inspect

    from torch_bridge import _formulas

    for fn in (_formulas.sqish_f, _formulas.sqish_dx, _formulas.sqish_first):
        src = inspect.getsource(fn)
        for body in src.split("    if _case:\n")[-1].split("return")[:-1]:
            before = body.split("if _nonfinite(x):")[0]
            assert "_isinf" not in before and "x > 0" not in before, fn.__name__
            assert "if _nonfinite(x):" in body, fn.__name__


def test_beyond_is_false_only_when_no_element_exceeds_the_bound():
    """``_beyond`` (the linear tails' guard, ``narrow.Clamp.tail``): False for a plain CPU
    tensor whose largest element is at most the bound; True above it, with a NaN anywhere
    (the maximum is NaN), and wherever a branch on the data must not be taken."""
    f = _runtime._beyond
    x = torch.randn(100, dtype=torch.float64)
    assert f(x, 2.0**48) is False and f(x.new_empty(0), 2.0**48) is False
    for v in (2.0**48 * 1.5, math.inf, math.nan):
        y = x.clone()
        y[41] = v
        assert f(y, 2.0**48) is True
    assert f(torch.full((3,), 2.0**48, dtype=torch.float64), 2.0**48) is False
    assert f(x.to("meta"), 2.0**48) is True
    seen = []
    torch.vmap(lambda t: seen.append(f(t, 2.0**48)) or t)(x.reshape(10, 10))
    assert seen == [True]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_linear_tail_only_where_an_input_exceeds_its_clamp(dtype):
    """GEM f with N = 4 (x clamped to 2^48, then x - 2^48 added beyond it): the inputs
    below 2^48 keep their bits when a larger one, an infinity or a NaN joins them; the
    large ones get the values they get alone (x itself in the narrow dtypes), +inf at +inf,
    and the same bits under torch.func's vmap (where the tail is always applied)."""
    x = special_inputs(dtype, 3000)
    x = x[torch.isfinite(x) & (x.double().abs() < 2.0**40)]
    y = tb.gem(x, N=4)
    big = [2.0**60, 3e30, math.inf, math.nan] if dtype != torch.float16 else [6e4, math.inf,
                                                                              math.nan]
    xi = torch.cat([x, torch.tensor(big, dtype=dtype)])
    yi = tb.gem(xi, N=4)
    assert torch.equal(bits(yi[:len(x)]), bits(y))
    alone = torch.stack([tb.gem(torch.tensor([v], dtype=dtype), N=4)[0] for v in big])
    assert torch.equal(bits(yi[len(x):]), bits(alone))
    finite = torch.tensor(big[:-2], dtype=dtype)
    assert torch.equal(tb.gem(finite, N=4), finite) and alone[-2] == math.inf
    assert torch.equal(bits(torch.vmap(lambda t: tb.gem(t, N=4))(xi.reshape(1, -1))[0]),
                       bits(yi))
