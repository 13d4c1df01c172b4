"""Every catalogue member's generated f and d/dx at x = -inf and +inf are the function's
limits there (NaN where it has none: Snake's 1 + sin(2 a x)), on the plain PyTorch path in
float32, float64 and bfloat16, with parameters at their defaults and at the values that
change a limit (leaky ReLU's alpha = 0: alpha x is 0 for every x, 0 * inf is NaN).

The expected values are independent of the code generator's limits (SymPy's, confirmed by
mpmath): the papers' formulas (``catalogue_reference``) in mpmath at |x| = 10^12 and 10^24,
rounded to float32; a value that still moves between the two (no limit) means NaN.
(A zero limit is compared without its sign.)"""

from __future__ import annotations

import math

import mpmath as mp
import pytest

torch = pytest.importorskip("torch")

import catalogue_reference as cref  # noqa: E402

from .generated_package import default_params, generated_package  # noqa: E402
from .torch_calls import plain_formulas  # noqa: E402

MEMBERS = ("relu", "leaky-relu", "max-ax-x", "relu6", "relu2", "hardsigmoid", "hardswish",
           "elu", "selu", "celu", "gelu", "gelu-tanh", "gelu-beta", "silu", "swish", "mish",
           "tanhexp", "softplus", "squareplus", "smelu", "isrlu", "softsign", "safe-pade",
           "snake")
#: parameter values at which a limit at -oo or +oo changes (alpha x at alpha = 0)
CASES = [(m, {}) for m in MEMBERS] + [("leaky-relu", {"alpha": 0.0}),
                                      ("max-ax-x", {"a": 0.0}), ("max-ax-x", {"a": -0.5})]
DTYPES = (torch.float32, torch.float64, torch.bfloat16)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    with generated_package(tmp_path_factory, "infinity", MEMBERS) as pkg:
        yield pkg


def _f32(v) -> float:
    return float(torch.tensor(float(v), dtype=torch.float64).to(torch.float32))


def _expected(name: str, params: dict, sign: int) -> dict[str, float]:
    """{quantity: float32 value} of f and d_x at x = sign oo: the reference at sign 10^12
    and sign 10^24 (10^4 and 10^8 where mpmath cannot evaluate the larger, TanhExp's
    tanh(e^x)) where both round alike, an infinity or a zero where it grows or decays
    1000-fold (a power of x), NaN otherwise."""
    for near, far in ((12, 24), (4, 8)):
        try:
            with mp.workdps(50):
                a = cref.reference(name, sign * mp.mpf(10) ** near, params)
                b = cref.reference(name, sign * mp.mpf(10) ** far, params)
            break
        except (MemoryError, OverflowError):
            continue
    out = {}
    for q in ("f", "d_x"):
        va, vb = _f32(a[q][0]), _f32(b[q][0])
        if va == vb:
            out[q] = vb
        elif (va > 0) == (vb > 0) and abs(vb) >= 1e3 * abs(va) > 0:
            out[q] = math.copysign(math.inf, vb)  # growing like a power of x
        elif abs(vb) <= 1e-3 * abs(va):
            out[q] = 0.0  # decaying like a power of x
        else:
            out[q] = math.nan
    return out


def _same(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == want


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name,over", CASES, ids=lambda v: str(v) if v else "defaults")
def test_values_at_infinity_are_the_limits(catalogue, name, over, dtype):
    params = default_params(name, **over)
    fn = getattr(catalogue, name.replace("-", "_"))
    kwargs = {k if k != "lambda" else "lambda_": v for k, v in params.items()}
    x = torch.tensor([-math.inf, math.inf], dtype=dtype, requires_grad=True)
    with plain_formulas():
        y = fn(x, **kwargs)
        (gx,) = torch.autograd.grad(y.sum(), x)
    for i, sign in enumerate((-1, 1)):
        want = _expected(name, params, sign)
        for q, got in (("f", y[i]), ("d_x", gx[i])):
            got32 = _f32(got.detach().double().item())
            if dtype == torch.bfloat16 and not math.isnan(want[q]) and not math.isinf(want[q]):
                want_q = float(torch.tensor(want[q]).to(torch.bfloat16).double())
            else:
                want_q = want[q]
            assert _same(got32, want_q), (name, over, str(dtype), sign, q, got32, want_q)
