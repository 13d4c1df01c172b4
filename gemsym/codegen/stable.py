"""Symbolic rewrites of branch expressions into forms that are safe in floating point.

Every expression handed to the code printers goes through :func:`stable_form`, which picks
one of three shapes (all exact rewrites, checked in ``tests/test_codegen.py``):

* **power form** -- a rational function of x and of powers x^{alpha N + beta} (the GEM
  families).  Numerator and denominator are factored; every sum factor is divided by its
  dominant monomial, once as x -> 0 (the *small* form, used for |x| <= 1: all monomials are
  <= 1) and once as |x| -> oo (the *large* form, in r = 1/x: all monomials are <= 1).  The
  pulled-out monomials combine into one power ``IPow(x, E)``.  Neither form overflows where
  it is used, the gate x^{2N}/(x^{2N}+eps) becomes 1/(1 + eps r^{2N}) for large |x|, and
  the large form evaluates to the limit at x = +-oo (r = 0).
* **sigmoid form** -- a polynomial in sigma(t) with t linear in x (Sqish, SiLU): written in
  the Bernstein basis of sigma(t), sigma(-t) = 1 - sigma(t), so that no 1 - sigma(t) is ever
  formed by cancellation; the limits at +-oo are the leading coefficients in x.  Where
  that basis itself cancels near a zero of sigma-values free of x (a factor
  l0 sigma(-t) + l1 sigma(t), or end coefficients of opposite signs: Sqish's d/dx at
  a = -1 near x = 0), that part is taken out and evaluated through its zero by expm1.
* **plain** -- anything else, printed as it is.

``Sigmoid`` and ``IPow`` are SymPy functions the printers know; ``Sigmoid.fdiff`` is
sigma(t) sigma(-t), so derivatives taken by ``sp.diff`` stay in this vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import sympy as sp

__all__ = [
    "Sigmoid",
    "IPow",
    "Expm1",
    "InfTimes",
    "PowTimes",
    "SmallestNormal",
    "XTimes",
    "TailTimes",
    "SigmoidLinear",
    "R",
    "StableForm",
    "rewrite_sigmoids",
    "stable_form",
]

#: r = 1/x, the variable of the large-|x| forms.
R = sp.Symbol("r", real=True)


class Sigmoid(sp.Function):
    """sigma(t) = 1 / (1 + e^{-t}); sigma'(t) = sigma(t) sigma(-t)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        t = self.args[0]
        return Sigmoid(t) * Sigmoid(-t)


class IPow(sp.Function):
    """base**exponent for an integer exponent (possibly an expression in N), evaluated
    at run time by repeated multiplication or an integer ``pow``."""

    nargs = 2

    @classmethod
    def eval(cls, base, exponent):
        if exponent == 0:
            return sp.S.One
        if exponent == 1:
            return base
        return None


class Expm1(sp.Function):
    """e^t - 1 without cancellation near t = 0.  Unlike ``sympy.codegen.cfunctions.expm1``
    it is never evaluated into ``exp(t) - 1`` (which SymPy does when t holds a log)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.exp(self.args[0])

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return sp.exp(t) - 1


class SigmoidLinear(sp.Function):
    """SigmoidLinear(c, x, d) = sigma(c x + d), printed so that the rounding error of
    c x + d is corrected (exact product and sum): in the tails sigma's relative error is
    |t| times the absolute error of t = c x + d."""

    nargs = 3


class SigmoidRatio(sp.Function):
    """SigmoidRatio(p, n, c, x, d) = p sigma(s) + n sigma(-s), s = c x + d, evaluated as
    p + (n - p) sigma(-s) or n + (p - n) sigma(s), the one whose terms have one sign, or as
    (p + n E)/(1 + E), E = e^(-s) with -s clamped at 600: the narrow bodies' form of a sum
    over a sigmoid's two sides, where it holds (see ``narrow.ratio``)."""

    nargs = 5


def _sigmoid_linear_args(e: SigmoidLinear):
    """(c, x, d, neg): sigma(-(c x + d)) is printed through the same s = c x + d as its
    partner sigma(c x + d), so that a fused kernel (Inductor's CSE, Triton's) evaluates s,
    its rounding error and the exponential once."""
    c, var, d = e.args
    neg = c.could_extract_minus_sign() and (d == 0 or d.could_extract_minus_sign())
    if neg:
        c, d = -c, -d
    return c, var, d, neg


class XTimes(sp.Function):
    """XTimes(v, x, k) = v * x**k evaluated as ((v*x)*x)...: a vanishing sigmoid factor v
    is applied before the powers of x, so that v x^k never forms inf * 0."""

    nargs = 3


class PowTimes(sp.Function):
    """PowTimes(c, x, k, b) = c * x**k evaluated as ((c*x)*x)... for an integer k >= 1 (a
    symbol or a number) where |c| < 2^1000, else b (an equal expression evaluated another
    way): where |x| < 1 and c x^k is a normal number, every partial product c x^i lies
    between it and c, so none underflows where x^k alone would (k roundings)."""

    nargs = 4


class SmallestNormal(sp.Function):
    """The smallest positive normal number of the compute dtype (printed per target)."""

    nargs = 0
    is_positive = True
    is_finite = True


class TailTimes(XTimes):
    """TailTimes(v, x, k, c, d, j, m, b) = v * x**k for v = b sigma(s)^j sigma(-s)^m,
    s = c x + d: evaluated as ``XTimes``, except on the PyTorch ``exact`` path (float64)
    where |s| > 80, which takes sigma(+-s/2) twice (see ``stable._underflow_safe``); the
    arguments after k describe v for that."""

    nargs = 8


class InfTimes(sp.Function):
    """c * oo with the sign of c (c != 0 where it is used)."""

    nargs = 1


def rewrite_sigmoids(expr: sp.Expr) -> sp.Expr:
    """Replace every 1/(1 + c e^{z}) (c > 0 free of exp) by sigma(-z - log c)."""

    def is_logistic(e: sp.Expr) -> bool:
        if not (e.is_Pow and e.exp == -1 and e.base.is_Add and len(e.base.args) == 2):
            return False
        one, other = _split_one(e.base)
        if one is None:
            return False
        exps = [f for f in sp.Mul.make_args(other) if isinstance(f, sp.exp)]
        return len(exps) == 1

    def to_sigmoid(e: sp.Expr) -> sp.Expr:
        _, other = _split_one(e.base)
        factors = sp.Mul.make_args(other)
        z = next(f for f in factors if isinstance(f, sp.exp)).args[0]
        c = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
        if c.has(sp.exp) or c.is_negative:
            return e
        return Sigmoid(-z - sp.log(c))

    return expr.replace(is_logistic, to_sigmoid)


def _split_one(add: sp.Expr):
    a, b = add.args
    if a == 1:
        return a, b
    if b == 1:
        return b, a
    return None, None


# ------------------------------------------------------------------ stable forms
@dataclass(frozen=True)
class StableForm:
    """An expression ready for printing.

    ``kind`` is ``'const'`` (free of x), ``'plain'``, ``'power'`` (``small`` for |x| <= 1,
    ``large`` for |x| > 1, in x and r = 1/x) or ``'sigmoid'`` (``small`` is the Bernstein
    form; ``limits`` are the values at -oo and +oo, or None).  A plain or power form's
    ``limits``, where it has them, are its values at its branch's infinite ends (None at a
    finite end or one without a confirmed limit; see ``derive._infinite_ends``), with
    ``given`` the ends where its code gives them by itself.
    """

    kind: str
    small: sp.Expr
    large: sp.Expr | None = None
    limits: tuple[sp.Expr | None, sp.Expr | None] | None = None
    #: (p, value): at x = p the expression is 0*oo or 0/0; value is its limit there
    points: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    #: for a plain or power form's ``limits``: whether its code, evaluated in IEEE
    #: arithmetic with IEEE functions, already gives the limit at -oo / +oo (printers whose
    #: functions are not (``CodePrinter.ieee_functions``) apply it there too)
    given: tuple[bool, bool] = (False, False)

    @property
    def expressions(self) -> tuple[sp.Expr, ...]:
        """Every expression of the form."""
        return tuple(e for e in (self.small, self.large, *(self.limits or ())) if e is not None)


def stable_form(expr: sp.Expr, x: sp.Symbol, int_params: Sequence[sp.Symbol],
                defaults: dict[sp.Symbol, sp.Expr]) -> StableForm:
    """A stable rewrite of ``expr`` (identical to it as a function of x)."""
    expr = sp.sympify(expr)
    if not expr.has(x):
        return StableForm("const", expr)
    if expr.has(Sigmoid):
        form = _sigmoid_form(expr, x, defaults)
        if form is not None:
            return form
        return StableForm("plain", expr)
    form = _power_form(expr, x, int_params)
    if form is not None:
        return form
    return StableForm("plain", expr)


# ---- power form -------------------------------------------------------------------
def _exponent_key(e: sp.Expr, int_params: Sequence[sp.Symbol]) -> tuple:
    """Exponent alpha.N + beta as a tuple ordered like its size for large N."""
    e = sp.expand(e)
    return tuple(e.coeff(p) for p in int_params) + (e.subs({p: 0 for p in int_params}),)


def _x_exponent(term: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr] | None:
    """Split a product into (coefficient free of x, exponent of x)."""
    coeff, xpart = term.as_independent(x, as_Add=False)
    if xpart == 1:
        return coeff, sp.S.Zero
    exponent = sp.S.Zero
    for f in sp.Mul.make_args(xpart):
        if f == x:
            exponent += 1
        elif f.is_Pow and f.base == x and not f.exp.has(x):
            exponent += f.exp
        else:
            return None
    return coeff, sp.expand(exponent)


def _to_generators(expr: sp.Expr, x: sp.Symbol, int_params, gens) -> sp.Expr:
    """x**(alpha N + beta) -> U_N**alpha * x**beta, so that the expression becomes a
    rational function of independent generators and can be cancelled and factored."""

    def repl(e):
        if e.is_Pow and e.base == x and e.exp.free_symbols & set(int_params):
            k = sp.expand(e.exp)
            out = x ** k.subs({p: 0 for p in int_params})
            for p, u in zip(int_params, gens):
                alpha = k.coeff(p)
                if not alpha.is_Integer:
                    raise _NotPower
                out *= u ** alpha
            return out
        return None

    return expr.replace(lambda e: repl(e) is not None, repl)


class _NotPower(Exception):
    pass


def _power_form(expr: sp.Expr, x: sp.Symbol, int_params: Sequence[sp.Symbol]) -> StableForm | None:
    int_params = list(int_params)
    gens = [sp.Symbol(f"_U_{p.name}", positive=True) for p in int_params]
    back = {u: x ** p for u, p in zip(gens, int_params)}
    try:
        g = _to_generators(expr, x, int_params, gens)
    except _NotPower:
        return None
    if not g.is_rational_function(x, *gens):
        return None
    if any(a.has(x) for a in g.atoms(sp.Function)):
        return None
    num, den = sp.fraction(sp.cancel(sp.together(g)))
    num, den = sp.factor(num), sp.factor(den)
    factors = []  # (base, power) with the base an x-dependent sum
    coeff = sp.S.One
    exponent = sp.S.Zero
    for part, sign in ((num, 1), (den, -1)):
        for f in sp.Mul.make_args(part):
            base, power = (f.base, f.exp) if f.is_Pow else (f, sp.S.One)
            base = base.subs(back)
            if not base.has(x):
                coeff *= base ** (sign * power)
                continue
            if base.is_Add:
                terms = []
                for t in sp.Add.make_args(sp.expand(sp.powsimp(base, combine="exp"))):
                    split = _x_exponent(sp.powsimp(t, combine="exp"), x)
                    if split is None:
                        return None
                    terms.append(split)
                factors.append((terms, sign * power))
                continue
            split = _x_exponent(sp.powsimp(base, combine="exp"), x)
            if split is None:
                return None
            coeff *= split[0] ** (sign * power)
            exponent += split[1] * sign * power
    small = _assemble(coeff, exponent, factors, x, int_params, large=False)
    large = _assemble(coeff, exponent, factors, x, int_params, large=True)
    return StableForm("power", small, large)


def _assemble(coeff, exponent, factors, x, int_params, large: bool) -> sp.Expr:
    total = exponent
    out = coeff
    linear = []
    for terms, power in factors:
        if all(e in (0, 1) for _, e in terms):
            # a linear factor c0 + c1 x cannot overflow, and c1 + c0 r would cancel near
            # its root (Hardswish's x + 3 near -3): kept as it is, and multiplied in last
            # (a number times a lone sum is distributed by SymPy: x/6 + 1/2 cancels too)
            linear.append(sp.Add(*[c * x**e for c, e in terms]) ** power)
            continue
        keys = [_exponent_key(e, int_params) for _, e in terms]
        pick = max(keys) if large else min(keys)
        e0 = terms[keys.index(pick)][1]
        pieces = []
        for (c, e), key in zip(terms, keys):
            gap = sp.expand(e0 - e if large else e - e0)
            _check_nonnegative(gap, int_params)
            pieces.append(c * IPow(R if large else x, gap))
        out *= sp.Add(*pieces) ** power
        total += e0 * power
    total = sp.expand(total)
    if large and _is_nonnegative(-total, int_params):
        # x**E = r**(-E); use whichever exponent is non-negative for N >= 1.
        out = out * IPow(R, -total)
    elif large or _is_nonnegative(total, int_params):
        out = out * IPow(x, total)
    else:
        out = out / IPow(x, -total)
    return sp.Mul(out, *linear)


def _is_nonnegative(e: sp.Expr, int_params) -> bool:
    """e >= 0 for every integer parameter >= 1 (e is linear in them)."""
    e = sp.expand(e)
    at_one = e.subs({p: 1 for p in int_params})
    return bool(at_one >= 0) and all(bool(e.coeff(p) >= 0) for p in int_params)


def _check_nonnegative(e, int_params) -> None:
    if not _is_nonnegative(e, int_params):
        raise ValueError(f"stable_form: exponent {e} is negative for some N >= 1")


# ---- sigmoid form -----------------------------------------------------------------
def _sigmoid_form(expr: sp.Expr, x: sp.Symbol, defaults) -> StableForm | None:
    args = {s.args[0] for s in expr.atoms(Sigmoid)}
    canon = set()
    for t in args:
        # t a polynomial of odd degree in x: sigma(t) -> 0 and 1 at -oo and +oo (the
        # leading coefficient's sign taken at the parameters' defaults)
        try:
            t_poly = sp.Poly(t, x)
        except sp.PolynomialError:
            return None
        if t_poly.degree() % 2 == 0:
            return None
        value = t_poly.LC().subs(defaults)
        if value.free_symbols or value == 0:
            return None
        canon.add(t if value > 0 else sp.expand(-t))
    canon = {sp.expand(t) for t in canon}
    if len(canon) != 1:
        return None
    t = canon.pop()
    linear = sp.Poly(t, x).degree() == 1
    if linear:
        t = _tidy_linear(t, x)
    s = sp.Dummy("s")
    sub = {}
    for arg in args:
        sub[Sigmoid(arg)] = s if sp.expand(arg - t) == 0 else 1 - s
    poly_expr = sp.expand(expr.xreplace(sub))
    if poly_expr.has(Sigmoid):
        return None
    try:
        poly = sp.Poly(poly_expr, s)
        # coefficients polynomial in x: expanding anything else (Mish's tanh) would
        # cancel
        sp.Poly(poly_expr, s, x)
    except sp.PolynomialError:
        return None
    d = poly.degree()
    p = [poly.coeff_monomial(s**i) for i in range(d + 1)]
    if linear:
        c_t = sp.factor(sp.expand(t).coeff(x))
        d_t = sp.factor(sp.expand(t - c_t * x))
        sig, sig_neg = SigmoidLinear(c_t, x, d_t), SigmoidLinear(-c_t, x, -d_t)
    else:
        sig, sig_neg = Sigmoid(t), Sigmoid(sp.expand(-t))
    bern = _bernstein(p, x)

    def terms(coeffs, j0: int) -> sp.Expr:
        # sum_k C(n, k) coeffs[k] sigma^(k + j0) sigma(-t)^(n - k + j0), n = len(coeffs) - 1
        n = len(coeffs) - 1
        merged = _pairs_merged(coeffs, j0, x)
        if merged is not None:
            return sp.Add(*[_times_polynomial(sig ** j * sig_neg ** m, b, x,
                                              (c_t, d_t, j, m) if linear else None)
                            for j, m, b in merged])
        pieces = []
        for k, b in enumerate(coeffs):
            basis = sp.binomial(n, k) * sig ** (k + j0) * sig_neg ** (n - k + j0)
            tails = (c_t, d_t, k + j0, n - k + j0) if linear else None
            pieces.append(_times_polynomial(basis, b, x, tails))
        return sp.Add(*pieces)

    def through(ends) -> sp.Expr:
        return _through_zero(terms(ends, 0), ends, t, sig, x)

    def body(q) -> sp.Expr:
        # the polynomial sum_i q[i] sigma^i, of degree n >= 1
        n = len(q) - 1
        split = _zero_factor(q, x) if n >= 2 else None
        if split is not None:
            # P = (l0 sigma(-t) + l1 sigma(t)) R: that factor through its zero (Swish's
            # d2/dbeta2 = x^3 sigma sigma(-t) (sigma(-t) - sigma(t)) ~ x^4 from terms ~ x^3)
            ends, rest = split
            return through(ends) * body(rest)
        bq = _bernstein(q, x)
        if n == 1 or _ends_cancel(bq, x):
            # P = b0 sigma(-t) + bn sigma(t) + sigma(t) sigma(-t) Q: the ends apart, through
            # their zero (see _ends_cancel); Q (degree n - 2) in its own Bernstein basis
            out = through([bq[0], bq[-1]])
            return out + terms(_bernstein(_inner(q, x), x), 1) if n > 1 else out
        return terms(bq, 0)

    small = body(p) if d >= 1 else terms(bern, 0)
    limits = []
    for direction in (-1, 1):
        # sigma(t) -> 1 where t -> +oo (x -> +oo since the slope is positive).
        k_alive = d if direction > 0 else 0
        lim = _polynomial_limit(sp.expand(bern[k_alive] * sp.binomial(d, k_alive)), x, direction)
        if lim is None:
            return StableForm("sigmoid", small, None, None)
        limits.append(lim)
    return StableForm("sigmoid", small, None, tuple(limits))


def _pairs_merged(coeffs, j0: int, x: sp.Symbol) -> list[tuple[int, int, sp.Expr]] | None:
    """The terms of sum_k C(n, k) coeffs[k] x^p sigma^(k + j0) sigma(-t)^(n - k + j0)
    (coeffs[k] polynomials in x, n = len(coeffs) - 1) as [(j, m, polynomial in x)] for
    sigma^j sigma(-t)^m, where two terms of one power of x with the same coefficient,
    c x^p sigma^(j+1) sigma(-t)^m + c x^p sigma^j sigma(-t)^(m+1), are the one term
    c x^p sigma^j sigma(-t)^m (sigma + sigma(-t) = 1; no other term has that power);
    None where no pair merges.  A Bernstein basis of degree n holds the lower degrees of
    some powers of x elevated: Sqish's d/da is x sigma(-t) + t1 x^2 sigma sigma(-t),
    printed as x sigma(-t)^2 + x sigma sigma(-t) + t1 x^2 sigma sigma(-t) (two products
    and a sum more, each rounded)."""
    n = len(coeffs) - 1
    table: dict[tuple[int, int, int], sp.Expr] = {}
    for k, b in enumerate(coeffs):
        try:
            poly = sp.Poly(sp.expand(sp.binomial(n, k) * b), x)
        except sp.PolynomialError:
            return None
        for (p,), c in poly.terms():
            if c != 0:
                table[(p, k + j0, n - k + j0)] = c
    merged = False
    while (pair := _mergeable(table)) is not None:
        key, other, target = pair
        table[target] = table.pop(key)
        del table[other]
        merged = True
    if not merged:
        return None
    groups: dict[tuple[int, int], sp.Expr] = {}
    for (p, j, m), c in sorted(table.items(), key=lambda kv: (-kv[0][1], kv[0][2], kv[0][0])):
        groups[(j, m)] = groups.get((j, m), sp.S.Zero) + c * x ** p
    return [(j, m, b) for (j, m), b in groups.items()]


def _mergeable(table: dict) -> tuple | None:
    """The first (key, its partner, their merged key) of ``_pairs_merged``'s table
    {(p, j, m): coefficient}: c x^p sigma^j sigma(-t)^m and c x^p sigma^(j-1)
    sigma(-t)^(m+1) with no term at (p, j - 1, m); None where there is none."""
    for (p, j, m), c in table.items():
        other, target = (p, j - 1, m + 1), (p, j - 1, m)
        if (j >= 1 and other in table and target not in table
                and sp.expand(table[other] - c) == 0):
            return (p, j, m), other, target
    return None


def _bernstein(p, x: sp.Symbol) -> list[sp.Expr]:
    """Bernstein coefficients b_k of sum_i p[i] s^i = sum_k C(d, k) b_k s^k (1 - s)^(d - k)
    (d = len(p) - 1), as polynomials in x with factored coefficients."""
    d = len(p) - 1
    return [_tidy_polynomial(sum(sp.binomial(k, i) / sp.binomial(d, i) * p[i]
                                 for i in range(k + 1)), x) for k in range(d + 1)]


def _ends_cancel(bern, x: sp.Symbol) -> bool:
    """Whether the Bernstein form of degree d >= 2 cancels where sigma(t) ~ sigma(-t): its
    end coefficients b0, bd have a ratio free of x that may be negative (Sqish's d/dx,
    a sigma(-t)^2 + sigma(t)^2 + ..., is sigma(t) - sigma(-t) ~ t/2 at a = -1 from terms
    ~ 1/4: all digits lost as t -> 0).  With s + (1 - s) = 1, the ends alone are
    b0 sigma(-t)^d + bd sigma(t)^d = b0 sigma(-t) + bd sigma(t) - sigma(t) sigma(-t) R,
    whose linear part has a zero that :func:`_through_zero` evaluates without cancellation."""
    if len(bern) < 3 or bern[-1] == 0 or bern[0] == 0:
        return False
    rho = sp.cancel(bern[0] / bern[-1])
    return not rho.has(x) and not rho.is_nonnegative


def _zero_factor(p, x: sp.Symbol):
    """A factor l0 (1 - s) + l1 s of P = sum_i p[i] s^i whose zero s0 = l0 / (l0 - l1) is a
    sigmoid value free of x (l0 / l1 free of x and possibly negative), with the cofactor:
    ([l0, l1], coefficients of P / that factor), or None.  In the Bernstein basis of P the
    factor's sign change is a cancellation between terms (sigma(-t) - sigma(t) ~ -t/2 at
    t -> 0); taken out, it is evaluated through its zero by :func:`_through_zero`."""
    s = sp.Dummy("s")
    poly_expr = sum(c * s**i for i, c in enumerate(p))
    try:
        _, factors = sp.factor_list(poly_expr, s)
    except sp.PolynomialError:
        return None
    for f, _ in factors:
        fp = sp.Poly(f, s)
        if fp.degree() != 1:
            continue
        l0, l1 = sp.expand(fp.eval(0)), sp.expand(fp.eval(1))
        if l0 == 0 or l1 == 0:
            continue
        rho = sp.cancel(l0 / l1)
        if rho.has(x) or rho.is_nonnegative:
            continue
        q, rem = sp.div(sp.Poly(poly_expr, s), fp)
        if not rem.is_zero:
            continue
        return [l0, l1], [sp.expand(q.coeff_monomial(s**i)) for i in range(q.degree() + 1)]
    return None


def _inner(p, x: sp.Symbol) -> list[sp.Expr]:
    """Coefficients (in s) of Q = (P - P(0) (1 - s) - P(1) s) / (s (1 - s)) for
    P = sum_i p[i] s^i, exact polynomial division (P - its chord vanishes at s = 0, 1)."""
    s = sp.Dummy("s")
    poly = sp.Poly(sum(c * s**i for i, c in enumerate(p)), s)
    chord = sp.Poly(poly.eval(0) * (1 - s) + poly.eval(1) * s, s)
    q, rem = sp.div(poly - chord, sp.Poly(s * (1 - s), s))
    if not rem.is_zero:  # cannot happen: P - chord vanishes at s = 0 and s = 1
        raise ArithmeticError(f"_inner: P - chord not divisible by s (1 - s) (rest {rem})")
    if q.is_zero:
        return [sp.S.Zero]
    return [sp.expand(q.coeff_monomial(s**i)) for i in range(q.degree() + 1)]


def _through_zero(bernstein: sp.Expr, bern, t, sig, x) -> sp.Expr:
    """b0 sigma(-t) + b1 sigma(t) with rho = b0/b1 free of x and possibly negative (Sqish's
    gate a + (1 - a) sigma(t) for a < 0) cancels where t = t0 = log(-rho).  There it is
    evaluated as -b1 sigma(t) expm1(t0 - t) (exact: sigma(t) + rho sigma(-t) =
    sigma(t) (1 + rho e^{-t})), whose relative error stays bounded through the zero;
    elsewhere (|t - t0| >= 1) the Bernstein form, which has no cancellation there."""
    rho = sp.cancel(bern[0] / bern[1]) if bern[1] != 0 else None
    if rho is None or rho.has(x) or rho.is_nonnegative or rho == 0:
        return bernstein
    t0 = sp.log(-rho)
    near = _times_polynomial(-sig * Expm1(t0 - t), bern[1], x)
    cond = sp.And(rho < 0, sp.Abs(t - t0) < 1) if not rho.is_negative else sp.Abs(t - t0) < 1
    return sp.Piecewise((near, cond), (bernstein, True))


def _times_polynomial(basis: sp.Expr, b: sp.Expr, x: sp.Symbol, tails=None) -> sp.Expr:
    """basis * b(x) with every power of x applied to the basis first (``XTimes``);
    ``tails`` = (c, d, j, m) when basis = B sigma(s)^j sigma(-s)^m, s = c x + d (see
    :func:`_underflow_safe`)."""
    try:
        poly = sp.Poly(sp.expand(b), x)
    except sp.PolynomialError:
        return basis * b
    out = []
    for (k,), c in poly.terms():
        c = sp.factor(c)
        if k and tails is not None:
            # the coefficient inside: a sigma(s)^j x^k that underflows, multiplied by
            # beta = 100 afterwards, would not come back (Swish_100's d/dx near x = -7.1)
            out.append(_underflow_safe(c * basis, x, k, *tails))
        else:
            out.append(c * (XTimes(basis, x, k) if k else basis))
    return sp.Add(*out)


def _underflow_safe(basis, x, k, c, d, j, m):
    """basis x^k with basis = B sigma(s)^j sigma(-s)^m, s = c x + d, as ``TailTimes``.
    Where j s < -600 (and s < -80), sigma(s)^j is below 2^-865 and underflows (float64
    beyond j s = -708) while sigma(s) x^k need not (Swish_100 at x = -7.1 is -3.8e-308):
    the runtime's ``_tail_times`` evaluates it there as ((B sigma(s/2)^j) x^k) sigma(s/2)^j,
    both factors far from underflow (elsewhere plainly: sigma(s/2)'s rounding counts
    twice in that form).  sigma(s) = sigma(s/2)^2 (1 + e^{s/2})^2 / (1 + e^s) =
    sigma(s/2)^2 (1 + O(2 e^{s/2})) and sigma(-s) = 1 - O(e^s): relative error below
    2 e^{-40} = 2^-56.7 (0.08 ULP of float64).  The same for m s > 600 with sigma(-s).  Only
    the float64 (``exact``) path needs it: a float32 result computed in float64 never
    meets float64's underflow."""
    if not (j or m):
        return XTimes(basis, x, k)
    bcoeff = basis.as_independent(x, as_Add=False)[0]
    return TailTimes(basis, x, k, c, d, j, m, bcoeff)


def _tidy_linear(t: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """c x + d with c and d factored (so that 2 gamma (1 - a) is one scalar)."""
    t = sp.expand(t)
    c = t.coeff(x)
    return sp.factor(c) * x + sp.factor(sp.expand(t - c * x))


def _tidy_polynomial(b: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """A polynomial in x with factored coefficients (or the factored expression)."""
    b = sp.expand(b)
    try:
        poly = sp.Poly(b, x)
    except sp.PolynomialError:
        return sp.factor_terms(b)
    return sp.Add(*[sp.factor(c) * x**k for (k,), c in poly.terms()])


def _polynomial_limit(p: sp.Expr, x: sp.Symbol, direction: int) -> sp.Expr | None:
    """lim_{x -> direction*oo} p(x) for a polynomial in x with parameter coefficients,
    as a Piecewise over which leading coefficients vanish."""
    if not p.has(x):
        return p
    try:
        poly = sp.Poly(p, x)
    except sp.PolynomialError:
        return None
    coeffs = poly.all_coeffs()  # highest degree first
    deg = poly.degree()
    pieces = []
    for i, c in enumerate(coeffs[:-1]):
        k = deg - i
        signed = c * (direction ** k)
        if c.is_number:
            if c == 0:
                continue
            pieces.append((InfTimes(signed), True))
            break
        pieces.append((InfTimes(signed), sp.Ne(c, 0)))
    else:
        pieces.append((coeffs[-1], True))
    if len(pieces) == 1:
        return pieces[0][0]
    return sp.Piecewise(*pieces)
