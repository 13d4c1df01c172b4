"""`gemsym prove --family NAME` for families outside the registry: SmeLU (junctions at
+-beta), ELU (a parameter case), Squareplus (one branch, a declared limit) and a user
module family written here.  Every certificate is re-checked against references computed
in this file from independently written definitions: one-sided derivatives by
mpmath.diff, distances by mpmath.quad / numerical maximisation, Lipschitz constants by
the maximum of |f'| on a fine grid."""

from __future__ import annotations

import json
import sys
import textwrap

import mpmath
import pytest
import sympy as sp

from gemsym.cli import main



@pytest.fixture(autouse=True)
def _digits():
    """30 digits inside this module's tests only (the global precision is left alone)."""
    with mpmath.workdps(30):
        yield

# ---------------------------------------------------------------- independent definitions
# (written from the papers' formulas, not from gemsym's branches)


def smelu(x, beta):
    if x <= -beta:
        return mpmath.mpf(0)
    return x if x >= beta else (x + beta) ** 2 / (4 * beta)


def elu(x, alpha):
    return x if x > 0 else alpha * (mpmath.exp(x) - 1)


def squareplus(x, b):
    return (x + mpmath.sqrt(x * x + b)) / 2


def hinge3(x, beta):
    """The user family: 0, x^3 / (3 beta^2) on (0, beta), x - 2 beta / 3 beyond: C^2 at 0
    (f''' jumps from 0 to 2/beta^2), C^1 at beta (f'' jumps from 2/beta to 0)."""
    if x <= 0:
        return mpmath.mpf(0)
    return x ** 3 / (3 * beta ** 2) if x < beta else x - 2 * beta / 3


def relu(x):
    return max(x, mpmath.mpf(0))


#: family -> (definition at its defaults, defaults)
REFERENCE = {
    "smelu": (lambda x: smelu(x, 1), {"beta": 1}),
    "elu": (lambda x: elu(x, 1), {"alpha": 1}),
    "squareplus": (lambda x: squareplus(x, 4), {"b": 4}),
    "hinge3": (lambda x: hinge3(x, mpmath.mpf(1) / 2), {"beta": sp.Rational(1, 2)}),
}

USER = textwrap.dedent("""
    import sympy as sp
    from gemsym import Activation, X
    from gemsym.activation import Limit
    from gemsym.families import relu
    from gemsym.parameters import positive_real

    def hinge3():
        beta = positive_real("beta", sp.Rational(1, 2), "width of the cubic blend")
        b = beta.symbol
        return Activation.from_branches(
            "hinge3", [sp.S.Zero, X**3 / (3 * b**2), X - 2 * b / 3], [0, b],
            parameters=(beta,), limit=Limit("beta", sp.S.Zero, relu()))
""")


@pytest.fixture(scope="module")
def proofs(tmp_path_factory):
    """One prove run for the four families (the slow part, shared by every test)."""
    folder = tmp_path_factory.mktemp("user")
    (folder / "h10fam.py").write_text(USER)
    out = folder / "proofs"
    old_path = list(sys.path)
    sys.path.insert(0, str(folder))
    try:
        code = main(["prove", "--quiet", "--out", str(out), "--family", "smelu", "--family", "elu",
                     "--family", "squareplus", "--family", "h10fam:hinge3"])
    finally:
        sys.path[:] = old_path
    assert code == 0
    return out


def load(out, tid):
    return json.loads((out / f"{tid}.json").read_text())


#: the parameter names in certificates (beta is a symbol there, not the Beta function)
NAMES = {n: sp.Symbol(n) for n in ("alpha", "beta", "b")}


def parse(text):
    return sp.sympify(text, locals=NAMES)


def one_sided(f, c, k, side):
    return mpmath.diff(f, c, k, direction=side)


def close(a, b, digits=10):
    return abs(mpmath.mpf(a) - mpmath.mpf(b)) <= mpmath.mpf(10) ** -digits * max(1, abs(b))


# ---------------------------------------------------------------- what is written
def test_every_theorem_written_or_listed_as_not_proved(proofs):
    readme = (proofs / "README.md").read_text()
    expected = ["smoothness-smelu-1", "smoothness-smelu-2", "lipschitz-smelu", "lp-smelu",
                "smoothness-elu", "lipschitz-elu", "lp-elu", "smoothness-squareplus",
                "lipschitz-squareplus", "lp-squareplus", "smoothness-hinge3-1",
                "smoothness-hinge3-2", "lipschitz-hinge3", "lp-hinge3"]
    not_proved = readme.partition("## Not proved")[2]
    for tid in expected:
        written = (proofs / f"{tid}.json").exists()
        assert written == (f"`{tid}`" not in not_proved), tid
        assert written == (f"[`{tid}`]" in readme), tid
    # the smoothness theorems are always decided for these branches
    assert all((proofs / f"{t}.json").exists() for t in expected if t.startswith("smoothness"))


# ---------------------------------------------------------------- smoothness certificates
SMOOTH = [  # theorem, family, branch left of the junction, branch right of it, class
    ("smoothness-smelu-1", "smelu", lambda x: 0 * x, lambda x: (x + 1) ** 2 / 4, 1),
    ("smoothness-smelu-2", "smelu", lambda x: (x + 1) ** 2 / 4, lambda x: x, 1),
    ("smoothness-elu", "elu", lambda x: 2 * (mpmath.exp(x) - 1), lambda x: x, 0),
    ("smoothness-hinge3-1", "hinge3", lambda x: 0 * x, lambda x: x ** 3 / (3 * mpmath.mpf(1) / 4), 2),
    ("smoothness-hinge3-2", "hinge3", lambda x: x ** 3 / (3 * mpmath.mpf(1) / 4),
     lambda x: x - mpmath.mpf(1) / 3, 1),
]


@pytest.mark.parametrize("tid,family,left,right,cls", SMOOTH)
def test_smoothness_certificate_against_one_sided_derivatives(proofs, tid, family, left, right, cls):
    cert = load(proofs, tid)
    params = dict(REFERENCE[family][1])
    if family == "elu":  # alpha = 1 is the special case; the general statement at alpha = 2
        params = {"alpha": 2}
    subs = {sp.Symbol(k): v for k, v in params.items()}
    assert parse(cert["smoothness"]) == cls
    c = mpmath.mpf(sp.N(parse(cert["junction"]).subs(subs), 40))
    k = int(parse(cert["first_mismatch_order"]))
    assert k == cls + 1
    for order in range(k):  # agree below the mismatch: the certificate's values or 0
        listed = {int(parse(o)): parse(l) for o, l, _ in cert["agreeing_nonzero_derivatives"]}
        want = mpmath.mpf(sp.N(sp.sympify(listed.get(order, 0)).subs(subs), 40))
        assert close(one_sided(left, c, order, -1), want), (order, want)
        assert close(one_sided(right, c, order, 1), want), (order, want)
    lv = mpmath.mpf(sp.N(parse(cert["left_derivative"]).subs(subs), 40))
    rv = mpmath.mpf(sp.N(parse(cert["right_derivative"]).subs(subs), 40))
    assert close(one_sided(left, c, k, -1), lv) and close(one_sided(right, c, k, 1), rv)
    assert not close(lv, rv)
    # the check done at generation time is recorded with the one-sided values
    assert cert["numeric_check"]["derivatives"]


def test_elu_case_alpha_one(proofs):
    cert = load(proofs, "smoothness-elu")
    (case,) = cert["cases"]
    assert parse(case["condition"]) == sp.Eq(sp.Symbol("alpha"), 1)
    # at alpha = 1, f' agrees (1) and f'' differs: 1 on the left, 0 on the right
    f = lambda x: mpmath.exp(x) - 1  # noqa: E731
    assert close(one_sided(f, 0, 1, -1), 1) and close(one_sided(f, 0, 2, -1), 1)
    assert (int(case["smoothness"]), parse(case["left_derivative"]),
            parse(case["right_derivative"])) == (1, 1, 0)


def test_single_branch_is_c_infinity(proofs):
    cert = load(proofs, "smoothness-squareplus")
    assert cert["smoothness"] == "oo" and cert["junction"] is None


# ---------------------------------------------------------------- Lipschitz certificates
@pytest.mark.parametrize("family", ["smelu", "elu", "hinge3"])
def test_lipschitz_against_the_largest_slope(proofs, family):
    path = proofs / f"lipschitz-{family}.json"
    if not path.exists():
        pytest.skip(f"lipschitz-{family} not proved (listed in README)")
    f = REFERENCE[family][0]
    xs = [mpmath.mpf(i) / 50 for i in range(-400, 401)]
    slopes = [abs(mpmath.diff(f, x + mpmath.mpf(1) / 997)) for x in xs]  # off the junctions
    L = mpmath.mpf(sp.N(parse(load(proofs, f"lipschitz-{family}")["lipschitz"]), 30))
    assert max(slopes) <= L * (1 + mpmath.mpf(10) ** -12)
    assert max(slopes) >= L * (1 - mpmath.mpf(10) ** -3)


# ---------------------------------------------------------------- L^p certificates
def lp_reference(f, p):
    """||f - relu||_p at the defaults by independent quadrature (or maximisation)."""
    def d(x):
        return abs(f(x) - relu(x))
    if p == "oo":
        # the maxima of these families lie on the grid or are approached at the far ends
        grid = [mpmath.mpf(i) / 100 for i in range(-2000, 2001)] + [-10 ** 3, 10 ** 3]
        return max(d(mpmath.mpf(x)) for x in grid)
    pts = [-mpmath.inf, -4, -2, -1, -mpmath.mpf(1) / 2, 0, mpmath.mpf(1) / 2, 1, 2, 4, mpmath.inf]
    return mpmath.quad(lambda x: d(x) ** int(p), pts) ** (mpmath.mpf(1) / int(p))


@pytest.mark.parametrize("family", ["smelu", "squareplus", "elu", "hinge3"])
def test_lp_instances_against_quadrature(proofs, family):
    cert = load(proofs, f"lp-{family}")
    f = REFERENCE[family][0]
    assert cert["instances"], "no certified instance"
    for inst in cert["instances"]:
        if not inst["converges"]:
            # infinite: |f - relu| does not decay (ELU -> -alpha, hinge3 -> 2 beta / 3)
            # or decays like 1/x (Squareplus: b / (4|x|))
            far = abs(f(mpmath.mpf(10) ** 6) - relu(mpmath.mpf(10) ** 6)) * mpmath.mpf(10) ** 6
            far += abs(f(-mpmath.mpf(10) ** 6)) * mpmath.mpf(10) ** 6
            assert far > mpmath.mpf(1) / 2 and inst["p"] in ("1", "2")
            continue
        ref = lp_reference(f, inst["p"])
        assert close(mpmath.mpf(inst["value"]), ref, 12 if inst["p"] != "oo" else 8), (inst, ref)


def test_lp_closed_forms_at_other_parameters(proofs):
    # SmeLU's closed forms in beta against quadrature at beta = 3/7 (not the defaults)
    beta = mpmath.mpf(3) / 7
    results = {r["p"]: r for r in load(proofs, "lp-smelu")["results"]}
    for p in ("1", "2"):
        form = parse(results[p]["closed_form"]).subs(sp.Symbol("beta"), sp.Rational(3, 7))
        ref = mpmath.quad(lambda x: abs(smelu(x, beta) - relu(x)) ** int(p),
                          [-beta, 0, beta]) ** (mpmath.mpf(1) / int(p))
        assert close(mpmath.mpf(sp.N(form, 40)), ref, 20)


def test_not_lipschitz_is_a_theorem_with_its_reason():
    from gemsym.families import get_family
    from gemsym.proofs.family import shape_theorem

    t = shape_theorem(get_family("relu2"), "lipschitz-relu2")
    assert t.certificate["lipschitz"] is None and "unbounded" in t.certificate["reason"]
    # independently: the difference quotients of max(x, 0)^2 exceed any bound
    f = lambda x: max(x, 0) ** 2  # noqa: E731
    assert all((f(2 * m) - f(m)) / m > m for m in (10, 10 ** 3, 10 ** 6))


def test_a_jump_is_not_continuous_and_not_lipschitz():
    from gemsym import Activation, X
    from gemsym.proofs import build_families

    step = Activation.from_branches("unit step plus x", [sp.S.Zero, X + 1], [0])
    theorems, not_proved = build_families([step])
    by_id = {t.id: t for t in theorems}
    assert not not_proved and sorted(by_id) == ["lipschitz-unit-step-plus-x",
                                                "smoothness-unit-step-plus-x"]
    cert = by_id["smoothness-unit-step-plus-x"].certificate
    assert cert["smoothness"] == "-1"
    assert "not continuous" in by_id["smoothness-unit-step-plus-x"].summary
    # f(0-) and f(0+) from the definition, by one-sided limits in mpmath
    left = mpmath.limit(lambda x: 0 * x, 0, direction=-1)
    right = mpmath.limit(lambda x: x + 1, 0, direction=1)
    assert close(mpmath.mpf(sp.N(parse(cert["left_derivative"]))), left)
    assert close(mpmath.mpf(sp.N(parse(cert["right_derivative"]))), right)
    assert by_id["lipschitz-unit-step-plus-x"].certificate["lipschitz"] is None


def test_a_family_run_keeps_the_other_theorems_of_the_folder(tmp_path):
    out = tmp_path / "p"
    assert main(["prove", "--quiet", "--family", "relu", "--out", str(out)]) == 0
    assert main(["prove", "--quiet", "--family", "hardsigmoid", "--out", str(out)]) == 0
    readme = (out / "README.md").read_text()
    listed = [line.split("`")[1] for line in readme.splitlines() if line.startswith("- [`")]
    assert listed == ["smoothness-hardsigmoid-1", "smoothness-hardsigmoid-2",
                      "lipschitz-hardsigmoid", "smoothness-relu", "lipschitz-relu"]
    assert all((out / f"{t}.json").is_file() and (out / f"{t}.md").is_file() for t in listed)
    # HardSigmoid = clip(x/6 + 1/2, 0, 1): slope 1/6 inside (-3, 3), 0 outside
    lip = load(out, "lipschitz-hardsigmoid")
    assert parse(lip["lipschitz"]) == sp.Rational(1, 6)
    assert close(mpmath.diff(lambda x: min(max(x / 6 + mpmath.mpf(1) / 2, 0), 1), 1), 1 / mpmath.mpf(6))


def test_what_cannot_be_decided_is_listed_not_written():
    from gemsym import Activation, X
    from gemsym.proofs import build_families

    # log is singular at the junction: no one-sided series, so no smoothness claim
    xlog = Activation.from_branches("xlog", [sp.S.Zero, X ** 3 * sp.log(X)], [0])
    theorems, not_proved = build_families([xlog])
    assert "smoothness-xlog" in dict(not_proved)
    assert all(t.id != "smoothness-xlog" for t in theorems)
