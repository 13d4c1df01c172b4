r"""\int_0^oo (A(u) erfc(a u))^2 du for a polynomial A and a > 0, by two integrations by
parts that leave only Gaussian moments (SymPy's ``integrate`` takes minutes on erfc^2).

With R(u) = \int_0^u A^2 (a polynomial, R(0) = 0) and erfc' = -(2a/sqrt pi) e^{-a^2 u^2}:

    \int_0^oo A^2 erfc^2 du = (4a/sqrt pi) \int_0^oo R e^{-a^2 u^2} erfc(a u) du     (1)

(the boundary term R erfc^2 vanishes at 0 and at oo).  Writing R e^{-a^2u^2} =
d/du(-S e^{-a^2 u^2}) + c e^{-a^2 u^2} with a polynomial S (-S' + 2 a^2 u S = R - c), and
\int_0^oo e^{-a^2 u^2} erfc(a u) du = sqrt(pi)/(4a) (since d/du erfc(a u)^2 =
-(4a/sqrt pi) e^{-a^2 u^2} erfc(a u), and erfc(0)^2 - erfc(oo)^2 = 1),

    \int_0^oo R e^{-a^2 u^2} erfc(a u) du = S(0) - (2a/sqrt pi) \int_0^oo S e^{-2a^2u^2} du
                                            + c sqrt(pi)/(4a),                      (2)

and \int_0^oo u^m e^{-b u^2} du = Gamma((m+1)/2) / (2 b^{(m+1)/2}).  GELU_beta - ReLU is
-|x| Phi(-|x|) = -(|x|/2) erfc(|x|/sqrt 2): ||GELU - ReLU||_2^2 = (4 sqrt 2 - 5)/(6 sqrt pi).
"""

from __future__ import annotations

import sympy as sp

__all__ = ["erfc_square_integral"]


def _split(h: sp.Expr, u: sp.Symbol) -> tuple[sp.Expr, sp.Expr] | None:
    """(A, a) with h = A(u) erfc(a u), A a polynomial in u and a > 0; None otherwise."""
    h = sp.expand(h.rewrite(sp.erfc))
    atoms = h.atoms(sp.erfc)
    if len(atoms) != 1:
        return None
    (e,) = atoms
    a = sp.simplify(e.args[0] / u)
    if a.has(u) or not a.is_positive:
        return None
    A = sp.cancel(h / e)
    if A.has(sp.erfc) or not A.is_polynomial(u):
        return None
    return sp.expand(A), a


def _moment(m: int, b: sp.Expr) -> sp.Expr:
    """\\int_0^oo u^m e^{-b u^2} du."""
    return sp.gamma(sp.Rational(m + 1, 2)) / (2 * b ** sp.Rational(m + 1, 2))


def _reduce(R: sp.Poly, a: sp.Expr) -> tuple[sp.Poly, sp.Expr]:
    """(S, c) with -S' + 2 a^2 u S = R - c (top-down undetermined coefficients)."""
    u = R.gen
    S = sp.Poly(0, u)
    rest = R
    while rest.degree() >= 1:
        k, lead = rest.degree(), rest.LC()
        term = sp.Poly(lead / (2 * a**2) * u ** (k - 1), u)
        S += term
        rest -= -term.diff(u) + sp.Poly(2 * a**2 * u, u) * term
    return S, rest.as_expr()


def erfc_square_integral(h: sp.Expr, u: sp.Symbol) -> sp.Expr | None:
    """\\int_0^oo h(u)^2 du when h = A(u) erfc(a u) (A polynomial, a > 0), exactly by (1)
    and (2) of the module docstring; None for any other h."""
    split = _split(h, u)
    if split is None:
        return None
    A, a = split
    R = sp.Poly(sp.integrate(A**2, (u, 0, u)), u)
    if R.is_zero:
        return sp.S.Zero
    S, c = _reduce(R, a)
    gauss = sum((coef * _moment(m, 2 * a**2) for (m,), coef in S.terms()), sp.S.Zero)
    inner = S.eval(0) - 2 * a / sp.sqrt(sp.pi) * gauss + c * sp.sqrt(sp.pi) / (4 * a)
    return sp.collect(sp.expand(sp.radsimp(4 * a / sp.sqrt(sp.pi) * inner)), 1 / sp.sqrt(sp.pi))
