"""The catalogue against references written here from the papers' definitions.

Values: each member's branch expression (evaluated by SymPy's adaptive evalf) against an
mpmath formula transcribed from the paper, at 50 digits, at negative, tiny and large x;
f' against mpmath's numerical differentiation of that formula; the torch.nn.functional
implementations in float64 where PyTorch has the function.  Classes: the one-sided
derivatives of the reference formula at each junction (mpmath.diff with a direction),
against gemsym.smoothness and the claim.  SELU's constants against the closed forms of
Klambauer et al. 2017.
"""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import mpmath as mp
import pytest
import sympy as sp

from gemsym.cli import main
from gemsym.families import FAMILIES, get_family
from gemsym.smoothness import smoothness

DPS = 50
TOL = mp.mpf(10) ** (-DPS + 12)


def _mpf(value) -> mp.mpf:
    frac = Fraction(str(value))
    return mp.mpf(frac.numerator) / frac.denominator


def _relu(x):
    return x if x > 0 else mp.mpf(0)


def _hardsigmoid(x):
    # PyTorch / MobileNetV3: ReLU6(x + 3) / 6
    return min(max(mp.mpf(0), x + 3), mp.mpf(6)) / 6


def _gem_positive(x, N, eps):
    return x ** (2 * N + 1) / (x ** (2 * N) + eps)


# name -> reference f(x, params); every formula as its paper (or PyTorch's docs) writes it.
REFERENCES = {
    "relu": lambda x, p: _relu(x),
    "leaky-relu": lambda x, p: x if x >= 0 else p["alpha"] * x,
    "max-ax-x": lambda x, p: max(p["a"] * x, x),
    "relu6": lambda x, p: min(_relu(x), mp.mpf(6)),
    "relu2": lambda x, p: _relu(x) ** 2,
    "hardsigmoid": lambda x, p: _hardsigmoid(x),
    "hardswish": lambda x, p: x * _hardsigmoid(x),
    "elu": lambda x, p: x if x > 0 else p["alpha"] * mp.expm1(x),
    "selu": lambda x, p: p["lambda"] * (x if x > 0 else p["alpha"] * mp.expm1(x)),
    "celu": lambda x, p: _relu(x) + min(mp.mpf(0), p["alpha"] * mp.expm1(x / p["alpha"])),
    "gelu": lambda x, p: x * mp.ncdf(x),
    # x (1 + tanh u)/2 written as x / (1 + e^{-2u}): no cancellation for x << 0
    "gelu-tanh": lambda x, p: x / (1 + mp.exp(-2 * mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x**3))),
    "gelu-beta": lambda x, p: x * mp.ncdf(p["beta"] * x),
    "silu": lambda x, p: x / (1 + mp.exp(-x)),
    "swish": lambda x, p: x / (1 + mp.exp(-p["beta"] * x)),
    "mish": lambda x, p: x * mp.tanh(mp.log1p(mp.exp(x))),
    "tanhexp": lambda x, p: x * mp.tanh(mp.exp(x)),
    "softplus": lambda x, p: mp.log1p(mp.exp(p["beta"] * x)) / p["beta"],
    "squareplus": lambda x, p: (x + mp.sqrt(x**2 + p["b"])) / 2,
    "smelu": lambda x, p: (mp.mpf(0) if x <= -p["beta"] else x if x >= p["beta"]
                           else (x + p["beta"]) ** 2 / (4 * p["beta"])),
    "isrlu": lambda x, p: x if x >= 0 else x / mp.sqrt(1 + p["alpha"] * x**2),
    "softsign": lambda x, p: x / (1 + abs(x)),
    # the safe PAU P(x)/(1 + |b1 x| + |b2 x^2|) with the README's coefficients
    "safe-pade": lambda x, p: (mp.mpf(1) / 50 + x / 2 + x**2 / 3)
    / (1 + abs(x / 5) + abs(x**2 / 7)),
    "snake": lambda x, p: x + mp.sin(p["a"] * x) ** 2 / p["a"],
    "gem": lambda x, p: _gem_positive(x, p["N"], 1) if x > 0 else mp.mpf(0),
    "e-gem": lambda x, p: _gem_positive(x, p["N"], p["eps"]) if x > 0 else mp.mpf(0),
    "se-gem": lambda x, p: _gem_positive(x, p["N"], p["eps"]) if x >= 0
    else -abs(x) ** (2 * p["N"] + 1) / (1 + abs(x) ** (2 * p["N"] + 1)),
    "sqish": lambda x, p: p["a"] * x + (1 - p["a"]) * x
    / (1 + p["beta"] * mp.exp(-2 * p["gamma"] * (1 - p["a"]) * x)),
}

# (family, parameter values); the other parameters take their defaults.
CASES = [
    ("relu", {}), ("leaky-relu", {}), ("leaky-relu", {"alpha": "-1/2"}),
    ("max-ax-x", {"a": "1/4"}), ("relu6", {}), ("relu2", {}), ("hardsigmoid", {}),
    ("hardswish", {}), ("elu", {}), ("elu", {"alpha": "2"}), ("selu", {}), ("celu", {}),
    ("celu", {"alpha": "1/2"}), ("gelu", {}), ("gelu-tanh", {}), ("gelu-beta", {"beta": "1/2"}),
    ("silu", {}), ("swish", {"beta": "5/2"}), ("mish", {}), ("tanhexp", {}), ("softplus", {}),
    ("softplus", {"beta": "4"}), ("squareplus", {}), ("squareplus", {"b": "1/3"}),
    ("smelu", {}), ("smelu", {"beta": "1/3"}), ("isrlu", {}), ("isrlu", {"alpha": "3"}),
    ("softsign", {}), ("safe-pade", {}), ("snake", {}), ("snake", {"a": "5"}),
    ("gem", {"N": 1}), ("gem", {"N": 2}), ("e-gem", {"N": 1, "eps": "1/10"}),
    ("se-gem", {"N": 1, "eps": "1/2"}), ("se-gem", {"N": 2, "eps": "1"}), ("sqish", {}),
    ("sqish", {"a": "-1/2", "beta": "2", "gamma": "3"}),
]

POINTS = ["-40", "-37/10", "-1", "-1/3", "-1e-8", "1e-8", "3/10", "5/2", "7", "40"]


def _bound(name: str, values: dict):
    act = get_family(name).with_defaults(**values)
    with mp.workdps(DPS):
        params = {k: _mpf(v) for k, v in act.values.items()}
    return act, params


def _ours(act, x, k: int = 0) -> mp.mpf:
    """f^{(k)}(x) from the activation's branch expressions, evaluated by mpmath at the
    precision in force (x given as text is read at that precision)."""
    return act.numeric(k)(_mpf(x) if isinstance(x, str) else x)


def _digits_for(value, x) -> int:
    """DPS plus the decimal digits lost when x g(x) is computed with g ~ value / x."""
    lost = 0 if value == 0 else max(0, int(-mp.log10(abs(value) / max(1, abs(x)))))
    return DPS + 10 + lost


def _case_id(case) -> str:
    name, values = case
    return name + "".join(f"-{k}={v}" for k, v in values.items())


def test_catalogue_has_every_member_of_the_literature():
    required = {
        "relu", "leaky-relu", "relu6", "relu2", "elu", "selu", "celu", "gelu", "gelu-tanh",
        "gelu-beta", "silu", "swish", "mish", "softplus", "squareplus", "smelu", "hardswish",
        "hardsigmoid", "isrlu", "softsign", "snake", "tanhexp", "safe-pade", "gem", "e-gem",
        "se-gem", "sqish",
    }
    assert required <= set(FAMILIES)
    assert set(REFERENCES) == set(FAMILIES)  # every member has a reference here
    for name in FAMILIES:
        act = get_family(name)
        assert act.name == name and act.citation and act.title and act.description
        assert act.claimed_smoothness is not None
        for p in act.parameters:
            p.check(p.default)  # every default lies in its domain
        assert act.identifier.isidentifier() and act.module_class_name.isidentifier()
        assert smoothness(act.with_defaults()).holds is True, name


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_values_and_derivative_against_paper_formula(case):
    name, values = case
    act, params = _bound(name, values)
    ref = REFERENCES[name]
    junctions = [float(j) for j in act.junctions]
    for text in POINTS:
        with mp.workdps(DPS):
            want = ref(_mpf(text), params)
        # f = x g(x) with g tiny (GELU at x = -40: 1 + erf(...) ~ 1e-349) cancels in the
        # branch expression: evaluate it with the digits that cancel on top of DPS.
        with mp.workdps(_digits_for(want, _mpf(text))):
            got = _ours(act, text)
        assert abs(got - want) <= TOL * abs(want), (text, got, want)
    with mp.workdps(DPS):
        params = {k: _mpf(v) for k, v in act.values.items()}
        for text in POINTS:
            x = _mpf(text)
            if abs(x) > 10 or min((abs(x - j) for j in junctions), default=1) < 1e-6:
                continue
            got1 = _ours(act, x, 1)
            want1 = mp.diff(lambda t: ref(t, params), x)
            assert abs(got1 - want1) <= mp.mpf(10) ** -30 * max(1, abs(want1)), (text, got1, want1)


def _one_sided_class(ref, params, c, top: int) -> int:
    """Largest k <= top with f^{(j)}(c-) = f^{(j)}(c+) for j <= k (-1: not continuous), the
    one-sided derivatives by mpmath's one-sided differences of the reference formula."""
    f = lambda t: ref(t, params)  # noqa: E731
    for k in range(top + 1):
        right = mp.diff(f, c, k, direction=1)
        left = mp.diff(f, c, k, direction=-1)
        if abs(right - left) > mp.mpf(10) ** -12 * max(1, abs(right)):
            return k - 1
    return top


@pytest.mark.parametrize("case", [c for c in CASES if get_family(c[0]).junctions],
                         ids=_case_id)
def test_class_at_junctions_against_one_sided_derivatives(case):
    name, values = case
    act, params = _bound(name, values)
    report = smoothness(act)
    assert report.holds is True, (name, report.claimed)
    with mp.workdps(DPS):
        for j in report.junctions:
            k = int(j.smoothness)
            found = _one_sided_class(REFERENCES[name], params, _mpf(sp.Rational(j.junction)), k + 1)
            assert found == k, (name, j.junction, found, k)


def test_classes_the_literature_states():
    """The classes named in the papers (independent of the claims written in the code)."""
    stated = {("relu2", None): 1, ("hardswish", None): 0, ("smelu", None): 1,
              ("isrlu", None): 2, ("celu", None): 1, ("elu", "1"): 1, ("elu", "2"): 0,
              ("softsign", None): 1, ("selu", None): 0, ("relu6", None): 0}
    for (name, alpha), k in stated.items():
        act = get_family(name).with_defaults(**({"alpha": alpha} if alpha else {}))
        assert {j.smoothness for j in smoothness(act).junctions} == {k}, name


def test_claim_depending_on_parameter_value():
    elu = get_family("elu")
    assert smoothness(elu).holds is True  # symbolic alpha: C^0, and C^1 at alpha = 1
    alpha = elu.parameter("alpha").symbol
    for wrong in (sp.Piecewise((2, sp.Eq(alpha, 1)), (0, True)),
                  sp.Piecewise((1, sp.Eq(alpha, 2)), (0, True)),
                  sp.Piecewise((1, sp.Eq(alpha, 1)), (1, True))):
        assert smoothness(replace(elu, claimed_smoothness=wrong)).holds is False, wrong


def test_selu_constants_are_the_papers_fixed_point():
    """alpha_01, lambda_01 in closed form (Klambauer et al. 2017, arXiv 1706.02515, the
    fixed point (mu, nu) = (0, 1)) agree with the defaults to the 31 published decimals."""
    act = get_family("selu")
    with mp.workdps(DPS):
        c, e = mp.erfc(1 / mp.sqrt(2)), mp.e
        alpha01 = -mp.sqrt(2 / mp.pi) / (c * mp.sqrt(e) - 1)
        lambda01 = (1 - c * mp.sqrt(e)) * mp.sqrt(2 * mp.pi) * (
            2 * mp.erfc(mp.sqrt(2)) * e**2 + mp.pi * c**2 * e - 2 * (2 + mp.pi) * c * mp.sqrt(e)
            + mp.pi + 2) ** (-mp.mpf(1) / 2)
        assert abs(_mpf(act.parameter("alpha").default) - alpha01) < mp.mpf(10) ** -31
        assert abs(_mpf(act.parameter("lambda").default) - lambda01) < mp.mpf(10) ** -31


def test_declared_limits_are_reached():
    """f at a parameter close to the limiting value is close to the declared limit."""
    for name, make in FAMILIES.items():
        act = make()
        if act.limit is None:
            continue
        lim = act.limit
        near = "1e-6" if lim.value == 0 else "1e6"
        bound, params = _bound(name, {lim.parameter: near})
        target = lim.function.with_defaults(**{k: v for k, v in bound.values.items()
                                               if k in lim.function.parameter_names})
        g = target.numeric()
        with mp.workdps(30):
            for t in ("-2", "-1/2", "1/2", "3"):
                x = _mpf(t)
                assert abs(REFERENCES[name](x, params) - g(x)) < 1e-3, (name, t)


TORCH = {  # name -> (torch function of a float64 tensor, parameter values)
    "relu": (lambda F, x: F.relu(x), {}),
    "leaky-relu": (lambda F, x: F.leaky_relu(x, 0.01), {}),
    "relu6": (lambda F, x: F.relu6(x), {}),
    "hardsigmoid": (lambda F, x: F.hardsigmoid(x), {}),
    "hardswish": (lambda F, x: F.hardswish(x), {}),
    "elu": (lambda F, x: F.elu(x, 2.0), {"alpha": "2"}),
    "selu": (lambda F, x: F.selu(x), {}),
    "celu": (lambda F, x: F.celu(x, 0.5), {"alpha": "1/2"}),
    "gelu": (lambda F, x: F.gelu(x), {}),
    "gelu-tanh": (lambda F, x: F.gelu(x, approximate="tanh"), {}),
    "silu": (lambda F, x: F.silu(x), {}),
    "mish": (lambda F, x: F.mish(x), {}),
    "softplus": (lambda F, x: F.softplus(x, beta=4.0, threshold=1000.0), {"beta": "4"}),
    "softsign": (lambda F, x: F.softsign(x), {}),
}

TORCH_POINTS = [-40.0, -10.0, -3.7, -3.0, -1.0, -1e-8, -1e-300, 0.0, 1e-300, 1e-8, 0.3, 1.0,
                2.5, 3.0, 6.0, 7.0, 40.0]


@pytest.mark.parametrize("name", list(TORCH))
def test_values_against_torch_float64(name):
    torch = pytest.importorskip("torch")
    fn, values = TORCH[name]
    act, params = _bound(name, values)
    got = fn(torch.nn.functional, torch.tensor(TORCH_POINTS, dtype=torch.float64)).tolist()
    for x, t in zip(TORCH_POINTS, got):
        with mp.workdps(DPS):
            want = REFERENCES[name](mp.mpf(x), params)
        with mp.workdps(_digits_for(want, mp.mpf(x))):
            ours = float(_ours(act, mp.mpf(x)))
            # torch rounds in float64: a few ulps of the value, or of x where 1 + tanh or
            # 1 + erf cancels (GELU at x << 0)
            assert abs(ours - t) <= 1e-14 * abs(ours) + 4e-16 * max(1.0, abs(x)), (x, ours, t)


def test_list_json_lists_every_member(capsys):
    assert main(["list", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == list(FAMILIES)
    keys = {"name", "title", "definition", "parameters", "limit", "claimed_smoothness",
            "citation"}
    for r in records:
        assert keys <= set(r), r["name"]
        assert r["definition"] and r["claimed_smoothness"].startswith("C^") and r["citation"]
        for p in r["parameters"]:
            assert {"name", "domain", "default"} <= set(p)
    by_name = {r["name"]: r for r in records}
    for name, param, value in [("softplus", "beta", "inf"), ("swish", "beta", "inf"),
                               ("gelu-beta", "beta", "inf"), ("squareplus", "b", "0"),
                               ("smelu", "beta", "0"), ("celu", "alpha", "0"),
                               ("e-gem", "eps", "0")]:
        lim = by_name[name]["limit"]
        assert (lim["parameter"], lim["value"], lim["function"]) == (param, value, "relu"), name
    assert by_name["elu"]["claimed_smoothness"] == "C^1 if alpha = 1, else C^0"
    assert by_name["leaky-relu"]["parameters"][0]["default"] == "0.01"
    assert by_name["smelu"]["junctions"] == ["-beta", "beta"]


def test_list_text_and_bad_family(capsys):
    assert main(["list", "--family", "smelu", "--family", "gem"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("smelu: ") and "relu as beta -> 0" in out and "C^(2*N)" in out
    assert main(["list", "--family", "no-such-family"]) == 2
    assert "no-such-family" in capsys.readouterr().err


def test_list_imports_neither_torch_nor_matplotlib():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("import sys, io, contextlib; from gemsym.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['list', '--json'])\n"
            "print('torch' in sys.modules, 'matplotlib' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=root, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stderr
