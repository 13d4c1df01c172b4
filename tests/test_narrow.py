"""The ``narrow`` bodies of the generated formulas (float32/16-bit inputs and real parameters
below 2^128, evaluated in float64: no |x| > 1 forms, no underflow guard): values against
mpmath up to the largest float32 and at +-inf, the same bits as the general bodies, taken
only for the integer parameter values and inputs where the analysis holds, fewer ATen ops."""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import sympy as sp

torch = pytest.importorskip("torch")

from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from tests.generated_package import generated_package  # noqa: E402
from tests.helpers import gem_ref, se_gem_ref  # noqa: E402

F32_MAX = float(torch.finfo(torch.float32).max)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    with generated_package(tmp_path_factory, "narrow", ("gem", "e-gem", "se-gem", "sqish")) as pkg:
        yield pkg


def _inputs(dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(11)
    x = torch.cat([torch.randn(4000, generator=g, dtype=torch.float64) * 3,
                   torch.exp(torch.randn(4000, generator=g, dtype=torch.float64) * 40)
                   * torch.sign(torch.randn(4000, generator=g, dtype=torch.float64)),
                   torch.tensor([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, F32_MAX,
                                 -F32_MAX, 1e-45, -1e-45, 1e-38, 1e-13, -1e-13],
                                dtype=torch.float64),
                   # around the clamps at +-2^k below the largest input (``_low_plan``,
                   # ``_ends_plan``)
                   torch.tensor([s * m * 2.0**k for k in (16, 24, 32, 48, 64, 80, 96, 112, 120)
                                 for m in (0.75, 1.0, 1.5) for s in (1, -1)],
                                dtype=torch.float64)])
    return x.to(dtype).to(torch.float64)


def _general_bits(fn, zero_signs: bool = False, finite_only: bool = False) -> None:
    """The narrow body of the formula ``fn`` (x alone) has the general body's bits, rounded
    to float32, bfloat16 and float16, on ``_inputs``: the sign of a zero too
    (``zero_signs``); at finite inputs only (``finite_only``)."""
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        xs = _inputs(dtype)
        a, b = (fn(xs, exact=False, narrow=w).to(dtype) for w in (False, True))
        same = (a == b) & (a.signbit() == b.signbit()) if zero_signs else a == b
        same |= a.isnan() & b.isnan()
        if finite_only:
            same |= xs.isinf()
        assert bool(same.all()), (dtype, xs[~same][:5].tolist())


#: (formula, integer parameter, real parameters): the values where the narrow bodies apply
CASES = [("gem_f", 1, ()), ("gem_f", 2, ()), ("gem_dx", 1, ()), ("gem_dx", 2, ()),
         ("gem_dx", 3, ()), ("gem_first", 2, ()), ("gem_second", 1, ()),
         ("e_gem_dx", 2, (1e-4,)), ("e_gem_dx", 2, (3e30,)), ("e_gem_dx", 2, (2.0**-120,)),
         ("e_gem_f", 2, (1e-4,)), ("e_gem_first", 1, (3e-3,)), ("e_gem_second", 1, (7.0,)),
         ("se_gem_f", 1, (1e-4,)), ("se_gem_f", 2, (2.5,)), ("se_gem_dx", 1, (1e-4,)),
         ("se_gem_dx", 1, (3e30,)), ("se_gem_first", 1, (0.5,)),
         # powers that are not normal float64 numbers for the smallest inputs (x^7 .. x^16)
         ("gem_f", 3, ()), ("gem_dx", 4, ()), ("gem_dx", 8, ()), ("gem_first", 6, ()),
         ("e_gem_f", 3, (1e-4,)), ("e_gem_f", 3, (2.0**-120,)), ("e_gem_f", 3, (3e30,)),
         # linear tails beyond 2^48 (x^(2N+1) over the budget at the largest float32)
         ("gem_f", 4, ()), ("gem_f", 8, ()), ("e_gem_f", 5, (1e-4,)), ("e_gem_f", 4, (3e30,)),
         ("e_gem_f", 4, (2.0**-120,)), ("e_gem_dx", 3, (3e30,)), ("e_gem_dx", 8, (1e-4,)),
         ("se_gem_f", 3, (1e-4,)),
         # SE-GEM clamped at both ends below the largest float32 (``_ends_plan``)
         ("se_gem_f", 4, (1e-4,)), ("se_gem_f", 5, (3e30,)), ("se_gem_f", 8, (2.0**-120,)),
         ("se_gem_dx", 2, (1e-4,)), ("se_gem_dx", 3, (3e30,)), ("se_gem_dx", 4, (2.0**-120,)),
         ("se_gem_dx", 6, (1e-4,)), ("se_gem_dx", 8, (3e30,)), ("se_gem_first", 2, (0.5,)),
         ("se_gem_first", 3, (1e-4,)), ("se_gem_first", 4, (3e30,)),
         ("se_gem_first", 5, (1e-4,)), ("se_gem_first", 7, (2.0**-120,)),
         ("se_gem_first", 8, (1e-4,)),
         # E-GEM's (f', d/deps) past the budget: x clamped above only, its constant left
         ("e_gem_first", 2, (1e-4,)), ("e_gem_first", 3, (3e30,)),
         ("e_gem_first", 4, (2.0**-120,)), ("e_gem_first", 6, (1e-4,)),
         ("e_gem_first", 8, (3e30,))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name,N,reals", CASES)
def test_narrow_bodies_give_the_bits_of_the_general_bodies(bridge, name, N, reals, dtype):
    """On float32/16-bit values (|x| > 1, the former guard region |x^k| < 2^-100, +-inf,
    NaN, +-0 included), every output, float64 results rounded to the input dtype (the sign
    of a zero included at finite x: the clamped bodies give the left pieces' +0; a summed
    output with ``Clamp.plus_zero``, E-GEM's and SE-GEM's d/deps, is +0 at x = +0 where
    the general body's right piece gives -0)."""
    fn = getattr(bridge._formulas, name)
    x = _inputs(dtype)
    p = [torch.tensor(v, dtype=torch.float64) for v in reals]
    general, narrow = (fn(x, N, *p, exact=False, narrow=w) for w in (False, True))
    # +0.0: d/deps (with N = 1 only: E-GEM's junction clamp, SE-GEM's sum of sides)
    plus_zero = {1} if name in ("e_gem_first", "se_gem_first") and N == 1 else ()
    for i, (a, b) in enumerate(zip(*((t,) if isinstance(t, torch.Tensor) else t
                                     for t in (general, narrow)))):
        a, b = a.to(dtype), b.to(dtype)
        # signed zeros too at finite x (at +-inf the general bodies' |x| > 1 forms and the
        # narrow limits may differ in the sign of a zero: GEM f'' at +inf, -0 and +0)
        sign = (a.signbit() == b.signbit()) | ~x.to(dtype).isfinite()
        if i in plus_zero:
            at_zero = (x == 0) & ~x.signbit()
            assert bool(((b == 0) & ~b.signbit())[at_zero].all())
            sign |= at_zero
        same = ((a == b) & sign) | (a.isnan() & b.isnan())
        assert bool(same.all()), (name, N, x[~same][:5].tolist(), a[~same][:5], b[~same][:5])


def test_narrow_values_against_mpmath_up_to_the_largest_float32(bridge):
    """f and df/dx of GEM and SE-GEM from the narrow bodies at large |x| (where the general
    bodies take their |x| > 1 forms) against mpmath at 60 digits: within 2^-45 relative
    (float64 arithmetic, a few roundings); the limits at +-inf in every narrow dtype."""
    F = bridge._formulas
    xs = [1.5, 37.0, 1e6, 3.3e12, -4.1e15, 2e19, -7e25, 1.1e38, F32_MAX, -F32_MAX]
    x = torch.tensor(xs, dtype=torch.float64)
    eps = 0.75
    checks = [(F.gem_f(x, 1, exact=False, narrow=True), gem_ref(1), 1),
              (F.gem_f(x, 2, exact=False, narrow=True), gem_ref(2), 2),
              (F.se_gem_f(x, 1, torch.tensor(eps, dtype=torch.float64), exact=False,
                          narrow=True), se_gem_ref(1, "3/4"), 1)]
    with mp.workdps(60):
        for got, ref, _ in checks:
            for xi, gi in zip(xs, got.tolist()):
                want = ref(mp.mpf(xi))
                assert abs(mp.mpf(gi) - want) <= mp.mpf(2) ** -45 * abs(want), (xi, gi, want)
        d = F.gem_dx(x, 1, exact=False, narrow=True).tolist()
        for xi, gi in zip(xs, d):
            want = mp.diff(gem_ref(1), mp.mpf(xi)) if xi > 0 else mp.mpf(0)
            assert abs(mp.mpf(gi) - want) <= mp.mpf(2) ** -45 * max(abs(want), 1e-300), (xi, gi)
    # the linear tails (N >= 4: x^(2N+1)/(x^2N + eps) at x clamped to 2^48, plus x - 2^48
    # beyond it): rounded to float32 as mpmath's value is, around and far beyond 2^48
    xt = torch.tensor([3.0, 2.0**48 * 0.75, 2.0**48, 2.0**48 * 1.5, 1e20, 3.3e33, F32_MAX,
                       math.inf, -math.inf, -5.0, -0.0, 0.0], dtype=torch.float32)
    with mp.workdps(60):
        for n, e in ((4, 1.0), (6, 1e-4), (8, 3e30)):
            got = F.e_gem_f(xt.double(), n, torch.tensor(e, dtype=torch.float64), exact=False,
                            narrow=True).float()
            for xi, gi in zip(xt.tolist(), got.tolist()):
                want = (mp.inf if xi == math.inf else
                        gem_ref(n, eps=e)(mp.mpf(xi)) if math.isfinite(xi) else mp.mpf(0))
                w = float(want) if want == mp.inf else \
                    torch.tensor(float(want), dtype=torch.float64).float().item()
                if xi == 0 and math.copysign(1, xi) < 0:
                    w = -0.0  # the body's own value at -0 (x^(2N+1)/...), as the general one's
                assert gi == w and math.copysign(1, gi) == math.copysign(1, w), (n, e, xi, gi, w)
    # SE-GEM clamped at both ends (``_ends_plan``): f, and f' times the largest gradients
    # (a gradient multiplies it before it is rounded), rounded to float32 as mpmath's values
    # are, around and beyond the clamps; f' on x < 0 by its quotient rule u'/(1 - u)^2
    # (numerical differentiation cannot resolve it next to -1)
    xs = [s_ * m_ * 2.0**k for k in (12, 24, 32, 48, 64, 80, 100, 127)
          for m_ in (0.75, 1.0, 1.5) for s_ in (1, -1)] + [F32_MAX, -F32_MAX, 3.0, -3.0]
    xe = torch.tensor(xs, dtype=torch.float32)
    with mp.workdps(60):
        for n, e in ((2, 1e-4), (3, 3e30), (4, 1e-4), (5, 2.0**-120), (8, 3e30)):
            pe = torch.tensor(e, dtype=torch.float64)
            got_f = F.se_gem_f(xe.double(), n, pe, exact=False, narrow=True).float()
            got_d = F.se_gem_dx(xe.double(), n, pe, exact=False, narrow=True)
            m = 2 * n + 1
            for xi, fi, di in zip(xs, got_f.tolist(), got_d.tolist()):
                x_ = mp.mpf(xi)
                if xi < 0:
                    want_d = m * x_ ** (m - 1) / (1 - x_ ** m) ** 2
                else:
                    want_d = mp.diff(se_gem_ref(n, mp.mpf(e)), x_)
                assert fi == _f32(se_gem_ref(n, mp.mpf(e))(x_)), (n, e, xi, fi)
                for g in (1.0, 2.0**127, -(2.0**127)):
                    got = torch.tensor(di * g, dtype=torch.float64).float().item()
                    assert got == _f32(want_d * g), (n, e, xi, g, got)
    # at +-inf (x clamped to +-2^136, see narrow.Clamp) once rounded to each narrow dtype
    inf = torch.tensor([math.inf, -math.inf], dtype=torch.float64)
    for dt in (torch.float32, torch.bfloat16, torch.float16):
        def at_inf(v):
            return v.to(dt).double().tolist()

        assert at_inf(F.gem_f(inf, 1, exact=False, narrow=True)) == [math.inf, 0.0]
        assert at_inf(F.gem_dx(inf, 1, exact=False, narrow=True)) == [1.0, 0.0]
        assert at_inf(F.se_gem_f(inf, 2, torch.tensor(eps, dtype=torch.float64), exact=False,
                                 narrow=True)) == [math.inf, -1.0]


def _f32(v) -> float:
    """mpmath's value rounded to float32 (through float64: the values checked are not
    within 2^-29 relative of a float32 midpoint)."""
    return torch.tensor(float(v), dtype=torch.float64).float().item()


def test_narrow_bodies_only_where_the_bound_holds():
    """GEM's f needs |x|^(2N+1) below 2^1000 for |x| < 2^128: N <= 3 (x^(2N+1) is not a
    normal float64 number for the smallest inputs from N = 3 on, where f rounds to a zero:
    ``underflow``); its df/dx divides by (x^2N + 1)^2, below 2^1000 for x up to 2^128 for
    N = 1 only, and up to 2^24 for N <= 8 (x clamped there, beyond which df/dx rounds to
    1); Sqish (no power forms) has no narrow body."""
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import narrow_outputs
    from gemsym.families import get_family

    code = derive(get_family("gem"))
    N = code.symbols["N"]
    assert narrow_outputs([("y", code.forward[0])], code.x, [N], [])[0] == (1, 2, 3)
    dx = [("d_x", code.first[0])]
    assert narrow_outputs(dx, code.x, [N], [], code.junctions)[0] == tuple(range(1, 9))
    # without the junction, whose clamp the lower bound needs: N = 1 only
    assert narrow_outputs(dx, code.x, [N], [])[0] == (1,)
    sq = derive(get_family("sqish"))
    reals = [sq.symbols[p.name] for p in sq.real_params]
    assert narrow_outputs([("y", sq.forward[0])], sq.x, [], reals) is None


def _plans(family: str):
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import narrow_outputs
    from gemsym.families import get_family

    code = derive(get_family(family))
    ints = [code.symbols[p.name] for p in code.int_params]
    reals = [code.symbols[p.name] for p in code.real_params]
    groups = {"f": [("y", code.forward[0])], "dx": [("d_x", code.first[0])],
              "first": list(zip(code.first_names, code.first)),
              "second": list(zip(code.second_names, code.second))}

    def plan(outputs):
        # the parameters' derivatives are only summed, as the writers tell the plans
        return narrow_outputs(outputs, code.x, ints, reals, code.junctions,
                              summed=frozenset(code.first_names[1:]))

    return code, groups, plan


def test_the_clamp_of_the_builtin_families():
    """GEM f and f': 0 on x < 0 is the body's value at 0 (+0), and at 2^136 the body rounds
    to the limits (inf, 1): x clamped into [0, 2^136], no comparison.  Its f'' tends to 0
    from below (-0 in float32): no upper clamp.  E-GEM's d/deps is -0 at x = +0 (the left
    piece is +0; nonzero on (0, 2^136]) and tends to 0 from below: it takes the junction
    clamp with +0.0 added (``Clamp.plus_zero``) and keeps its comparison with +oo, made on
    the input before the clamp.  SE-GEM (no constant piece): both ends."""
    from gemsym.codegen.narrow import Clamp

    two136 = sp.Integer(2) ** 136
    _, groups, plan = _plans("gem")
    assert plan(groups["f"]).clamp == Clamp(0, two136, True)
    # f' with N = 1 .. 8 (narrow.plans._low_plan): x clamped at 2^24, inside the float32 range
    for g in ("dx", "first"):
        assert plan(groups[g])[::2] == (tuple(range(1, 9)), Clamp(0, sp.Integer(2) ** 24,
                                                                  True)), g
    assert plan(groups["second"]).clamp == Clamp(0, None, True)
    _, groups, plan = _plans("e-gem")
    assert plan(groups["f"]).clamp == Clamp(0, two136, True)
    assert plan(groups["dx"])[::2] == ((1, 2), Clamp(0, sp.Integer(2) ** 120, True))
    assert plan(groups["first"]).clamp == Clamp(0, two136, True, frozenset(),
                                                frozenset({"d_eps"}),
                                                plus_zero=frozenset({"d_eps"}))
    _, groups, plan = _plans("se-gem")
    assert plan(groups["f"]).clamp == Clamp(-two136, two136, False)
    # the claims, by the reference formulas at 60 digits: beyond the largest float32
    # result, within 2^-40 of 1 (f'), within 2^-40 of -1 (SE-GEM at -oo)
    with mp.workdps(60):
        x = mp.mpf(2) ** 136
        for n in (1, 2):
            assert gem_ref(n)(x) > mp.mpf(2) ** 129
            assert gem_ref(n, eps=mp.mpf(2) ** 128)(x) > mp.mpf(2) ** 129
        d = mp.diff(gem_ref(1), x)
        assert abs(d - 1) < mp.mpf(2) ** -40
        for eps in ("1/1000", "2.5"):
            assert abs(se_gem_ref(1, eps)(-x) + 1) < mp.mpf(2) ** -40
        # the lower clamps: f' within 2^-40 of 1 at and beyond them, up to the largest
        # float32, for the extreme eps of the narrow bodies
        big = mp.mpf(F32_MAX)
        for n, eps, k in ((1, 1, 24), (2, 1, 24), (5, 1, 24), (8, 1, 24),
                          (2, str(2**128), 120), (2, f"1/{2**128}", 120),
                          (1, str(2**128), 120)):
            for xk in (mp.mpf(2) ** k, mp.mpf(2) ** k * 3, big):
                d = mp.diff(gem_ref(n, eps=eps), xk)
                assert abs(d - 1) < mp.mpf(2) ** -40, (n, eps, k, xk)


def test_se_gem_clamped_at_both_ends_below_the_largest_input():
    """SE-GEM's powers overflow float64 at the largest float32 from N = 4 on (f; N = 2 for
    f' and d/deps): x is clamped into [-2^k0, 2^k1] (``plans._ends_plan``).  The claims
    behind each clamp, by the reference formula at 80 digits, for every N it lists and
    the extreme eps of the narrow bodies, at the bounds and beyond them up to the largest
    float32: f within 2^-40 of -1 at -oo and of x beyond 2^k1 (its linear tail); f' within
    2^-40 of 1 at +oo; f' at -oo and d/deps at +oo, which a gradient multiplies before
    they are rounded, below 2^-320 (``SCALED_ZERO``), not only below 2^-200."""
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import Clamp, narrow_plans
    from gemsym.families import get_family

    code = derive(get_family("se-gem"))
    N = code.symbols["N"]
    reals = [code.symbols["eps"]]
    groups = {"f": ([("y", code.forward[0])], False),
              "dx": ([("d_x", code.first[0])], True),
              "first": (list(zip(code.first_names, code.first)), True)}
    plans = {g: narrow_plans(outs, code.x, [N], reals, code.junctions, sides=True,
                             summed=frozenset(code.first_names[1:]), scaled=scaled)
             for g, (outs, scaled) in groups.items()}
    for g, ps in plans.items():
        # every N = 1 .. 8 has a narrow body, each in one plan
        assert sorted(n for p in ps for n in p.values) == list(range(1, 9)), g
    # the plans within the budget at +-2^128 keep their clamps beyond every input
    assert plans["f"][0].values == (1, 2) and plans["f"][0].clamp.sides
    assert plans["dx"][0].values == (1,) and plans["dx"][0].clamp.sides
    clamped = [(g, p) for g, ps in plans.items() for p in ps
               if p.clamp.lo is not None and abs(p.clamp.lo) < sp.Integer(2) ** 128]
    assert {g for g, _ in clamped} == {"f", "dx", "first"}
    big = mp.mpf(F32_MAX)
    with mp.workdps(80):
        for g, p in clamped:
            c = p.clamp
            assert not c.junction and not c.sides and c.tail == (
                frozenset({"y"}) if g == "f" else frozenset()), (g, c)
            k0, k1 = -c.lo, c.hi
            assert isinstance(c, Clamp) and k0 > 0 and k1 > 0
            for n in p.values:
                for eps in (mp.mpf(2) ** -128, mp.mpf("1e-4"), mp.mpf(2) ** 127):
                    f = se_gem_ref(n, eps)
                    for xk in (mp.mpf(int(k0)), mp.mpf(int(k0)) * 3, big):
                        if g == "f":
                            assert abs(f(-xk) + 1) < mp.mpf(2) ** -40, (g, n, eps)
                        else:
                            # u/(1 - u)' = u'/(1 - u)^2, u = x^m (numerical
                            # differentiation cannot resolve 2^-320 next to -1)
                            m, u = 2 * n + 1, (-xk) ** (2 * n + 1)
                            d = m * (-xk) ** (m - 1) / (1 - u) ** 2
                            assert 0 < d < mp.mpf(2) ** -320, (g, n, eps, xk)
                    for xk in (mp.mpf(int(k1)), mp.mpf(int(k1)) * 3, big):
                        if g == "f":
                            assert abs(f(xk) / xk - 1) < mp.mpf(2) ** -40, (g, n, eps)
                            continue
                        assert abs(mp.diff(f, xk) - 1) < mp.mpf(2) ** -40, (g, n, eps, xk)
                        if g == "first":
                            # d/deps = -x^(2N+1)/(x^2N + eps)^2
                            d_eps = -xk ** (2 * n + 1) / (xk ** (2 * n) + eps) ** 2
                            assert -mp.mpf(2) ** -320 < d_eps < 0, (n, eps, xk)
    # the scaled bound decides: f' with N = 2 at -2^48 is 5 2^-288, which a gradient of
    # 2^127 makes a normal float32 number; its clamp is -2^64 or beyond
    dx2 = next(p for p in plans["dx"] if 2 in p.values)
    assert dx2.clamp.lo <= -sp.Integer(2) ** 64


def test_e_gem_parameter_derivative_clamped_above_only():
    """E-GEM's (f', d/deps) from N = 2 on: (x^4 + eps)^2 overflows float64 at the largest
    float32, and d/deps = -x^5/(x^4 + eps)^2 is -0 at x = +0, not the left piece's +0, so
    no junction clamp (``_low_plan``): x is clamped above only, the comparison with 0 kept
    (``_ends_plan``).  The claims at and beyond each bound, by the reference formula at 80
    digits: f' within 2^-40 of 1, d/deps in (-2^-320, 0)."""
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import Clamp, narrow_plans
    from gemsym.families import get_family

    code = derive(get_family("e-gem"))
    plans = narrow_plans(list(zip(code.first_names, code.first)), code.x,
                         [code.symbols["N"]], [code.symbols["eps"]], code.junctions,
                         sides=True, summed=frozenset(code.first_names[1:]), scaled=True)
    assert sorted(n for p in plans for n in p.values) == list(range(1, 9))
    later = [p for p in plans if 1 not in p.values]
    assert later and all(p.clamp == Clamp(None, p.clamp.hi, False) for p in later)
    big = mp.mpf(F32_MAX)
    with mp.workdps(80):
        for p in later:
            k = mp.mpf(int(p.clamp.hi))
            for n in p.values:
                for eps in (mp.mpf(2) ** -128, mp.mpf("1e-4"), mp.mpf(2) ** 127):
                    for xk in (k, 3 * k, big):
                        d = mp.diff(gem_ref(n, eps=eps), xk)
                        assert abs(d - 1) < mp.mpf(2) ** -40, (n, eps, xk)
                        d_eps = -xk ** (2 * n + 1) / (xk ** (2 * n) + eps) ** 2
                        assert -mp.mpf(2) ** -320 < d_eps < 0, (n, eps, xk)


def test_no_clamp_where_the_body_misses_the_piece_or_the_limit():
    """The checks decide: a left piece of 1 (the body gives 0 at the junction) keeps the
    comparison with 0; a limit the body does not round to (1/3 for f' at +oo) keeps the
    comparison with +oo."""
    from dataclasses import replace

    from gemsym.codegen.narrow import clamp as nclamp, forms, plans
    from gemsym.codegen.stable import StableForm

    code, groups, plan = _plans("gem")
    (name, (_, right)), = groups["f"]
    got = plan([(name, (StableForm("const", sp.Integer(1)), right))]).clamp
    assert got is not None and not got.junction and got.lo is None and got.hi is not None
    _, outputs, _ = plan(groups["dx"])
    (name, (left, body)), = outputs
    # N = 1: the body fits the budget up to 2^136
    args = ((1,), code.x, [code.symbols["N"]], [], code.junctions)
    assert nclamp._clamp(outputs, *args).hi == sp.Integer(2) ** 136
    wrong = replace(body, limits=(body.limits[0], sp.Rational(1, 3)))
    assert nclamp._clamp([(name, (left, wrong))], *args).hi is None
    # the lower bound's proof (narrow.plans._tail_rounds): f' (N = 2) is within 2^-40 of 1 beyond
    # 2^80, not beyond 2^4 (1 - 3/x^4 there), and never near 2
    (b,) = forms._bodies(body, (2,), code.x, [code.symbols["N"]], [])
    one, two = sp.Integer(1), sp.Integer(2)
    assert plans._tail_rounds(plans._tail(b, code.x, one), one, 80, {})
    assert not plans._tail_rounds(plans._tail(b, code.x, one), one, 4, {})
    assert not plans._tail_rounds(plans._tail(b, code.x, two), two, 80, {})


def test_plus_zero_only_for_a_zero_at_the_junction_and_none_beyond():
    """``Clamp.plus_zero`` (body + 0.0 for a -0 at the junction 0) is taken for E-GEM's
    d/deps alone, and refused where the body is not 0 at 0 (+0.0 would not give the left
    piece: it keeps its comparison) or has a zero of its own on (0, hi] (x (x - 1/2), 0 at
    x = 1/2: +0.0 would change a -0 there)."""
    from dataclasses import replace

    from gemsym.codegen.narrow import clamp as nclamp

    code, groups, plan = _plans("e-gem")
    x, reals = code.x, [code.symbols["eps"]]
    _, outputs, clamp = plan(groups["first"])
    assert clamp.plus_zero == {"d_eps"} and not clamp.keep_lo
    (_, (_, d_eps)), = [o for o in outputs if o[0] == "d_eps"]
    assert nclamp._zero_at_junction(d_eps, (1,), x, [code.symbols["N"]], reals, clamp.hi)
    ints = [code.symbols["N"]]
    shifted = replace(d_eps, small=d_eps.small - 1)  # -1 at x = 0
    assert not nclamp._zero_at_junction(shifted, (1,), x, ints, reals, clamp.hi)
    crossing = replace(d_eps, small=x * (x - sp.Rational(1, 2)))
    assert not nclamp._zero_at_junction(crossing, (1,), x, ints, reals, clamp.hi)
    # the same body with its zero left of the narrow inputs' range passes
    assert nclamp._zero_at_junction(replace(d_eps, small=x * (x + 1)), (1,), x, ints, reals,
                                    clamp.hi)
    got = nclamp._clamp([("d_eps", (outputs[1][1][0], shifted))], (1,), x, ints, reals,
                        code.junctions)
    assert got is None or not (got.plus_zero or got.junction)


def test_sums_of_sides():
    """SE-GEM's f and f' (the PyTorch formulas): L(x_l) + R(x_r) instead of a comparison and
    a selection.  L(-0) = -0, so R(x) + L(-0) is R(x); f's R(+0) = +0, so L must never be a
    zero on x < 0 (interval arithmetic); f' has L'(-0) = +0, so R' must never be one on
    x > 0.  A side that is not 0 at 0, or that has a zero on its half line where the other
    side's zero is +0, or whose sum at -0 is not R(-0), is refused; so is a group with an
    output whose left piece is the constant 0 (SE-GEM's first derivatives: d/deps), unless
    that output is only summed: then it is R(x_r) + 0.0 (``Clamp.plus_zero``), and its
    limit at +oo, which R misses at 2^136 (-2^-136), is taken where x holds an infinity
    (``keep_hi``)."""
    from dataclasses import replace

    import gemsym.codegen.narrow as narrow
    from gemsym.codegen.narrow.clamp import _sides

    code, groups, _ = _plans("se-gem")
    ints, reals = [code.symbols["N"]], [code.symbols["eps"]]

    def plan(outputs):
        return narrow.narrow_outputs(outputs, code.x, ints, reals, code.junctions, sides=True)

    two136 = sp.Integer(2) ** 136
    for g in ("f", "dx"):
        assert plan(groups[g]).clamp == narrow.Clamp(-two136, two136, False, sides=True), g
    assert not plan(groups["first"]).clamp.sides
    summed = narrow.narrow_outputs(groups["first"], code.x, ints, reals, code.junctions,
                                   sides=True, summed=frozenset({"d_eps"}))
    assert summed.clamp == narrow.Clamp(-two136, two136, False, frozenset(),
                                        frozenset({"d_eps"}), sides=True,
                                        plus_zero=frozenset({"d_eps"}))
    values, outputs, _ = plan(groups["f"])
    (_, (left, right)), = outputs
    x = code.x
    args = (values, x, ints, reals, -two136, two136)
    assert _sides(left, right, *args)
    assert not _sides(replace(left, small=left.small + 1), right, *args)
    # even sides (+0 at -0): the sum is exact where each side is nonzero on its half line
    even_l, even_r = replace(left, small=left.small ** 2), replace(right, small=right.small * x)
    assert not _sides(even_l, right, *args)  # at x = -0: +0 + R(-0) = +0, not -0
    one = ((1,), *args[1:])  # N = 2: L^2 ~ x^10 is a zero near the smallest inputs
    assert _sides(even_l, even_r, *one) and not _sides(even_l, even_r, *args)
    assert not _sides(even_l, replace(even_r, small=even_r.small * (x - 1) ** 2), *one)
    # R(+0) = +0: L must be nonzero on x < 0
    assert not _sides(replace(left, small=left.small * (x + 1) ** 2), right, *args)


class _Count(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        # an op and its in-place form alike (the narrow bodies write into their
        # temporaries: gemsym.codegen.inplace)
        self.ops.append(str(func.overloadpacket).rstrip("_"))
        return func(*args, **(kwargs or {}))


def test_the_runtime_takes_the_narrow_bodies_for_narrow_inputs_only(bridge):
    """float32 input, 0-d parameters below 2^128: no |x| <= 1 mask, at most 12 ATen ops per
    GEM forward (21 with the general body), none of them a comparison or a selection; float64 inputs, a parameter of 2^130 or a
    per-channel parameter: the general bodies (and the same values either way)."""
    rt = bridge._runtime
    fam = rt.family("narrow_bridge", "gem")
    x = _inputs(torch.float32).to(torch.float32)[:2048]
    with torch.no_grad(), _Count() as count:
        y = rt._torch_forward(fam, x, (1,), [])
    assert "aten.le" not in count.ops and len(count.ops) <= 12, count.ops
    # x clamped into [0, 2^136] instead of x < 0 and x == inf and their selections
    assert "aten.clamp" in count.ops and not {"aten.where", "aten.masked_fill", "aten.lt",
                                              "aten.eq"} & set(count.ops), count.ops
    se_gem = rt.family("narrow_bridge", "se_gem")
    eps = [torch.tensor(1e-4, dtype=torch.float64)]
    for run in (rt._torch_forward,
                lambda f, v, n, p: rt._torch_backward(f, torch.ones_like(v), v, n, p, False)):
        with torch.no_grad(), _Count() as count:
            run(se_gem, x, (1,), eps)
        assert not {"aten.where", "aten.masked_fill", "aten.lt"} & set(count.ops), count.ops
    with torch.no_grad(), _Count() as count:
        y64 = rt._torch_forward(fam, x.double(), (1,), [])
    assert "aten.le" in count.ops
    assert torch.equal(y.isnan(), y64.isnan())
    f64 = torch.float64
    assert rt._narrow(torch.float32, f64, [torch.tensor(0.5, dtype=f64)])
    assert rt._narrow(torch.bfloat16, f64, [])
    assert not rt._narrow(torch.float64, f64, [])
    assert not rt._narrow(torch.float32, torch.float32, [])
    assert not rt._narrow(torch.float32, f64, [torch.full((3, 1), 0.5, dtype=f64)])
    # parameters beyond 2^128 (or NaN): the general body, whose value it is
    F = bridge._formulas
    x64 = x.double()
    for eps in (2.0 ** 130, 3e200, 2.0 ** -130, math.nan):
        e = torch.tensor(eps, dtype=f64)
        with torch.no_grad(), _Count() as count:
            y = F.e_gem_f(x64, 1, e, exact=False, narrow=True)
        assert "aten.le" in count.ops
        assert torch.equal(y.isnan(), F.e_gem_f(x64, 1, e, exact=False).isnan())


@pytest.mark.parametrize("a", [0.0, 0.3, -0.4, math.nan])
def test_parameter_conditions_are_decided_once_per_call(bridge, a):
    """Sqish's a < 0 form: on the narrow path a >= 0 (the default's side) takes the body
    without it (no expm1, no selection on a; so does NaN, for which a < 0 is false too):
    x (a + (1 - a) sigma(u)), one sigmoid and no exponential, reciprocal nor division
    (``narrow.ratio``), whose float32 values are the exact ones rounded (NaN for a NaN a,
    as the general body's); a < 0 the general body."""
    from tests.numerics_reference import sqish, ulp_error

    F = bridge._formulas
    x = _inputs(torch.float32)
    p = [torch.tensor(v, dtype=torch.float64) for v in (a, 1.5, 0.8)]
    with torch.no_grad(), _Count() as count:
        fast = F.sqish_f(x, *p, exact=False, narrow=True)
    general = F.sqish_f(x, *p, exact=False)
    assert ("aten.expm1" in count.ops) == (a < 0.0), count.ops
    if a < 0.0:
        assert torch.equal(fast.float().isnan(), general.float().isnan())
        ok = (fast.float() == general.float()) | fast.float().isnan()
        assert bool(ok.all())
        return
    assert count.ops.count("aten.sigmoid") == 1, count.ops
    assert not {"aten.exp", "aten.reciprocal", "aten.div"} & set(count.ops), count.ops
    if math.isnan(a):  # NaN but at +-inf, where both apply the values there
        assert torch.equal(fast.isnan(), general.isnan()) and bool(fast.isnan().any())
        assert torch.equal(fast[~fast.isnan()], general[~general.isnan()])
        return
    mp.mp.dps = 60
    for xi, yi in zip(x.tolist(), fast.float().double().tolist()):
        if math.isfinite(xi):
            value, scale = sqish(xi, a, 1.5, 0.8)["f"]
            assert ulp_error(yi, value, scale, "float32") <= 0.5 + 1e-6, (xi, yi)


def test_lower_clamp_of_a_family_without_an_integer_parameter(tmp_path_factory):
    """A user family 0 | x^5/(x^4 + 2) (no integer parameter): its f' = x^4 (x^4 + 10)/
    (x^4 + 2)^2 exceeds the budget near 2^128 and takes the lower clamp (2^120), with the
    general body's bits on float32 and 16-bit inputs up to the largest float32 and +-inf,
    and mpmath's f' (rounded to float32) there; with f' -> 1/3 (not a narrow number) it
    keeps the general body."""
    from gemsym import Activation, X
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import narrow_outputs

    rat = Activation.from_branches("rat", [sp.Integer(0), X**5 / (X**4 + 2)], [0])
    third = Activation.from_branches("third", [sp.Integer(0), X**5 / (3 * X**4 + 1)], [0])
    for act, hi in ((rat, sp.Integer(2) ** 120), (third, None)):
        code = derive(act)
        plan = narrow_outputs([("d_x", code.first[0])], code.x, [], [], code.junctions)
        assert (plan.clamp.hi if plan is not None else None) == hi, act.name
    with generated_package(tmp_path_factory, "ratnarrow", [rat]) as pkg:
        fn = pkg._formulas.rat_dx
    _general_bits(fn)
    xs = [2.0**119, 2.0**120, 2.0**121, 1e37, F32_MAX]
    got = fn(torch.tensor(xs, dtype=torch.float64), exact=False, narrow=True).float().tolist()
    with mp.workdps(60):
        for xv, g in zip(xs, got):
            want = mp.diff(lambda t: t**5 / (t**4 + 2), mp.mpf(xv))
            assert g == float(torch.tensor(float(want)).float()), (xv, g, want)


def test_overflow_guards_dropped_where_the_power_stays_in_budget(tmp_path_factory):
    """A user family written with 1 - x^3 (SE-GEM, N = 1, eps = 1, in concrete powers):
    SymPy factors it into x - 1 and x^2 + x + 1, and its d/dx takes 1/(x - 1)^2 under an
    overflow guard (``tails._reciprocal_power``) that the narrow bodies drop where
    (x - 1)^k stays below 2^BUDGET for |x| < 2^128 (k = 2 yes, k = 8 no); its first
    derivatives then take a narrow body, with the general body's bits on float32 and
    16-bit inputs and mpmath's values up to the largest float32."""
    from gemsym import Activation, X
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import narrow_outputs
    from gemsym.codegen.narrow.forms import _within_budget
    from gemsym.codegen.stable import IPow
    from gemsym.codegen.tails import Opaque

    x = sp.Symbol("x", real=True)
    big = sp.Float(1.7976931348623157e308)
    assert _within_budget(sp.Abs(Opaque(IPow(x - 1, 2))) < big, x, ())
    assert not _within_budget(sp.Abs(Opaque(IPow(x - 1, 8))) < big, x, ())
    assert not _within_budget(sp.Abs(Opaque(IPow(x, 2))) >= sp.Float(1e-30), x, ())
    cube = Activation.from_branches("cube", [X**3 / (1 - X**3), X**3 / (X**2 + 1)], [0])
    code = derive(cube)
    first = list(zip(code.first_names, code.first))
    assert code.first[0][0].small.has(sp.Piecewise)  # the guard is there to drop
    assert narrow_outputs(first, code.x, [], [], code.junctions) is not None
    with generated_package(tmp_path_factory, "cubenarrow", [cube]) as pkg:
        fn = pkg._formulas.cube_dx
    _general_bits(fn)
    pts = [-F32_MAX, -1e30, -3.5, -1.0, -0.25, 0.5, 2.0, 1e20, F32_MAX]
    got = fn(torch.tensor(pts, dtype=torch.float64), exact=False, narrow=True).tolist()
    with mp.workdps(60):
        for xv, g in zip(pts, got):
            want = (3 * mp.mpf(xv)**2 / (1 - mp.mpf(xv)**3)**2 if xv < 0 else
                    mp.diff(lambda t: t**3 / (t**2 + 1), mp.mpf(xv)))
            assert abs(mp.mpf(g) - want) <= mp.mpf(2) ** -45 * abs(want), (xv, g, want)


def test_underflow_guard_of_x_itself_dropped(tmp_path_factory):
    """Softsign's x/(1 + |x|), written x/(x + 1) and -x/(x - 1): the underflow guard of its
    power forms is on x^1, a normal float64 number for every nonzero narrow input, so its
    f takes a narrow body (sums of sides), with the general body's bits on finite float32
    and 16-bit inputs, mpmath's values up to the largest float32, and its limits +-1 at
    +-inf (where the general body, whose |x| > 1 side is x/(x + 1) too, gives NaN)."""
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import narrow_outputs
    from gemsym.families import get_family

    code = derive(get_family("softsign"))
    assert all(f.small.has(sp.Piecewise) for f in code.forward[0])
    plan = narrow_outputs([("y", code.forward[0])], code.x, [], [], code.junctions, sides=True)
    assert plan is not None and plan.clamp.sides
    with generated_package(tmp_path_factory, "softsignnarrow", ["softsign"]) as pkg:
        fn = pkg._formulas.softsign_f
    _general_bits(fn, zero_signs=True, finite_only=True)
    ends = fn(torch.tensor([math.inf, -math.inf], dtype=torch.float64), exact=False,
              narrow=True)
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        assert ends.to(dtype).tolist() == [1.0, -1.0]
    pts = [-F32_MAX, -1e30, -3.5, -1e-45, -0.0, 0.0, 1e-45, 0.5, 2.0, 1e20, F32_MAX]
    got = fn(torch.tensor(pts, dtype=torch.float64), exact=False, narrow=True).tolist()
    with mp.workdps(60):
        for xv, g in zip(pts, got):
            want = mp.mpf(xv) / (1 + abs(mp.mpf(xv)))
            assert abs(mp.mpf(g) - want) <= mp.mpf(2) ** -50 * abs(want), (xv, g, want)
            assert math.copysign(1, g) == math.copysign(1, xv), (xv, g)


def test_clamp_between_two_constant_pieces(tmp_path_factory):
    """ReLU6 (0 | x | 6), the hard sigmoid (0 | x/6 + 1/2 | 1) and a user's hard tanh
    (-1 | x | 1): every piece left of the first junction and right of the second is the
    constant the middle body gives there, so their narrow f is the body at x clamped into
    [j0, j1] (one clamp, no comparison nor selection), with the general body's bits on
    float32 and 16-bit inputs (+-inf, NaN and the sign of zero included) and the
    definition's values at and around the junctions.  A family whose middle body misses the
    right constant (0 | x | 5 with junctions 0 and 6) keeps that comparison only."""
    from gemsym import Activation, X
    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import narrow_outputs
    from gemsym.families import get_family

    hardtanh = Activation.from_branches("hardtanh", [sp.Integer(-1), X, sp.Integer(1)], [-1, 1])
    jump = Activation.from_branches("jump", [sp.Integer(0), X, sp.Integer(5)], [0, 6])
    for act, keep_hi in ((get_family("relu6"), set()), (get_family("hardsigmoid"), set()),
                         (hardtanh, set()), (jump, {"y"})):
        code = derive(act)
        plan = narrow_outputs([("y", code.forward[0])], code.x, [], [], code.junctions)
        assert plan is not None and plan.clamp.hi_junction, act.name
        assert (plan.clamp.lo, plan.clamp.hi) == tuple(code.junctions), act.name
        assert set(plan.clamp.keep_hi) == keep_hi and not plan.clamp.keep_lo, act.name
    with generated_package(tmp_path_factory, "twojunctions",
                           ["relu6", "hardsigmoid", hardtanh, jump]) as pkg:
        fns = {n: getattr(pkg._formulas, f"{n}_f")
               for n in ("relu6", "hardsigmoid", "hardtanh", "jump")}
    import inspect
    for name in ("relu6", "hardsigmoid", "hardtanh"):
        narrow = inspect.getsource(fns[name]).split("if narrow")[1].split("return")[0]
        assert "_where" not in narrow and "clamp" in narrow, name
    definitions = {"relu6": lambda v: min(max(v, 0.0), 6.0),
                   "hardsigmoid": lambda v: 0.0 if v < -3 else 1.0 if v >= 3 else v / 6 + 0.5,
                   "hardtanh": lambda v: min(max(v, -1.0), 1.0),
                   "jump": lambda v: 0.0 if v < 0 else 5.0 if v >= 6 else v}
    pts = [-math.inf, -F32_MAX, -7.0, -3.0, -1.0, -0.5, -1e-45, 0.0, 1e-45, 0.5, 1.0, 2.9,
           3.0, 5.999999, 6.0, 6.5, F32_MAX, math.inf]
    for name, fn in fns.items():
        _general_bits(fn, zero_signs=True)
        got = fn(torch.tensor(pts + [-0.0, math.nan], dtype=torch.float64), exact=False,
                 narrow=True).tolist()
        for xv, g in zip(pts, got):
            assert g == definitions[name](xv), (name, xv, g)
        # -0 is the middle piece's value there (x, or the constants' +0)
        want_zero = {"relu6": -0.0, "hardtanh": -0.0, "jump": -0.0}.get(name, 0.5)
        assert math.copysign(1, got[-2]) == math.copysign(1, want_zero), (name, got[-2])
        assert got[-2] == want_zero and math.isnan(got[-1]), (name, got[-2:])


def test_polynomial_pieces_need_no_unit_selection(tmp_path_factory):
    """A power form whose |x| <= 1 and |x| > 1 sides are one expression (a polynomial
    piece: x, alpha x, x^2, x (x + 3)/6) is printed once, without |x| and its selection, in
    the general bodies (float64 inputs, per-channel parameters), and gives the definition's
    float64 values there: leaky ReLU, ReLU^2 and the hard swish at +-inf, NaN, +-0 and
    around the junctions, bit for bit (one rounding each, as the definition's own)."""
    import inspect

    with generated_package(tmp_path_factory, "polypieces",
                           ["leaky-relu", "relu2", "hardswish"]) as pkg:
        F = pkg._formulas
    for fn in (F.leaky_relu_f, F.relu2_f, F.hardswish_f, F.leaky_relu_first):
        general = inspect.getsource(fn).split("return")[-2]
        assert "ax <= 1.0" not in general and "torch.abs" not in general, fn.__name__
    x = torch.cat([_inputs(torch.float64), torch.tensor([-3.0, 3.0, -2.9, 2.9],
                                                        dtype=torch.float64)])
    alpha = torch.tensor(0.01, dtype=torch.float64)
    want = {
        "leaky": torch.where(x < 0, alpha * x, x),
        "relu2": torch.where(x < 0, torch.zeros_like(x), x * x),
        "hardswish": torch.where(x < -3, torch.zeros_like(x),
                                 torch.where(x < 3, x * (x + 3.0) / 6.0, x)),
    }
    got = {"leaky": F.leaky_relu_f(x, alpha, exact=False, narrow=False),
           "relu2": F.relu2_f(x, exact=False, narrow=False),
           "hardswish": F.hardswish_f(x, exact=False, narrow=False)}
    for name in want:
        a, b = got[name], want[name]
        same = ((a == b) & (a.signbit() == b.signbit())) | (a.isnan() & b.isnan())
        assert bool(same.all()), (name, x[~same][:5].tolist())
    # where the two sides print differently they stay selected: in exact arithmetic (float64
    # inputs) the hard sigmoid's |x| > 1 side is (x + 3)/6, accurate relative to f near its
    # root -3, where x/6 + 1/2 would lose all but a few bits
    with generated_package(tmp_path_factory, "rootside", ["hardsigmoid"]) as pkg:
        hs = pkg._formulas.hardsigmoid_f
    near = torch.tensor([-3.0 + k * 2.0**-48 for k in (1, 3, 7, 1000)], dtype=torch.float64)
    for xv, g in zip(near.tolist(), hs(near, exact=True, narrow=False).tolist()):
        want_v = (mp.mpf(xv) + 3) / 6
        assert abs(mp.mpf(g) - want_v) <= mp.mpf(2) ** -52 * want_v, (xv, g, want_v)


def test_positive_parameter_plans(tmp_path_factory):
    """Leaky ReLU's alpha may have either sign, which the interval arguments of the clamp
    cannot bound; for alpha > 0 its f is the sum of its clamped sides (alpha x_l + x_r, no
    comparison), taken when the value read is in [2^-128, 2^128), with the general body's
    bits on float32 and 16-bit inputs (+-inf, NaN and the sign of zero included); a
    negative alpha (for which alpha (-0) = +0 would make f(-0) = +0) keeps the body with its
    comparisons, with the general body's bits too."""
    import inspect

    from gemsym.codegen.derive import derive
    from gemsym.codegen.narrow import narrow_plans, positive_plans
    from gemsym.families import get_family

    code = derive(get_family("leaky-relu"))
    reals = [code.symbols[p.name] for p in code.real_params]
    outputs = [("y", code.forward[0])]
    assert all(p.clamp is None for p in narrow_plans(outputs, code.x, [], reals,
                                                     code.junctions, sides=True))
    taken, plans = positive_plans(outputs, code.x, [], reals, code.junctions, sides=True)
    assert [s.name for s in taken] == ["alpha"] and plans[0].clamp.sides
    with generated_package(tmp_path_factory, "positive", ["leaky-relu"]) as pkg:
        fn = pkg._formulas.leaky_relu_f
    narrow = inspect.getsource(fn).split("if _case:")[1].split("return")[0]
    assert "_where" not in narrow and "clamp" in narrow
    for alpha in (0.01, 3.0, 2.0**-100, 2.0**100, -0.5, -2.0**-100):
        a = torch.tensor(alpha, dtype=torch.float64)
        _general_bits(lambda x, **kw: fn(x, a, memo={}, **kw), zero_signs=True)
        got = fn(torch.tensor([-math.inf, -2.0, -0.0, 0.0, 3.0, math.inf], dtype=torch.float64),
                 a, exact=False, narrow=True, memo={}).float()
        want = torch.tensor([-math.inf * math.copysign(1, alpha), -2.0 * alpha, -0.0, 0.0, 3.0,
                             math.inf]).float()
        assert torch.equal(got, want) and torch.equal(got.signbit(), want.signbit()), (alpha, got)


def test_no_finite_stand_in_for_an_infinite_derivative(tmp_path_factory):
    """A derivative is multiplied by the gradient before it is rounded, so its infinite
    limit cannot be a finite value at a clamp bound 2^k (rounded alone, 2^137 is inf in
    float32; times 1e-30 it is 1.7e11): ReLU^2's d/dx = 2x at x = +inf with a gradient of
    1e-30 is inf (PyTorch's relu(x)^2 gives inf), as is SELU's sum of g d/dlambda = g x
    there, through the formulas and the eager backward."""
    with generated_package(tmp_path_factory, "infinite", ["relu2", "selu"]) as pkg:
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.tensor([math.inf, 3.0], dtype=dtype, requires_grad=True)
            g = torch.tensor([1e-30, 1e-30], dtype=dtype)
            (gx,) = torch.autograd.grad(pkg.relu2(x), x, g)
            assert gx[0].item() == math.inf and gx[1].item() == pytest.approx(6e-30, rel=1e-2)
            d = pkg._formulas.relu2_dx(x.detach().double(), exact=False, narrow=True)
            assert d[0].item() == math.inf
            m = pkg.SELU(learnable=True)
            (glam,) = torch.autograd.grad(m(x.detach()), [m.lambda__raw], g)
            assert glam.item() == math.inf, (dtype, glam)
