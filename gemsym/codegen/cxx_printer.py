"""Print the stable forms as scalar C++ for the ahead-of-time CPU kernels.

:class:`CxxPrinter` prints the same derived expressions the :class:`~.printer.TorchPrinter`
prints (the stable forms of :mod:`gemsym.codegen.stable` and :mod:`gemsym.codegen.rules`),
one element at a time in ``double``: the kernels of ``_cpu_kernels.cpp`` compute float32
and 16-bit inputs in double (``EXACT`` false, as the PyTorch path computes float32 in
float64) and float64 inputs in double with the compensated steps the PyTorch path takes
when ``exact`` (``EXACT`` true: integer powers by ``std::pow``, Dekker/Knuth corrections of
sigmoid arguments).  The helpers it names (``_where``, ``_ipow``, ``_sigmoid_lin``, ...)
are defined in ``runtime/_cpu_kernel_helpers.h``, which opens the generated source.

Every temporary is a ``double`` (integer parameters too), so no quotient is an integer
division; integer exponents are converted to ``long`` by ``_ipow``.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import hypot

from .printer import _PREC_ATOM, CodePrinter, _sigmoid_linear_args
from .stable import InfTimes, SigmoidLinear, SigmoidRatio

__all__ = ["CxxPrinter", "CXX_KEYWORDS", "declaration"]

#: C++ keywords and names of the generated kernels a parameter may not take (a parameter
#: so named is printed with a trailing underscore).
CXX_KEYWORDS = frozenset({
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "class", "compl", "const", "constexpr", "const_cast", "continue",
    "decltype", "default", "delete", "do", "double", "dynamic_cast", "else", "enum",
    "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline",
    "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr",
    "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "return", "short", "signed", "sizeof", "static", "static_assert",
    "static_cast", "struct", "switch", "template", "this", "throw", "true", "try", "typedef",
    "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
    "while", "xor", "xor_eq", "std", "at", "c10", "EXACT", "out", "p", "g", "n",
})


class CxxPrinter(CodePrinter):
    """Scalar C++ (``double``) for one element; the kernels are templates on ``EXACT``."""

    target = "cxx"
    infinity = "_INF"
    where = "_where"
    select = "_where"
    divide_once = True
    # sigma(s) and sigma(-s) of one s from one _sigmoid_pair (one exponential and, for
    # float32 and 16-bit inputs, one division): GCC did not merge two _sigmoid_lin calls
    pair_sigmoids = True
    functions = {
        # _exp, _expm1, _log1p, _tanh, _sigmoid: branch-free on the kernels' float32 and 16-bit
        # path (the element loops then vectorise), libm's on the EXACT one
        # (runtime/_cpu_kernel_math.h, _cpu_kernel_helpers.h)
        "exp": "_exp<EXACT>", "log": "std::log", "log1p": "_log1p<EXACT>",
        "expm1": "_expm1<EXACT>", "Expm1": "_expm1<EXACT>", "Abs": "std::fabs",
        "tanh": "_tanh<EXACT>", "Sigmoid": "_sigmoid<EXACT>",
        "erf": "std::erf", "erfc": "std::erfc", "Erfc": "std::erfc", "sin": "std::sin",
        "cos": "std::cos", "sinh": "std::sinh", "cosh": "std::cosh", "atan": "std::atan",
        "sign": "_sign",
    }

    @property
    def precision_arg(self) -> str:
        return ", EXACT"

    def _print_Infinity(self, e):
        return "_INF", _PREC_ATOM

    def _print_NegativeInfinity(self, e):
        return "(-_INF)", _PREC_ATOM

    def _print_Symbol(self, e: sp.Symbol):
        text, prec = super()._print_Symbol(e)
        return (text + "_" if text in CXX_KEYWORDS else text), prec

    def _sqrt(self, b: sp.Expr) -> str:
        return f"std::sqrt({self(b)})"

    def exact_only(self, chosen: str, otherwise: str) -> str:
        # EXACT is a template parameter: the other side and its temporaries are dropped
        return f"(EXACT ? {chosen} : {otherwise})"

    def smallest_normal(self) -> str:
        return "2.2250738585072014e-308"  # DBL_MIN: the kernels compute in double

    def overflow_bound(self, k: str) -> str:
        # the kernels compute in double whatever the tensor's dtype
        return f"std::pow(1.7976931348623157e308, 1.0/std::max(1.0, double({k})))"

    def _real_power(self, b: sp.Expr, k: sp.Expr) -> str:
        return f"std::pow({self(b)}, {self(k)})"

    def _print_hypot(self, e: hypot):
        # libm's on the EXACT path, the branch-free one (vectorised) elsewhere
        a, b = e.args
        return f"_hypot<EXACT>({self(a)}, {self(b)})", _PREC_ATOM

    def _print_Max(self, e: sp.Max):
        return self._fold("_max", e), _PREC_ATOM

    def _print_Min(self, e: sp.Min):
        return self._fold("_min", e), _PREC_ATOM

    def _fold(self, fn: str, e: sp.Expr) -> str:
        # NaN-propagating, as torch.maximum / clamp_min (std::fmax is not)
        out = self(e.args[0])
        for a in e.args[1:]:
            out = f"{fn}({out}, {self(a)})"
        return out

    def _print_SigmoidLinear(self, e: SigmoidLinear):
        c, var, d, neg = _sigmoid_linear_args(e)
        return (f"_sigmoid_lin({self(c)}, {self(var)}, {self(d)}, EXACT, "
                f"{'true' if neg else 'false'})"), _PREC_ATOM

    def _print_SigmoidRatio(self, e: SigmoidRatio):
        p, n, c, var, d = e.args
        return (f"_sigmoid_ratio({self(p)}, {self(n)}, {self(-c)}, {self(var)}, "
                f"{self(-d)}, EXACT)"), _PREC_ATOM

    def _print_InfTimes(self, e: InfTimes):
        if e.args[0].is_number:
            return ("_INF" if e.args[0] > 0 else "(-_INF)"), _PREC_ATOM
        return f"_inf_times({self(e.args[0])})", _PREC_ATOM

    def _cond(self, c) -> str:
        # '&' and '|' of parenthesised booleans, not '&&' and '||': both sides are pure, and
        # a short circuit is a branch in the element loop that the vectoriser must undo
        if isinstance(c, sp.And):
            return " & ".join(f"({self._cond(a)})" for a in c.args)
        if isinstance(c, sp.Or):
            return " | ".join(f"({self._cond(a)})" for a in c.args)
        if isinstance(c, sp.Symbol):  # a condition shared by sp.cse, declared as a double
            return f"({self(c)} != 0.0)"
        return super()._cond(c)


def declaration(line: str) -> str:
    """``name = value`` (a line of :func:`~.body.body_lines`) as a C++ declaration;
    ``a, b = value`` (a sigmoid pair or trio) as a structured binding."""
    indent = line[:len(line) - len(line.lstrip())]
    name, value = line.strip().split(" = ", 1)
    if name == "x":  # the clamped input (``narrow.Clamp``): the function's own parameter
        return f"{indent}x = {value};"
    if ", " in name:
        return f"{indent}const auto [{name}] = {value};"
    return f"{indent}const double {name} = {value};"

