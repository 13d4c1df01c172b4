"""Triton source: the kernels of the generated package's ``_kernels.py`` (float32 compute).

:class:`TritonPrinter` prints IEEE division and compensated powers behind the kernel's
``PRECISE`` flag, exp, log, sigmoid, tanh, erfc, sin and cos through the kernel helpers
(``runtime/_triton_*.py``), and the forms of :mod:`.kernel_forms`: functions of a
product or sum carried with its rounding error, sums of products as float32 pairs.
"""

from __future__ import annotations

import struct

import sympy as sp
from sympy.codegen.cfunctions import hypot

from .base_printer import _PREC_ATOM, CodePrinter, _atom, _float, _sigmoid_linear_args
from .compensated import Factored
from .kernel_forms import kernel_forms
from .stable import InfTimes, IPow, SigmoidLinear, XTimes

__all__ = ["TritonPrinter"]


class TritonPrinter(CodePrinter):
    """Triton source for the kernels of ``_kernels.py`` (float32 compute): IEEE division
    and compensated powers behind the kernel's ``PRECISE`` flag; exp, log, sigmoid, tanh,
    erfc, sin and cos from the kernel helpers (no libdevice, the same code in the
    interpreter and on a GPU)."""

    target = "triton"
    ieee_functions = False
    where = "tl.where"
    select = "tl.where"
    functions = {"exp": "_exp", "Abs": "tl.abs"}
    #: functions of one argument whose kernel helper takes the ``PRECISE`` flag
    precise_functions = {"sin": "_sin", "cos": "_cos", "tanh": "_tanh", "log": "_log",
                         "Sech2": "_sech2", "Erfc": "_erfc"}

    @property
    def precision_arg(self) -> str:
        return ", PRECISE"

    def smallest_normal(self) -> str:
        return "1.1754943508222875e-38"  # the kernels compute in float32

    def _print_Function(self, e: sp.Function):
        name = self.precise_functions.get(type(e).__name__)
        if name is None or len(e.args) != 1:
            return super()._print_Function(e)
        return f"{name}({self(e.args[0])}, PRECISE)", _PREC_ATOM

    # the base class writes log(1 + u) as log1p(u); the kernels take log as it stands
    _print_log = _print_Function

    def _divide(self, num: str, den: list[str]) -> str:
        """num/den; in Triton '/' is div.full.f32 on NVIDIA GPUs (up to 2 ulp, exact in the
        interpreter), so the kernels ask for IEEE division to keep the 4-ulp bounds."""
        return f"_div({num}, {'*'.join(den)}, PRECISE)"

    def _sqrt(self, b: sp.Expr) -> str:
        return f"tl.sqrt_rn({self(b)})"

    def _and(self, conds: list[str]) -> str:
        # '&' of a scalar condition (on a loaded parameter) and a block fails in the
        # interpreter; a where of booleans does not
        out = conds[-1]
        for c in reversed(conds[:-1]):
            out = f"tl.where({c}, {out}, {c})"
        return out

    def _print_Sigmoid(self, e):
        return f"_sigmoid({self(e.args[0])}, PRECISE)", _PREC_ATOM

    def _print_Add(self, e: sp.Add):
        """A sum with a product of three or more rounding factors (GELU-tanh's d/dx:
        c 2 s s' x^3 and four more roundings, 4.5 ulp at x = -4.09 where its terms cancel)
        as a sum of float32 pairs, each product carried with its rounding errors
        (``_dd_term``), rounded once; other sums as usual."""
        terms = [self._term_factors(t) for t in e.as_ordered_terms()]
        if (len(terms) < 2 or None in terms
                or max(len(f) for _, f in terms) < 3):
            return super()._print_Add(e)
        out = []
        for c, factors in terms:
            chi = _float32(float(sp.N(c, 40)))
            clo = _float32(float(sp.N(c - sp.Rational(chi), 40)))
            out.append(_dd_term(chi, clo, [self(f) for f in factors]))
        return f"_dd_value({_dd_sum(out)})", _PREC_ATOM

    def _term_factors(self, term: sp.Expr) -> tuple[sp.Expr, list[sp.Expr]] | None:
        """(numeric coefficient, up to four factors with multiplicity) of a product of
        symbols and positive integer powers of symbols, or None."""
        consts = {sym: v for sym, v in self.definitions if v.is_number}
        c, factors = sp.Integer(1), []
        for f in sp.Mul.make_args(term):
            f = consts.get(f, f)
            base, k = f.as_base_exp() if not isinstance(f, IPow) else f.args
            if f.is_number:
                c *= f
            elif isinstance(f, XTimes) and all(a.is_Symbol for a in f.args[:2]):
                # v x^k in the same order, v first (never inf * 0)
                factors += [f.args[0]] + [f.args[1]] * int(f.args[2])
            elif base.is_Symbol and base not in self.exponents and k.is_Integer and k > 0:
                factors += [base] * int(k)
            else:
                return None
        if len(factors) > 4 or not factors or not (c.is_real and c.is_finite and c != 0):
            return None
        return c, factors

    #: the power forms' quotients go through :meth:`quotient` (see ``body``)
    factors_quotients = True

    def quotient(self, num: sp.Expr, den: sp.Expr | None, lo: float, hi: float,
                 small: bool | None) -> tuple[str, str | None]:
        """num/den with num written through its real roots in lo < x < hi when its terms
        cancel there (as ``TorchPrinter.quotient``; the roots as float32 pairs hi + lo, so
        that (x - hi) - lo is exact near a root): float32 safe Pade near its zero at
        x = -0.0411 was 53.6 ulp with the plain numerator."""
        plain_num = self(num)
        plain_den = None if den is None else self(den)
        found = self._cancelling(num, lo, hi, small)
        if found is None or found[1] is None:
            return plain_num, plain_den
        return self._factored(found[1]), (None if den is None else self._den(den, plain_den))

    def _den(self, den: sp.Expr, plain: str) -> str:
        """A denominator P(x)^k (P a polynomial with numeric coefficients) with P summed as
        float32 pairs and rounded once: its rounding, doubled in f' by the square, would
        dominate the factored numerator's few ulp (safe Pade d/dx 5.1 ulp at x = -0.041);
        ``plain`` where it is not such a power."""
        x = sp.Symbol(self.x_name, real=True)
        e = self._expanded(den).replace(
            lambda t: isinstance(t, IPow), lambda t: t.args[0] ** t.args[1])
        base, k = (e.args if e.is_Pow and e.args[1].is_Integer and e.args[1] > 0
                   else (e, sp.Integer(1)))
        try:
            poly = sp.Poly(sp.expand(base), x)
        except sp.PolynomialError:
            return plain
        if poly.degree() > 4 or len(poly.terms()) < 2 or not all(
                c.is_number and c.is_real for c in poly.coeffs()):
            return plain
        value = self._dd_poly([(j, sp.Rational(c) if c.is_Float else c)
                               for (j,), c in poly.terms()])
        if k == 2:  # the square of the pair, rounded once (1.5 -> 0.5 ulp)
            return f"_dd_sq_value({value[len('_dd_value('):-1]})"
        return value if k == 1 else f"_ipow({value}, {int(k)}, PRECISE)"

    def _dd_poly(self, terms: list[tuple[int, sp.Expr | float]]) -> str:
        """sum c_j x^j (``terms``: (j <= 4, c), c exact or a double) summed as float32
        pairs (c as float32 hi + lo, products carried with their rounding errors) and
        rounded once."""
        out = []
        for j, c in terms:
            chi = _float32(float(sp.N(c, 40)))
            clo = _float32(float(sp.N(sp.Rational(c) - sp.Rational(chi), 40)))
            out.append(_dd_term(chi, clo, [self.x_name] * j))
        return f"_dd_value({_dd_sum(out)})"

    def _factored(self, f: Factored) -> str:
        x = self.x_name
        if f.large:
            # x = +-inf as the largest finite float32: (x - x_i)/x -> 1, not inf/inf
            x = (f"tl.where(_isinf({x}), tl.where({x} > 0, 3.4028234663852886e+38, "
                 f"-3.4028234663852886e+38), {x})")
        factors = []
        for hi, lo in f.roots:
            hi32 = _float32(hi)
            lo32 = _float32((hi - hi32) + lo)  # hi - hi32 is exact in double
            d = f"({x} - {_float(hi32)})"
            if lo32 != 0.0:
                d = f"({d} - {_float(lo32)})"
            factors.append(f"_div({d}, {x}, PRECISE)" if f.large else d)
        *rest, h = f.coefficients
        poly = _float(h)
        for c in reversed(rest):
            step = f"_div({poly}, {x}, PRECISE)" if f.large else f"{x}*({poly})"
            poly = step if c == 0.0 else f"{_float(c)} + {step}"
        if not f.large and 1 < len(f.coefficients) <= 5:
            # q summed as pairs: its Horner roundings were 1-2 of safe Pade d/dx's 4 ulp
            poly = self._dd_poly([(j, c) for j, c in enumerate(f.coefficients) if c != 0.0])
        return "*".join(factors + [f"({poly})"])

    def prepare(self, e: sp.Expr) -> sp.Expr:
        """The Triton forms of :mod:`.kernel_forms` (functions of a rounding product or
        sum carried with its rounding error, sech^2 for 1 - tanh^2)."""
        return kernel_forms(e)

    def _print_ExpProduct(self, e: sp.Function):
        return f"_exp_prod({self._product_args(e, 4)}, PRECISE)", _PREC_ATOM

    def _print_ErfcProduct(self, e: sp.Function):
        return f"_erfc_prod({self._product_args(e, 2)}, PRECISE)", _PREC_ATOM

    def _print_SinProduct(self, e: sp.Function):
        return f"_sin_prod({self._product_args(e, 2)}, PRECISE)", _PREC_ATOM

    def _print_CosProduct(self, e: sp.Function):
        return f"_cos_prod({self._product_args(e, 2)}, PRECISE)", _PREC_ATOM

    def _product_args(self, e: sp.Function, width: int) -> str:
        hi, lo, *factors = e.args
        return _pair_args(float(hi), float(lo), [self(f) for f in factors], width)

    def _print_SigmoidSum(self, e: sp.Function):
        args, terms = list(e.args), []
        while args:
            k = int(args[0])
            hi, lo, *factors = args[1:3 + k]
            terms.append(_dd_term(float(hi), float(lo), [self(f) for f in factors]))
            args = args[3 + k:]
        return f"_sigmoid_dd({_dd_sum(terms)}, PRECISE)", _PREC_ATOM

    def _print_Expm1(self, e: sp.Function):
        # Kahan's expm1 from exp and log (a few ulp): u = e^t, (u - 1) t / log(u), with
        # t where u rounds to 1 and -1 where u - 1 does
        t = self(e.args[0])
        u = f"_exp({t})"
        return (f"tl.where({u} == 1.0, {t}, tl.where({u} - 1.0 == -1.0, -1.0, "
                f"tl.where({u} == float('inf'), {u}, "
                f"_div(({u} - 1.0)*({t}), _log({u}, PRECISE), PRECISE))))"), _PREC_ATOM

    def _print_SigmoidLinear(self, e: SigmoidLinear):
        c, var, d, neg = _sigmoid_linear_args(e)
        return f"_sigmoid_lin({self(c)}, {self(var)}, {self(d)}, {neg}, PRECISE)", _PREC_ATOM

    # the kernels have exp, log and square roots of their own; the functions below are
    # printed through exact identities in those (decided on the expression, printed once)
    def _print_log1p(self, e: sp.Function):
        # log1p(u) = log(w) u / (w - 1) with w = 1 + u (Goldberg; u where w rounds to 1)
        u = self(e.args[0])
        w = f"(1.0 + {_atom(u)})"
        return (f"tl.where({w} == 1.0, {u}, tl.where({w} == float('inf'), {w}, "
                f"_div(_log({w}, PRECISE)*{_atom(u)}, {w} - 1.0, PRECISE)))"), _PREC_ATOM

    def _print_Max(self, e: sp.Max):
        return self._fold("tl.maximum", e), _PREC_ATOM

    def _print_Min(self, e: sp.Min):
        return self._fold("tl.minimum", e), _PREC_ATOM

    def _fold(self, fn: str, e: sp.Expr) -> str:
        out = self(e.args[0])
        for a in e.args[1:]:
            out = f"{fn}({out}, {self(a)})"
        return out

    def _print_hypot(self, e: hypot):
        # scaled, squares carried exactly (m sqrt(1 + (n/m)^2) was 1.8 ulp, ISRLU's
        # (1 + x^2)^(-3/2) = 1/hypot^3 then 6 ulp)
        a, b = (self(v) for v in e.args)
        return f"_hypot({a}, {b}, PRECISE)", _PREC_ATOM

    def _print_InfTimes(self, e: InfTimes):
        if e.args[0].is_number:
            return ("float('inf')" if e.args[0] > 0 else "float('-inf')"), _PREC_ATOM
        c = self(e.args[0])
        return f"tl.where({_atom(c)} > 0, float('inf'), float('-inf'))", _PREC_ATOM


def _pair_args(hi: float, lo: float, names: list[str], width: int) -> str:
    """The arguments of a kernel helper taking a float32 pair hi + lo and ``width`` factors
    (printed ``names``, the missing ones 1.0)."""
    return ", ".join([_float(hi), _float(lo), *names, *["1.0"] * (width - len(names))])


def _dd_term(hi: float, lo: float, names: list[str]) -> str:
    """The pair (hi + lo) times up to four printed factors, carried with its rounding
    errors."""
    return f"_dd_term({_pair_args(hi, lo, names, 4)})"


def _dd_sum(terms: list[str]) -> str:
    """The pair sum of the printed pairs ``terms``, added left to right."""
    total = terms[0]
    for t in terms[1:]:
        total = f"_dd_add({total}, {t})"
    return total


def _float32(v: float) -> float:
    """The float32 nearest ``v``."""
    return struct.unpack("f", struct.pack("f", v))[0]
