"""The committed proofs/ folder is exactly what `gemsym prove` writes, and every
certificate holds up under independent numerics: the SPEC formulas written by hand below,
Taylor coefficients by the Cauchy integral (trapezoid rule on a circle), derivatives by
mpmath.diff, maxima by grid search + findroot, norms by mpmath.quad."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import mpmath
import pytest
import sympy as sp

ROOT = Path(__file__).resolve().parents[1]
PROOFS = ROOT / "proofs"
TOL = mpmath.mpf(10) ** -12

SYMS = {
    "N": sp.Symbol("N", integer=True, positive=True),
    "epsilon": sp.Symbol("epsilon", positive=True),
    "p": sp.Symbol("p", positive=True),
    "beta": sp.Symbol("beta", positive=True),
    "gamma": sp.Symbol("gamma", positive=True),
    "x": sp.Symbol("x", real=True),
}


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(40):
        yield


def load(name: str) -> dict:
    return json.loads((PROOFS / f"{name}.json").read_text())


def certificates(kind: str) -> list[str]:
    return sorted(p.stem for p in PROOFS.glob("[!.]*.json") if load(p.stem)["kind"] == kind)


def parse(text: str, cert: dict) -> sp.Expr:
    """A certificate expression, with the symbols the certificate declares."""
    return sp.S(sp.sympify(text, locals={k: SYMS[k] for k in cert["symbols"]}))


def value(text: str, cert: dict, **subs) -> mpmath.mpf:
    """A certificate expression evaluated at numbers."""
    e = parse(text, cert)
    e = e.subs({SYMS[k if k != "eps" else "epsilon"]: sp.sympify(v) for k, v in subs.items()})
    return mpmath.mpf(sp.N(e, 40)) if e.is_real is not False else mpmath.mpc(sp.N(e, 40))


def close(a, b, tol=TOL) -> bool:
    return abs(a - b) <= tol * max(1, abs(b))


# ------------------------------------------------------------- SPEC formulas by hand
def gem_pos(N, eps):
    return lambda x: x ** (2 * N + 1) / (x ** (2 * N) + eps)


def segem_neg_analytic(N):
    # SPEC: x^{2N+1}/(1 - x^{2N+1}) for x < 0 (analytic through 0)
    return lambda x: x ** (2 * N + 1) / (1 - x ** (2 * N + 1))


def segem_neg(N):
    # SPEC: -|x|^{2N+1}/(1 + |x|^{2N+1}) for x < 0
    return lambda x: -abs(x) ** (2 * N + 1) / (1 + abs(x) ** (2 * N + 1))


def zero(x):
    return mpmath.mpf(0) * x


def sqish_f(a, beta, gamma):
    return lambda x: a * x + (1 - a) * x / (1 + beta * mpmath.exp(-2 * gamma * (1 - a) * x))


def branches(family, N, eps):
    """(left, right) branch functions at the junction 0, analytic there."""
    if family == "gem":
        return zero, gem_pos(N, 1)
    if family == "e-gem":
        return zero, gem_pos(N, eps)
    if family == "se-gem":
        return segem_neg_analytic(N), gem_pos(N, eps)
    raise KeyError(family)


def full(family, N, eps):
    if family in ("gem", "e-gem"):
        e = 1 if family == "gem" else eps
        return lambda x: gem_pos(N, e)(x) if x > 0 else mpmath.mpf(0)
    if family == "se-gem":
        return lambda x: gem_pos(N, eps)(x) if x >= 0 else segem_neg(N)(x)
    raise KeyError(family)


def cauchy_derivatives(f, K, r, M=256):
    """f^{(k)}(0), k = 0..K, from the trapezoid rule for the Cauchy integral on |z| = r."""
    pts = [r * mpmath.expjpi(2 * mpmath.mpf(m) / M) for m in range(M)]
    vals = [f(z) for z in pts]
    out = []
    for k in range(K + 1):
        s = mpmath.fsum(v * mpmath.expjpi(-2 * mpmath.mpf(k * m) / M) for m, v in enumerate(vals))
        out.append(mpmath.re(s / M / r ** k) * mpmath.factorial(k))
    return out


def numeric_max(g, lo, hi, n=300):
    xs = [lo + (hi - lo) * mpmath.mpf(i) / n for i in range(n + 1)]
    vals = [g(x) for x in xs]
    i = max(range(n + 1), key=lambda j: vals[j])
    if 0 < i < n:
        x1 = mpmath.findroot(lambda t: mpmath.diff(g, t), (xs[i - 1], xs[i + 1]), solver="illinois")
        return x1, g(x1)
    return xs[i], vals[i]


# ----------------------------------------------------------------------- regeneration
def test_committed_proofs_are_what_prove_writes(tmp_path):
    from gemsym.proofs import write_proofs

    out = tmp_path / "proofs"
    write_proofs(out)
    committed = sorted(p.name for p in PROOFS.iterdir())
    fresh = sorted(p.name for p in out.iterdir())
    assert committed == fresh
    match, mismatch, errors = filecmp.cmpfiles(PROOFS, out, fresh, shallow=False)
    assert not mismatch and not errors, f"regenerate with `gemsym prove --out proofs`: {mismatch}"
    readme = (PROOFS / "README.md").read_text()
    theorems = [n for n in fresh if n.endswith(".md") and n != "README.md"]
    assert sum(1 for line in readme.splitlines() if line.startswith("- [`")) == len(theorems)
    assert set(fresh) == {"README.md", ".gemsym-manifest.json"} | set(theorems) | {
        n[: -len(".md")] + ".json" for n in theorems}


def test_cli_list_and_bad_theorem():
    import subprocess
    import sys

    run = lambda *a: subprocess.run([sys.executable, "-m", "gemsym", "prove", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=60, cwd=ROOT)
    listed = run("--list")
    assert listed.returncode == 0
    assert sorted(listed.stdout.split()) == sorted(p.stem for p in PROOFS.glob("[!.]*.json"))
    bad = run("--only", "no-such-theorem", "--out", str(ROOT / "proofs-never-written"))
    assert bad.returncode == 2 and "no-such-theorem" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (ROOT / "proofs-never-written").exists()


# ------------------------------------------------------------------------ smoothness
SMOOTH = ["smoothness-gem", "smoothness-e-gem", "smoothness-se-gem"]


def _one_sided(family, N, eps, K):
    left, right = branches(family, N, eps)
    # inside the disc of convergence of both branches: poles at |x| = eps^(1/2N) and 1
    r = min(mpmath.mpf(eps) ** (mpmath.mpf(1) / (2 * N)), 1) / 2
    return cauchy_derivatives(left, K, r), cauchy_derivatives(right, K, r)


@pytest.mark.parametrize("name", SMOOTH)
def test_smoothness_certificate_mismatch_values(name):
    cert = load(name)
    family = cert["family"]
    for inst in cert["instances"]:
        N = inst["N"]
        for eps in ([1] if family == "gem" else [mpmath.mpf(1) / 3, mpmath.mpf(2)]):
            k = int(inst["first_mismatch_order"])
            assert k == value(cert["first_mismatch_order"], cert, N=N)
            L, R = _one_sided(family, N, eps, k)
            scale = max(abs(R[k]), abs(L[k]), 1)
            for j in range(k):  # all lower orders agree
                assert abs(L[j] - R[j]) < 1e-18 * scale, (name, N, j)
            assert abs(L[k] - value(inst["left_derivative"], cert, eps=eps)) < 1e-15 * scale
            assert abs(R[k] - value(inst["right_derivative"], cert, eps=eps)) < 1e-15 * scale
            assert not close(L[k], R[k], 1e-6)
            assert int(inst["smoothness"]) == k - 1
        for case, inst_case in zip(cert["cases"], inst["cases"]):
            special = {"Eq(epsilon, 1)": 1}[case["condition"]]
            k = int(inst_case["first_mismatch_order"])
            L, R = _one_sided(family, N, special, k)
            for j in range(k):
                assert abs(L[j] - R[j]) < 1e-18 * max(abs(R[k]), 1), (name, N, j)
            scale = max(abs(R[k]), abs(L[k]), 1)
            assert abs(L[k] - value(inst_case["left_derivative"], cert)) < 1e-15 * scale
            assert abs(R[k] - value(inst_case["right_derivative"], cert)) < 1e-15 * scale


@pytest.mark.parametrize("name", SMOOTH)
def test_smoothness_certificate_agreeing_derivatives(name):
    cert = load(name)
    family = cert["family"]
    for N in (1, 2, 3):
        blocks = [(cert, mpmath.mpf(2) if family != "gem" else 1)]
        blocks += [(c, 1) for c in cert["cases"]]
        for block, eps in blocks:
            listed = block["agreeing_nonzero_derivatives"]
            k = int(value(block["first_mismatch_order"], cert, N=N))
            L, R = _one_sided(family, N, eps, k)
            orders = {int(value(o, cert, N=N)): (l, r) for o, l, r in listed}
            for j in range(k):
                if j in orders:
                    assert close(L[j], value(orders[j][0], cert, N=N, eps=eps), 1e-15), (N, j)
                    assert close(R[j], value(orders[j][1], cert, N=N, eps=eps), 1e-15), (N, j)
                else:  # not listed: zero on both sides
                    assert abs(L[j]) < 1e-15 and abs(R[j]) < 1e-15, (N, j)


def test_sqish_smoothness_certificate():
    cert = load("smoothness-sqish")
    assert cert["junction"] is None and cert["smoothness"] == "oo"
    assert cert["branches_regular"] is True
    # one branch, analytic: its Taylor coefficients at a few points are finite and the
    # Cauchy estimates agree with mpmath.diff
    f = sqish_f(mpmath.mpf("-0.3"), mpmath.mpf(2), mpmath.mpf(3))
    for x0 in (mpmath.mpf(-1), mpmath.mpf(0), mpmath.mpf("0.5")):
        d = cauchy_derivatives(lambda z: f(x0 + z), 6, mpmath.mpf("0.1"))
        for k in range(1, 5):
            assert close(d[k], mpmath.diff(f, x0, k), 1e-12)


# ------------------------------------------------------------------------- Lipschitz
@pytest.mark.parametrize("name", ["lipschitz-gem", "lipschitz-e-gem", "lipschitz-se-gem"])
def test_lipschitz_certificates(name):
    cert = load(name)
    family = cert["family"]
    for inst in cert["instances"]:
        N = inst["N"]
        for eps in ([1] if family == "gem" else [1, mpmath.mpf(1) / 1000]):
            f = full(family, N, eps)
            scale = mpmath.mpf(eps) ** (mpmath.mpf(1) / (2 * N))
            x, top = numeric_max(lambda t: mpmath.diff(f, t), scale / 50, 4 * scale)
            if family == "se-gem":  # the negative branch must not exceed it
                _, left = numeric_max(lambda t: mpmath.diff(f, t), mpmath.mpf(-3), mpmath.mpf("-0.02"))
                assert left < top
            assert close(top, value(inst["lipschitz"], cert))
            assert close(top, value(cert["lipschitz"], cert, N=N))
            assert close(x, value(inst["lipschitz_point"], cert, eps=eps), 1e-8)
    lo, hi = (value(v, cert, N=3) for v in cert["derivative_range"])
    assert lo == 0 and close(hi, value(cert["lipschitz"], cert, N=3))
    if family == "se-gem":
        f = full("se-gem", 2, mpmath.mpf("0.1"))
        assert cert["bounds"] == ["-1", "oo"] and cert["bounds_attained"] == [False, False]
        assert -1 < f(mpmath.mpf(-1e6)) < -1 + 1e-9


def test_sqish_shape_certificate():
    cert = load("lipschitz-sqish")
    params = {k: mpmath.mpf(sp.Rational(v)) for k, v in cert["parameters"].items()}
    f = sqish_f(params["a"], params["beta"], params["gamma"])
    d = lambda t: mpmath.diff(f, t)  # noqa: E731
    x, top = numeric_max(d, mpmath.mpf(-8), mpmath.mpf(8))
    _, neg = numeric_max(lambda t: -d(t), mpmath.mpf(-8), mpmath.mpf(8))
    assert close(top, mpmath.mpf(cert["lipschitz"]), 1e-15)
    assert close(x, mpmath.mpf(cert["lipschitz_point"]), 1e-10)
    assert close(-neg, mpmath.mpf(cert["derivative_range"][0]), 1e-15)
    x0 = mpmath.findroot(d, -0.6)
    assert close(x0, mpmath.mpf(cert["minimum"]["location_numeric"]), 1e-15)
    assert close(f(x0), value(cert["minimum"]["value"], cert), 1e-15)


def test_sqish_minimum_certificate():
    cert = load("sqish-minimum")
    assert [m[1] for m in cert["monotonicity"]] == ["decreasing", "increasing"]
    for inst in cert["instances"]:
        b, g = (mpmath.mpf(sp.Rational(inst[k])) for k in ("beta", "gamma"))
        f = sqish_f(0, b, g)
        x0 = mpmath.findroot(lambda t: mpmath.diff(f, t), -1 / g)
        assert close(x0, value(cert["minimum"]["location"], cert, beta=b, gamma=g), 1e-15)
        assert close(f(x0), value(cert["minimum"]["value"], cert, beta=b, gamma=g), 1e-15)
        assert close(x0, mpmath.mpf(inst["location"]), 1e-15)
        assert close(f(x0), mpmath.mpf(inst["value"]), 1e-15)
        assert mpmath.diff(f, x0 - 0.1) < 0 < mpmath.diff(f, x0 + 0.1)


# -------------------------------------------------------------------------- L^p
def lp_pair(family, params):
    """(f - limit) on x < 0 and on x > 0, from the SPEC formulas as written; the
    cancellation in f - limit for large |x| is absorbed by raising the precision."""
    if family in ("e-gem", "se-gem"):
        N, eps = int(params["N"]), mpmath.mpf(sp.Rational(params["eps"]))

        def pos(x):
            bits = int(mpmath.log(abs(x) + 2, 2)) * (2 * N + 2) + 20
            with mpmath.extraprec(bits):
                return +(gem_pos(N, eps)(x) - x)
        return (lambda x: mpmath.mpf(0)), pos, eps ** (mpmath.mpf(1) / (2 * N))
    a, b, g = (mpmath.mpf(sp.Rational(params[k])) for k in ("a", "beta", "gamma"))
    f = sqish_f(a, b, g)

    def diff(x, slope):
        decay = 2 * g * (1 - a) * abs(x)  # f - limit = O(|x| e^{-decay})
        if decay > 5000:
            return mpmath.mpf(0)  # below |x| e^{-5000}: nothing at 40 digits
        with mpmath.extraprec(int(decay * 1.5) + 20):
            return +(f(x) - slope * x)
    return (lambda x: diff(x, a)), (lambda x: diff(x, 1)), 1 / g


def lp_norm(family, params, p):
    neg, pos, s = lp_pair(family, params)
    if p == "oo":
        _, m1 = numeric_max(lambda t: abs(pos(t)), s / 100, 20 * s)
        _, m2 = numeric_max(lambda t: abs(neg(t)), -20 * s, -s / 100)
        return max(m1, m2)
    q = mpmath.mpf(sp.Rational(p))
    pts_pos = [0, s, 10 * s, mpmath.inf]
    pts_neg = [-mpmath.inf, -10 * s, -s, 0]
    total = mpmath.quad(lambda t: abs(pos(t)) ** q, pts_pos) + mpmath.quad(lambda t: abs(neg(t)) ** q, pts_neg)
    return total ** (1 / q)


@pytest.mark.parametrize("name", ["lp-e-gem", "lp-se-gem", "lp-sqish"])
def test_lp_certificates(name):
    cert = load(name)
    family = cert["family"]
    general = {r["p"]: r for r in cert["results"]}
    for inst in cert["instances"]:
        params, p = inst["params"], inst["p"]
        subs = {k: sp.Rational(v) for k, v in params.items()}
        if family == "sqish":
            rule = general.get(p) or general["p"]
        else:
            rule = general["oo"] if p == "oo" else general["p"]
        cond = parse(rule["condition"], cert).subs(
            {SYMS["N"]: subs.get("N", 1), SYMS["p"]: sp.Rational(p) if p != "oo" else sp.oo})
        assert bool(cond) == inst["converges"]
        if not inst["converges"]:
            # divergence: x |f - limit|^p stays above a positive constant as x -> oo
            _, pos, _ = lp_pair(family, params)
            q = mpmath.mpf(sp.Rational(p))
            tails = [x * abs(pos(x)) ** q for x in (mpmath.mpf(10) ** 8, mpmath.mpf(10) ** 12)]
            assert min(tails) > tails[0] / 2 > 0
            continue
        numeric = lp_norm(family, params, p)
        assert close(numeric, mpmath.mpf(inst["value"]), 1e-12)
        if rule["closed_form"] is not None:
            cf = parse(rule["closed_form"], cert).subs(
                {SYMS["N"]: subs.get("N", 1), SYMS["epsilon"]: subs.get("eps", 1),
                 SYMS["gamma"]: subs.get("gamma", 1), SYMS["p"]: sp.Rational(p) if p != "oo" else 1})
            assert close(numeric, mpmath.mpf(sp.N(cf, 40)), 1e-12)


@pytest.mark.parametrize("name,params,p", [
    ("lp-e-gem", {"N": "2", "eps": "1/10000"}, "2"),
    ("lp-se-gem", {"N": "1", "eps": "1/100"}, "oo"),
    ("lp-sqish", {"a": "0", "beta": "1", "gamma": "4"}, "1"),
])
def test_lp_rates(name, params, p):
    """Ratio of the norms at two values of the limiting parameter gives the exponent."""
    cert = load(name)
    lam = cert["limit_parameter"]
    rule = next(r for r in cert["results"] if r["p"] == ("p" if name != "lp-sqish" else p)) \
        if p != "oo" else next(r for r in cert["results"] if r["p"] == "oo")
    rate = value(rule["rate"], cert, N=int(params.get("N", 1)), p=sp.Rational(p) if p != "oo" else 1)
    factor = 16
    other = dict(params)
    other[lam] = str(sp.Rational(params[lam]) * factor)
    family = cert["family"]
    ratio = lp_norm(family, other, p) / lp_norm(family, params, p)
    assert close(mpmath.log(ratio) / mpmath.log(factor), rate, 1e-9)
