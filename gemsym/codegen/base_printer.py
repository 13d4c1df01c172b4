"""The target-independent part of the code printers: SymPy expression -> source text.

:class:`CodePrinter` dispatches on the expression's class, looking for ``_print_<Class>``
along the class hierarchy (as SymPy's printers do), handles precedence and signs, and folds
numeric constants.  A target is a subclass (:mod:`.torch_printer`, :mod:`.triton_printer`,
:mod:`.cxx_printer`) that holds its table of function names and the methods where the
target differs (division, square roots, integer powers, the helpers of
:mod:`gemsym.codegen.stable`'s vocabulary).  A construct a target cannot print raises
:class:`UnsupportedConstruct` naming it.

Integer exponents that depend on N are printed as Python integer expressions (N is a Python
``int`` at run time for PyTorch, a ``tl.constexpr`` in a Triton kernel).
"""

from __future__ import annotations

from typing import Callable, Mapping

import sympy as sp
from sympy.codegen.cfunctions import log1p

from .compensated import Factored, cancels, factor_roots
from .stable import R, IPow, PowTimes, SmallestNormal, XTimes
from .stable import _sigmoid_linear_args  # noqa: F401  (the printers import it from here)

__all__ = ["UnsupportedConstruct", "CodePrinter"]

_PREC_ATOM, _PREC_MUL, _PREC_ADD = 3, 2, 1

_RELATIONS = {sp.Ne: "!=", sp.Eq: "==", sp.StrictLessThan: "<", sp.LessThan: "<=",
              sp.StrictGreaterThan: ">", sp.GreaterThan: ">="}


class UnsupportedConstruct(NotImplementedError, ValueError):
    """An expression the chosen target cannot evaluate (the message names it)."""


class CodePrinter:
    """Target-independent printing: class dispatch, precedence, numbers, sums, products."""

    target = ""
    #: +oo in the infinity tests of the branch bodies (``body._at_infinity``)
    infinity = "math.inf"
    #: SymPy function class name -> name of the target's function of one argument.
    functions: Mapping[str, str] = {}

    def __init__(self, int_names=frozenset(), x_name: str = "x",
                 exponents: Mapping[sp.Symbol, sp.Expr] | None = None):
        self.x_name = x_name
        self.int_names = set(int_names)
        #: atoms that stand for an integer exponent expression in the integer parameters
        #: (kept atomic through ``sp.cse``; printed as that expression)
        self.exponents = dict(exponents or {})

    def clamp(self, lo: sp.Expr | None, hi: sp.Expr | None) -> str:
        """x clamped into [lo, hi] (None: unbounded), NaN kept (``narrow.Clamp``): the
        runtime helper ``_clamp``."""
        bound = lambda v, sign: (f"{sign}{self.infinity}" if v is None  # noqa: E731
                                 else repr(float(v)))
        return f"_clamp({self.x_name}, {bound(lo, '-')}, {bound(hi, '')})"

    def linear_tail(self, value: str, hi: sp.Expr) -> str:
        """``value`` (a body at x clamped to ``hi``) plus the rest of the line beyond hi,
        min(hi - x0, 0) subtracted (``narrow.Clamp.tail``): +0 for x0 <= hi, so a -0
        stays -0; NaN stays NaN."""
        return f"({value}) - _clamp({float(hi)!r} - x0, -{self.infinity}, 0.0)"

    # ------------------------------------------------------------------ entry
    def __call__(self, e: sp.Expr) -> str:
        return self._p(sp.sympify(e))[0]

    def prepare(self, e: sp.Expr) -> sp.Expr:
        """``e`` as this target prints it, before common subexpressions are extracted (a
        target that evaluates some function of a product as one helper marks it here, so
        that ``sp.cse`` does not split the product off)."""
        return e

    #: (symbol, expression) pairs of ``sp.cse`` for the expressions being printed (set by
    #: ``body_lines``; a target that re-evaluates a subexpression expands them)
    definitions: tuple = ()

    def _expanded(self, e: sp.Expr) -> sp.Expr:
        """``e`` with the common subexpressions of ``sp.cse`` substituted back (the
        double-double evaluation needs the whole expression, not rounded temporaries)."""
        for sym, value in reversed(self.definitions):
            e = e.xreplace({sym: value})
        return e

    def quotient(self, num: sp.Expr, den: sp.Expr | None, lo: float, hi: float,
                 small: bool | None) -> tuple[str, str | None]:
        """The numerator and denominator (None: no denominator) of a quotient used for
        lo < x < hi (see ``TorchPrinter.quotient``); plainly printed here."""
        return self(num), (None if den is None else self(den))

    def _cancelling(self, num: sp.Expr, lo: float, hi: float,
                    small: bool | None) -> tuple[sp.Expr, Factored | None] | None:
        """(num with the temporaries of ``sp.cse`` substituted back, num through its real
        roots or None) when num's terms cancel near a real root in lo < x < hi (|x| <= 1 or
        > 1 as ``small`` says; :func:`.compensated.cancels`, :func:`.compensated.factor_roots`);
        None when they do not (num is then printed as it stands)."""
        x = sp.Symbol(self.x_name, real=True)
        full = self._expanded(num)
        if not cancels(full, x, lo, hi, small):
            return None
        return full, factor_roots(full, x, lo, hi, large=small is False)

    def preamble(self) -> list[str]:
        """Lines a body needs before its first line (see ``TorchPrinter.preamble``)."""
        return []

    def unsupported(self, what: str, e: sp.Expr) -> UnsupportedConstruct:
        return UnsupportedConstruct(f"{self.target} printer: cannot print {what} (in {e})")

    def integer(self, e: sp.Expr) -> str:
        """An integer exponent linear in the integer parameters, e.g. ``(2*N + 1)``."""
        e = sp.expand(sp.sympify(e).xreplace(self.exponents))
        terms = []
        for t in sp.Add.make_args(e):
            c, rest = t.as_coeff_Mul()
            names = {s.name for s in rest.free_symbols}
            if not (c.is_Integer and names <= self.int_names and (rest == 1 or rest.is_Symbol)):
                raise self.unsupported(f"the exponent {e} (not an integer expression)", e)
            if rest == 1:
                terms.append(str(int(c)))
            elif c == 1:
                terms.append(rest.name)
            else:
                terms.append(f"{int(c)}*{rest.name}")
        return "(" + " + ".join(terms).replace("+ -", "- ") + ")"

    #: a name for a subexpression printed as that name (see ``body._ParameterNames``), or
    #: None; set by ``body_lines`` on the printers that memoize the parameters' expressions
    hoist: Callable[[sp.Basic], str | None] | None = None

    # ------------------------------------------------------------------ dispatch
    def _p(self, e: sp.Expr) -> tuple[str, int]:
        if self.hoist is not None:
            name = self.hoist(e)
            if name is not None:
                return name, _PREC_ATOM
        if _is_constant(e):
            return _float(float(e)), _PREC_ATOM
        for cls in type(e).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(e)
        raise self.unsupported(type(e).__name__, e)

    def _wrap(self, e: sp.Expr, prec: int) -> str:
        s, p = self._p(e)
        return s if p >= prec else f"({s})"

    # ------------------------------------------------------------------ atoms
    def _print_Integer(self, e: sp.Integer):
        v = int(e)
        return (f"{v}" if v >= 0 else f"({v})"), _PREC_ATOM

    def _print_Number(self, e: sp.Number):  # Rational, Float
        return _float(float(e)), _PREC_ATOM

    def _print_Infinity(self, e):
        return "float('inf')", _PREC_ATOM

    def _print_NegativeInfinity(self, e):
        return "float('-inf')", _PREC_ATOM

    def _print_Symbol(self, e: sp.Symbol):
        if e in self.exponents:
            return self.integer(e), _PREC_ATOM
        return {"epsilon": "eps"}.get(e.name, e.name), _PREC_ATOM

    # ------------------------------------------------------------------ arithmetic
    def _print_Add(self, e: sp.Add):
        parts = []
        for i, term in enumerate(e.as_ordered_terms()):
            c, _ = term.as_coeff_Mul()
            if i and c.is_number and c < 0:
                parts.append(" - " + self._wrap(-term, _PREC_MUL))
            else:
                parts.append((" + " if i else "") + self._wrap(term, _PREC_MUL))
        return "".join(parts), _PREC_ADD

    def _print_Mul(self, e: sp.Mul):
        c, _ = e.as_coeff_Mul()
        if c.is_number and c < 0:
            return self._mul_positive(-e, "-"), _PREC_MUL
        return self._mul_positive(e), _PREC_MUL

    def _mul_positive(self, e: sp.Expr, sign: str = "") -> str:
        num, den = [], []
        factors = sp.Mul.make_args(e)
        numbers = [f for f in factors if f.is_number]
        if any(not f.is_Rational for f in numbers) and _is_constant(sp.Mul(*numbers)):
            # one folded coefficient (x*sqrt(2)/2, not x*1.414.../2: x*1.414... overflows
            # where x*0.707... does not)
            factors = [sp.Mul(*numbers), *[f for f in factors if not f.is_number]]
        for f in factors:
            if f.is_Pow and f.exp.is_Integer and f.exp < 0:
                den.append(f.base ** (-f.exp))
            elif f.is_Rational and not f.is_Integer and f.p == 1:
                den.append(sp.Integer(f.q))
            else:
                num.append(f)
        scale = [f for f in den if f.is_Integer]
        if len(scale) == 1 and len(den) > 1 and (
                not num or int(scale[0]) & (int(scale[0]) - 1) == 0):
            # num/(q t) as (num/q)/t: q t overflows where the quotient is still a number
            # (Squareplus d/db's 1/(2 t) at x = -8.6e307); the same bits elsewhere when q is
            # a power of 2, one rounding of 1/q instead of one of q t when num is 1
            den.remove(scale[0])
            num.insert(0, 1 / scale[0])
        texts = [self._wrap(f, _PREC_MUL + 1) for f in num]
        k = self.hoist.prefix(num) if self.hoist is not None and len(num) > 1 else 0
        if 0 < k < len(num) and (k > 1 or sign):
            # the leading factors, which Python multiplies first, as one name (see
            # ``body._ParameterNames``): the same roundings, once per memo
            texts, sign = [self.hoist.named(sign + "*".join(texts[:k])), *texts[k:]], ""
        head = "*".join(texts) or "1"
        if not den:
            return sign + head
        return sign + self._divide(head, [self._wrap(f, _PREC_MUL + 1) for f in den])

    def _divide(self, num: str, den: list[str]) -> str:
        """num / (product of den)."""
        tail = "*".join(den)
        return f"{num}/({tail})" if len(den) > 1 else f"{num}/{tail}"

    def _print_Pow(self, e: sp.Pow):
        b, k = e.base, e.exp
        if b == sp.E:
            return self._p(sp.exp(k, evaluate=False))
        if k.is_Integer:
            k = int(k)
            if k < 0:
                return self._divide("1", [self._wrap(b ** (-k), _PREC_MUL + 1)]), _PREC_MUL
            if k == 1:
                return self._p(b)
            if b.is_Atom and k <= 4:
                return "*".join([self._wrap(b, _PREC_MUL + 1)] * k), _PREC_MUL
            if k == 2:
                return f"_sq({self(b)})", _PREC_ATOM
            return f"_ipow({self(b)}, {k}{self.precision_arg})", _PREC_ATOM
        if k.is_Rational and k.q == 2:
            # b**(p/2) = sqrt(b)**p: one correctly rounded square root, then a power
            root = self._sqrt(b)
            p = int(k.p)
            if p == 1:
                return root, _PREC_ATOM
            power = root if abs(p) == 1 else self._int_power(root, abs(p))
            if p < 0:
                return self._divide("1", [power if abs(p) == 1 else f"({power})"]), _PREC_MUL
            return power, _PREC_MUL
        if k.is_Rational or (k.is_number and k.is_real):
            return self._real_power(b, k), _PREC_ATOM
        raise self.unsupported(f"the power {e}", e)

    def _int_power(self, base: str, k: int) -> str:
        """A small positive power of printed text (k <= 4 by products)."""
        if k <= 4:
            return "*".join([base] * k)
        return f"_ipow({base}, {k}{self.precision_arg})"

    def _real_power(self, b: sp.Expr, k: sp.Expr) -> str:
        raise self.unsupported(f"the power {b}**({k})", b ** k)

    def _sqrt(self, b: sp.Expr) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ functions
    def _print_Function(self, e: sp.Function):
        name = self.functions.get(type(e).__name__)
        if name is None or len(e.args) != 1:
            raise self.unsupported(type(e).__name__, e)
        return f"{name}({self(e.args[0])})", _PREC_ATOM

    def _print_log(self, e: sp.log):
        arg = e.args[0]
        if isinstance(arg, sp.Symbol):
            # a temporary of ``sp.cse`` (1 + sigma shared with a quotient's denominator):
            # log1p of what it adds to 1, not log of its rounded sum (log(1 + 1e-28) = 0)
            value = dict(self.definitions).get(arg)
            if value is not None and value.is_Add and any(a == 1 for a in value.args):
                arg = value
        if arg.is_Add and any(a == 1 for a in arg.args):
            return self._p(log1p(arg - 1, evaluate=False))
        return self._print_Function(e)

    def _print_Softplus(self, e: sp.Function):
        # max(t, 0) + log1p(e^{-|t|}): no overflow, no cancellation
        return self._p(e.rewrite(sp.Max))

    def _print_Opaque(self, e: sp.Function):
        # a value SymPy must not rearrange (a condition on the product as it is evaluated)
        return self._p(e.args[0])

    def _print_XTimes(self, e: XTimes):
        value, var, k = e.args[:3]  # TailTimes: the further arguments are for the runtime
        return "(" + "*".join([_atom(self(value))] + [self(var)] * int(k)) + ")", _PREC_ATOM

    def _print_PowTimes(self, e: PowTimes):
        c, var, k, other = e.args
        k = str(int(k)) if k.is_Integer else self.integer(k)
        return f"_xtimes({self(c)}, {self(var)}, {k}, {self(other)})", _PREC_ATOM

    def _print_SmallestNormal(self, e: SmallestNormal):
        return self.smallest_normal(), _PREC_ATOM

    def smallest_normal(self) -> str:
        """The smallest positive normal number of the compute dtype."""
        raise UnsupportedConstruct(f"{self.target}: the smallest normal number")

    def overflow_bound(self, k: str) -> str:
        """The |x| beyond which x^k overflows in the compute dtype (``k`` printed)."""
        raise UnsupportedConstruct(f"{self.target}: the overflow bound of x^{k}")

    def _print_IPow(self, e: IPow):
        base, k = e.args
        if base == R:
            # r**k = 1/x**k: one rounding for the reciprocal instead of k of them
            inner = self._print_IPow(IPow(sp.Symbol(self.x_name, real=True), k))[0]
            return f"({self._divide('1.0', [inner])})", _PREC_ATOM
        b = self(base)
        if k.is_Integer and int(k) == 2:
            return f"({_atom(b)}*{_atom(b)})", _PREC_ATOM
        return f"_ipow({b}, {self.integer(k)}{self.precision_arg})", _PREC_ATOM

    def _print_Piecewise(self, e: sp.Piecewise):
        *head, (last, _) = e.args
        out = self(last)
        for value, cond in reversed(head):
            chosen = f"{self.where}({self._cond(cond)}, {self(value)}, {out})"
            out = self.exact_only(chosen, out) if isinstance(value, PowTimes) else chosen
        return out, _PREC_ATOM

    def exact_only(self, chosen: str, otherwise: str) -> str:
        """``chosen`` where the compute dtype is the output dtype, else ``otherwise``: a
        ``PowTimes`` piece matters only where x^j below the compute dtype's normal range
        can leave a normal result, which for a float64 evaluation of a narrower output
        needs parameters outside the narrow bodies' range and N >= 4 (float32 inputs'
        x^(2N) >= 2^-298 N); targets that always compute in the output's precision (or
        its float32) take it always."""
        return chosen

    def _print_Relational(self, e: sp.core.relational.Relational):
        return self._cond(e), _PREC_ATOM

    def _cond(self, c) -> str:
        if isinstance(c, sp.Symbol):  # a condition shared by ``sp.cse``
            return self(c)
        if self.hoist is not None and (name := self.hoist(c)) is not None:
            return name  # a condition on the parameters alone (see ``hoist``)
        if isinstance(c, sp.And):
            return self._and([self._cond(a) for a in c.args])
        if isinstance(c, sp.Or):
            return " | ".join(f"({self._cond(a)})" for a in c.args)
        for cls, op in _RELATIONS.items():
            if isinstance(c, cls):
                return f"({self(c.lhs)} {op} {self(c.rhs)})"
        raise self.unsupported(f"the condition {c}", c)

    def _and(self, conds: list[str]) -> str:
        return " & ".join(f"({c})" for c in conds)

    @property
    def precision_arg(self) -> str:
        return ""

    #: ``where`` of the target's expressions, and the one the assembled formulas use
    where = "where"
    select = "where"
    #: whether a |x| <= 1 / |x| > 1 pair of quotients is printed as one quotient of
    #: selected numerators and denominators (see ``body._select_then_divide``)
    divide_once = False
    #: whether each condition on x is computed once, as a named mask (see ``body``): eager
    #: PyTorch evaluates every occurrence, compilers share them anyway
    shared_masks = False
    #: whether sigma(s) and sigma(-s) of one s are printed as one ``_sigmoid_pair`` call
    #: (see ``body._cse``)
    pair_sigmoids = False
    #: whether -a/(b + c) is printed a/(-b - c), one negation fewer (see
    #: ``body._small_quotient``)
    folds_negation = False
    #: whether the code may branch on x's values where the runtime allows it (eager CPU):
    #: an output's values at x = +-oo applied after it under ``if _nonfinite(x):`` (see
    #: ``body._at_infinity_guard``), a linear tail under ``if _beyond(x0, hi):``, rather
    #: than selected or added in every evaluation
    branches_on_data = False
    #: whether exp, erfc, tanh, ... are the IEEE functions (libm's, PyTorch's), whose values
    #: at +-inf the SymPy evaluation of a form stands for (``StableForm.given``); the Triton
    #: kernels' own helpers need not be (x * erfc-product at +inf: NaN)
    ieee_functions = True
    #: whether the expressions of the parameters alone are evaluated once per ``memo``
    #: (the formulas' argument, see ``body._memoized``), rather than on every call
    memoizes_parameters = False


def _is_constant(e: sp.Expr) -> bool:
    """A real number other than an integer (constants such as pi, sqrt(2), log(2),
    rationals), folded in double precision."""
    if e.is_Integer or not e.is_number or e.is_infinite:
        return False
    if not (e.is_real and e.is_finite):
        return False
    return not (e.atoms(sp.Function) - e.atoms(sp.exp, sp.log))


def _float(v: float) -> str:
    return repr(v) if v >= 0 else f"({v!r})"


def _atom(s: str) -> str:
    return s if s.replace("_", "").isalnum() else f"({s})"
