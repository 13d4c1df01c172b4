"""Code generation: the stable forms are exact rewrites of the SymPy derivatives (checked
numerically at 30 digits against ``sp.diff`` of the original branches), the printers,
the CLI, atomic writing, and the committed ``torch_bridge/`` being exactly the generator's
output.  None of these tests needs torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mpmath as mp
import pytest
import sympy as sp

from gemsym import families
from gemsym.cli import main
from gemsym.codegen import derive, render_package, rewrite_sigmoids, stable_form, write_package
from gemsym.codegen.printer import Printer
from gemsym.codegen.stable import R, Expm1, InfTimes, IPow, Sigmoid, SigmoidLinear, XTimes
from gemsym.codegen.writer import STAMP

ROOT = Path(__file__).resolve().parents[1]
DPS = 30


def _evaluate(expr: sp.Expr, x: sp.Symbol, point) -> sp.Expr:
    """Numeric value of a stable-form expression, with its private functions expanded."""
    e = expr.replace(lambda t: isinstance(t, IPow), lambda t: t.args[0] ** t.args[1])
    e = e.replace(lambda t: isinstance(t, XTimes), lambda t: t.args[0] * t.args[1] ** t.args[2])
    e = e.replace(lambda t: isinstance(t, SigmoidLinear),
                  lambda t: Sigmoid(t.args[0] * t.args[1] + t.args[2]))
    e = e.replace(lambda t: isinstance(t, Sigmoid), lambda t: 1 / (1 + sp.exp(-t.args[0])))
    e = e.replace(lambda t: isinstance(t, Expm1), lambda t: t.rewrite(sp.exp))
    e = e.xreplace({R: 1 / x}).xreplace({x: point})
    return sp.N(e, DPS)


def _close(a, b) -> bool:
    a, b = sp.N(a, DPS), sp.N(b, DPS)
    return abs(a - b) <= sp.Float(10) ** (-DPS + 6) * max(1, abs(b))


FAMILY_VALUES = {
    "gem": {},
    "e-gem": {"eps": sp.Rational(3, 10)},
    "se-gem": {"eps": sp.Rational(7, 4)},
    "sqish": {"a": sp.Rational(1, 4), "beta": sp.Rational(3, 2), "gamma": sp.Rational(2, 3)},
}


@pytest.mark.parametrize("name", list(FAMILY_VALUES))
def test_stable_forms_are_exact_rewrites_of_the_derivatives(name):
    """Every small/large/Bernstein form equals sp.diff of the original branch expression
    (no sigmoid rewrite) at points on both sides of |x| = 1, for N = 1, 2, 3."""
    act = families.get_family(name)
    code = derive(act)
    x = act.x
    reals = [act.parameter(p.name) for p in code.real_params]
    variables = [x] + [p.symbol for p in reals]
    pairs = [(i, j) for i in range(len(variables)) for j in range(i, len(variables))]
    for N in ((1, 2, 3) if code.int_params else (None,)):
        values = {act.parameter(k).symbol: v for k, v in FAMILY_VALUES[name].items()}
        plain = {code.symbols[k]: v for k, v in FAMILY_VALUES[name].items()}
        if N is not None:
            values[act.parameter("N").symbol] = N
            plain[code.symbols["N"]] = N
        for b, branch in enumerate(act.branches):
            lo, hi = branch.lower, branch.upper
            points = [p for p in (sp.Rational(-37, 2), sp.Rational(-13, 10), sp.Rational(-3, 10),
                                  sp.Rational(1, 7), sp.Rational(9, 10), sp.Rational(5, 2),
                                  sp.Integer(40)) if lo < p < hi]
            originals = [branch.expr] + [sp.diff(branch.expr, v) for v in variables]
            originals += [sp.diff(branch.expr, variables[i], variables[j]) for i, j in pairs]
            forms = [code.forward[0][b]] + [o[b] for o in code.first] + [o[b] for o in code.second]
            assert len(forms) == len(originals)
            for orig, form in zip(originals, forms):
                for point in points:
                    want = sp.N(orig.subs(values).subs(x, point), DPS)
                    for expr in (form.small, form.large):
                        if expr is None:
                            continue
                        got = _evaluate(expr.subs(plain), x, point)
                        assert _close(got, want), (name, N, b, orig, expr, point, got, want)


def test_power_form_shapes():
    """E-GEM: the gate is written through eps r^{2N} for |x| > 1, and every monomial of
    the small form has a non-negative exponent (nothing overflows for |x| <= 1)."""
    act = families.e_gem()
    code = derive(act)
    f = code.forward[0][1]
    assert f.kind == "power"
    N, eps = code.symbols["N"], code.symbols["eps"]
    x = act.x
    assert sp.simplify(f.large - x / (1 + eps * IPow(R, 2 * N))) == 0
    for form in (f, *(o[1] for o in code.first)):
        for ipow in form.small.atoms(IPow):
            assert ipow.args[0] == x and ipow.args[1].subs(N, 1) >= 0
        for ipow in form.large.atoms(IPow):
            assert ipow.args[1].subs(N, 1) >= 0


def test_sigmoid_rewrite_and_derivative():
    act = families.sqish()
    x = act.x
    e = act.branches[0].expr
    r = rewrite_sigmoids(e)
    assert r.has(Sigmoid) and not r.has(sp.exp)
    subs = {act.parameter("a").symbol: sp.Rational(1, 3), act.parameter("beta").symbol: 2,
            act.parameter("gamma").symbol: sp.Rational(1, 2)}
    for point in (sp.Rational(-5, 2), sp.Rational(1, 3), sp.Integer(4)):
        assert _close(_evaluate(r.subs(subs), x, point), e.subs(subs).subs(x, point))
    t = sp.Symbol("t")
    mp.mp.dps = DPS
    for point in (-3.5, 0.0, 0.7):
        numeric = mp.diff(lambda v: 1 / (1 + mp.exp(-v)), point)
        got = _evaluate(sp.diff(Sigmoid(t), t), t, sp.Float(point, DPS))
        assert abs(numeric - mp.mpf(str(got))) < mp.mpf(10) ** (-20)


def test_sigmoid_form_limits_match_the_function_far_out():
    """The +-oo limits attached to Sqish's forms agree with the original expression and
    its derivatives evaluated far out (x = +-60 / gamma), and depend on a as they should."""
    act = families.sqish()
    code = derive(act)
    x = act.x
    for a in (sp.Rational(1, 4), sp.Integer(0), sp.Rational(-1, 2)):
        vals = {"a": a, "beta": sp.Rational(3, 2), "gamma": sp.Integer(2)}
        plain = {code.symbols[k]: v for k, v in vals.items()}
        orig_subs = {act.parameter(k).symbol: v for k, v in vals.items()}
        originals = [act.branches[0].expr, *(sp.diff(act.branches[0].expr, v)
                     for v in [x, *(act.parameter(p.name).symbol for p in code.real_params)])]
        forms = [code.forward[0][0]] + [o[0] for o in code.first]
        for orig, form in zip(originals, forms):
            assert form.kind == "sigmoid" and form.limits is not None
            for sign, lim in zip((-1, 1), form.limits):
                lim = lim.subs(plain)
                lim = lim.replace(lambda t: isinstance(t, InfTimes),
                                  lambda t: sp.oo * sp.sign(t.args[0]))
                far = sp.N(orig.subs(orig_subs).subs(x, sign * 60), DPS)
                farther = sp.N(orig.subs(orig_subs).subs(x, sign * 120), DPS)
                if lim in (sp.oo, -sp.oo):
                    assert sp.sign(far) == sp.sign(lim) and abs(farther) > 1.9 * abs(far)
                else:
                    assert abs(far - lim) < sp.Float(10) ** -20, (orig, far, lim)


def test_printers():
    x = sp.Symbol("x", real=True)
    N_ = sp.Symbol("N", integer=True, positive=True)
    torch_p, triton_p = Printer("torch"), Printer("triton")
    assert torch_p(sp.log(1 + x)) == "torch.log1p(x)"
    # float64 (exact) takes the sigmoid from one exp(-|t|): torch.sigmoid is 0 below -709.78
    assert torch_p(Sigmoid(x)) == "(_sigmoid_lin(1.0, x, 0.0, exact) if exact else torch.sigmoid(x))"
    assert triton_p(Sigmoid(-x)) == "_sigmoid(-x, PRECISE)"
    # Triton: IEEE division and compensated powers behind the kernel's PRECISE flag
    assert triton_p(1 / (x + 1)) == "_div(1, (x + 1), PRECISE)"
    assert Printer("triton", {"N"})(IPow(x, 2 * N_ + 1)) == "_ipow(x, (1 + 2*N), PRECISE)"
    assert triton_p(SigmoidLinear(-sp.Symbol("c"), x, -sp.Symbol("d"))) == (
        "_sigmoid_lin(c, x, d, True, PRECISE)")
    assert triton_p((x + 1) ** 2) == "_sq(x + 1)"
    assert torch_p(IPow(R, 3)) == "(torch.reciprocal(_ipow(x, (3), exact)))"
    N = sp.Symbol("N", integer=True, positive=True)
    assert Printer("torch", {"N"})(IPow(x, 2 * N + 1)) == "_ipow(x, (1 + 2*N), exact)"
    # the PyTorch helpers take the formula's `exact` flag; sigma(-(c x + d)) is printed
    # through the same s = c x + d as sigma(c x + d) (one exponential in a fused kernel)
    c, d = sp.Symbol("c"), sp.Symbol("d")
    assert torch_p(SigmoidLinear(c, x, d)) == "_sigmoid_lin(c, x, d, exact)"
    assert torch_p(SigmoidLinear(-c, x, -d)) == "_sigmoid_lin(c, x, d, exact, True)"
    assert torch_p(SigmoidLinear(-1, x, 0)) == "_sigmoid_lin(1.0, x, 0.0, exact, True)"
    with pytest.raises(NotImplementedError, match="gamma"):
        torch_p(sp.gamma(x))
    with pytest.raises(NotImplementedError, match="erf"):
        triton_p(sp.erf(x))
    with pytest.raises(ValueError, match="target"):
        Printer("numpy")
    # a rational evaluates like the exact number, in Python arithmetic
    assert eval(torch_p(sp.Rational(1, 3) * x), {"x": 3.0}) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def default_package() -> dict[str, str]:
    return render_package([families.get_family(n) for n in families.DEFAULT_FAMILIES])


def test_committed_torch_bridge_is_the_generator_output(default_package):
    committed = ROOT / "torch_bridge"
    names = sorted(p.name for p in committed.iterdir()
                   if p.is_file() and not p.name.startswith("."))
    assert names == sorted(default_package)
    for name, text in default_package.items():
        assert (committed / name).read_text(encoding="utf-8") == text, (
            f"torch_bridge/{name} differs from `gemsym codegen --out torch_bridge` output; "
            "regenerate it")


def test_every_file_is_stamped(default_package):
    for name, text in default_package.items():
        # the same line as a comment of the file's language (C++: //)
        stamp = STAMP if name.endswith(".py") else "//" + STAMP[1:]
        assert text.startswith(stamp), name
        assert "do not edit by hand" in STAMP and "gemsym 0." in STAMP


def test_family_without_triton_translation_falls_back():
    from gemsym.activation import X, Activation

    files = render_package([Activation.from_branches("xatan", [X * sp.atan(X)]),
                            families.gelu()])
    # atan has no Triton form: registered without kernels; GELU has kernels now
    assert '"xatan": Family(' in files["_ops.py"] and "F.xatan_second, None" in files["_ops.py"]
    assert '("_gelu_fwd", "_gelu_bwd")' in files["_ops.py"]
    # 1 + erf(z) is written as erfc(-z) (no cancellation in the left tail)
    assert "torch.special.erfc(" in files["_formulas.py"]


def test_cli_user_family_and_errors(tmp_path, capsys):
    out = tmp_path / "my_bridge"
    assert main(["codegen", "--out", str(out), "--family", "gemsym.families:silu"]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert "functional.py" in files and "_kernels.py" in files
    text = (out / "functional.py").read_text()
    assert "def silu(x: torch.Tensor)" in text and 'call("my_bridge", "silu", x, (), ())' in text
    assert "_silu_fwd" in (out / "_kernels.py").read_text()
    capsys.readouterr()
    assert main(["codegen", "--out", str(out), "--family", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err


def test_write_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "pkg"
    act = families.relu()
    write_package([act], out)
    before = {p.name: p.read_text() for p in out.iterdir()}
    calls = []

    original = Path.write_text

    def failing(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 3:
            raise KeyboardInterrupt("interrupted")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing)
    with pytest.raises(KeyboardInterrupt):
        write_package([families.leaky_relu()], out)
    monkeypatch.undo()
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # no temp folder left
    write_package([families.leaky_relu()], out)
    assert "leaky_relu" in (out / "functional.py").read_text()


def test_cli_module_does_not_import_torch():
    code = ("import sys, gemsym.cli.codegen, gemsym.codegen; "
            "assert 'torch' not in sys.modules and 'triton' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
