"""Print SymPy expressions as PyTorch or Triton source.

A small printer of its own (SymPy's ``TorchPrinter`` mishandles ``Max``/``Heaviside`` and
cannot print ``log1p``/``expm1``): it knows the vocabulary of :mod:`gemsym.codegen.stable`
(``IPow``, ``Sigmoid``, ``InfTimes``) and raises ``NotImplementedError`` naming any function
it cannot print for the chosen target, so that a family without a Triton translation falls
back to the PyTorch path instead of producing wrong code.

Integer exponents that depend on N are printed as Python integer expressions (N is a Python
``int`` at run time for PyTorch, a ``tl.constexpr`` in a Triton kernel).
"""

from __future__ import annotations

from typing import Callable

import sympy as sp

from .stable import R, InfTimes, IPow, Sigmoid, SigmoidLinear, XTimes

__all__ = ["Printer", "TORCH", "TRITON"]

_PREC_ATOM, _PREC_MUL, _PREC_ADD = 3, 2, 1


class Printer:
    """Expression printer for one target (``'torch'`` or ``'triton'``)."""

    def __init__(self, target: str, int_names: set[str] = frozenset(), x_name: str = "x"):
        if target not in ("torch", "triton"):
            raise ValueError(f"target must be 'torch' or 'triton' (got {target!r})")
        self.target = target
        self.x_name = x_name
        self.int_names = set(int_names)
        self.ns = "torch" if target == "torch" else "tl"

    # ------------------------------------------------------------------ entry
    def __call__(self, e: sp.Expr) -> str:
        return self._p(sp.sympify(e))[0]

    def integer(self, e: sp.Expr) -> str:
        """An integer exponent linear in the integer parameters, e.g. ``(2*N + 1)``."""
        e = sp.sympify(e)
        if e.is_Symbol and e.name.startswith("("):
            return e.name
        e = sp.expand(e)
        terms = []
        for t in sp.Add.make_args(e):
            c, rest = t.as_coeff_Mul()
            names = {s.name for s in rest.free_symbols}
            if not (c.is_Integer and names <= self.int_names and (rest == 1 or rest.is_Symbol)):
                raise NotImplementedError(f"exponent {e} is not an integer expression")
            if rest == 1:
                terms.append(str(int(c)))
            elif c == 1:
                terms.append(rest.name)
            else:
                terms.append(f"{int(c)}*{rest.name}")
        return "(" + " + ".join(terms).replace("+ -", "- ") + ")"

    # ------------------------------------------------------------------ core
    def _p(self, e: sp.Expr) -> tuple[str, int]:
        if e.is_Integer:
            v = int(e)
            return (f"{v}" if v >= 0 else f"({v})"), _PREC_ATOM
        if e.is_Rational:
            v = float(e)
            return (repr(v) if v >= 0 else f"({v!r})"), _PREC_ATOM
        if e.is_Float:
            v = float(e)
            return (repr(v) if v >= 0 else f"({v!r})"), _PREC_ATOM
        if e.is_number and e.is_real and e.is_finite and not e.atoms(sp.Function) - e.atoms(
                sp.exp, sp.log):
            v = float(e)  # constants such as pi, sqrt(2), log(2): folded in double
            return (repr(v) if v >= 0 else f"({v!r})"), _PREC_ATOM
        if e is sp.S.Infinity:
            return ("float('inf')", _PREC_ATOM)
        if e is sp.S.NegativeInfinity:
            return ("float('-inf')", _PREC_ATOM)
        if e.is_Symbol:
            return _name(e), _PREC_ATOM
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e)
        handler = self._functions().get(type(e).__name__)
        if handler is None:
            raise NotImplementedError(
                f"{self.target} printer: cannot print {type(e).__name__} (in {e})"
            )
        return handler(e), _PREC_ATOM

    def _wrap(self, e: sp.Expr, prec: int) -> str:
        s, p = self._p(e)
        return s if p >= prec else f"({s})"

    def _add(self, e: sp.Add) -> tuple[str, int]:
        parts = []
        for i, term in enumerate(e.as_ordered_terms()):
            c, rest = term.as_coeff_Mul()
            if i and c.is_number and c < 0:
                parts.append(" - " + self._wrap(-term, _PREC_MUL))
            else:
                parts.append((" + " if i else "") + self._wrap(term, _PREC_MUL))
        return "".join(parts), _PREC_ADD

    def _mul(self, e: sp.Mul) -> tuple[str, int]:
        c, rest = e.as_coeff_Mul()
        if c.is_number and c < 0:
            inner = self._mul_positive(-e)
            return f"-{inner}", _PREC_MUL
        return self._mul_positive(e), _PREC_MUL

    def _mul_positive(self, e: sp.Expr) -> str:
        num, den = [], []
        for f in sp.Mul.make_args(e):
            if f.is_Pow and f.exp.is_Integer and f.exp < 0:
                den.append(f.base ** (-f.exp))
            elif f.is_Rational and not f.is_Integer and f.p == 1:
                den.append(sp.Integer(f.q))
            else:
                num.append(f)
        head = "*".join(self._wrap(f, _PREC_MUL + 1) for f in num) or "1"
        if not den:
            return head
        tail = "*".join(self._wrap(f, _PREC_MUL + 1) for f in den)
        if self.target == "triton":
            return self._div(head, tail)
        if len(den) > 1:
            tail = f"({tail})"
        return f"{head}/{tail}"

    def _div(self, num: str, den: str) -> str:
        """num/den; in Triton '/' is div.full.f32 on NVIDIA GPUs (up to 2 ulp, exact in the
        interpreter), so the kernels ask for IEEE division to keep the 4-ulp bounds."""
        if self.target == "triton":
            return f"_div({num}, {den}, PRECISE)"
        return f"{num}/{den}"

    def _pow(self, e: sp.Pow) -> tuple[str, int]:
        b, k = e.base, e.exp
        if k.is_Integer:
            k = int(k)
            if k < 0:
                return self._div("1", self._wrap(b ** (-k), _PREC_MUL + 1)), _PREC_MUL
            base = self._wrap(b, _PREC_MUL + 1)
            if k == 1:
                return self._p(b)
            if b.is_Atom and k <= 4:
                return "*".join([base] * k), _PREC_MUL
            if k == 2:
                return f"_sq({self(b)})", _PREC_ATOM
            return f"_ipow({self(b)}, {k}{self._precision_arg})", _PREC_ATOM
        if k == sp.S.Half:
            return self._call("sqrt", b), _PREC_ATOM
        if k == -sp.S.Half:
            return self._div("1", self._call("sqrt", b)), _PREC_MUL
        if b == sp.E:
            return self._call("exp", k), _PREC_ATOM
        raise NotImplementedError(f"{self.target} printer: cannot print the power {e}")

    def _call(self, fn: str, arg: sp.Expr) -> str:
        a = self(arg)
        if self.target == "torch":
            return f"torch.{fn}({a})"
        if fn == "sqrt":
            return f"tl.sqrt_rn({a})"
        if fn == "exp":
            return f"_exp({a})"
        if fn in ("log", "abs"):
            return f"tl.{fn}({a})"
        raise NotImplementedError(f"triton printer: no {fn}")

    # ------------------------------------------------------------------ functions
    def _functions(self) -> dict[str, Callable[[sp.Expr], str]]:
        t = self.target
        table = {
            "IPow": self._ipow,
            "Sigmoid": lambda e: (f"torch.sigmoid({self(e.args[0])})" if t == "torch"
                                  else f"_sigmoid({self(e.args[0])}, PRECISE)"),
            "exp": lambda e: self._call("exp", e.args[0]),
            "log": self._log,
            "Abs": lambda e: self._call("abs", e.args[0]),
            "InfTimes": self._inf_times,
            "XTimes": self._x_times,
            "SigmoidLinear": self._sigmoid_linear,
            "Piecewise": self._piecewise,
        }
        if t == "torch":
            table.update({
                "erf": lambda e: f"torch.special.erf({self(e.args[0])})",
                "tanh": lambda e: f"torch.tanh({self(e.args[0])})",
                "sin": lambda e: f"torch.sin({self(e.args[0])})",
                "cos": lambda e: f"torch.cos({self(e.args[0])})",
            })
        return table

    def _ipow(self, e: IPow) -> str:
        base, k = e.args
        if base == R:
            # r**k = 1/x**k: one rounding for the reciprocal instead of k of them
            return f"({self._div('1.0', self._ipow(IPow(sp.Symbol(self.x_name, real=True), k)))})"
        b = self(base)
        if k.is_Integer:
            k = int(k)
            if k == 2:
                return f"({_atom(b)}*{_atom(b)})"
        return f"_ipow({b}, {self.integer(k)}{self._precision_arg})"

    @property
    def _precision_arg(self) -> str:
        """The PyTorch helpers take the formula's ``exact`` flag (see ``_runtime._plan``), the
        Triton helpers the kernel's ``PRECISE`` flag (compensated steps for float32 data,
        plain ones for 16-bit data, whose 1-ulp bound they meet with a wide margin)."""
        return ", exact" if self.target == "torch" else ", PRECISE"

    def _sigmoid_linear(self, e: SigmoidLinear) -> str:
        c, var, d = e.args
        # sigma(-(c x + d)) is printed through the same s = c x + d as its partner
        # sigma(c x + d), so that a fused kernel (Inductor's CSE, Triton's) evaluates s, its
        # rounding error and the exponential once
        neg = c.could_extract_minus_sign() and (d == 0 or d.could_extract_minus_sign())
        if neg:
            c, d = -c, -d
        args = f"{self(c)}, {self(var)}, {self(d)}"
        if self.target == "triton":
            return f"_sigmoid_lin({args}, {neg}, PRECISE)"
        return f"_sigmoid_lin({args}, exact{', True' if neg else ''})"

    def _x_times(self, e: XTimes) -> str:
        value, var, k = e.args
        return "(" + "*".join([_atom(self(value))] + [self(var)] * int(k)) + ")"

    def _log(self, e: sp.Expr) -> str:
        arg = e.args[0]
        if self.target == "torch" and arg.is_Add:
            one = [a for a in arg.args if a == 1]
            if one:
                rest = arg - 1
                return f"torch.log1p({self(rest)})"
        return self._call("log", arg)

    def _inf_times(self, e: InfTimes) -> str:
        if e.args[0].is_number:
            return "float('inf')" if e.args[0] > 0 else "float('-inf')"
        c = self(e.args[0])
        if self.target == "torch":
            return f"_inf_times({c})"
        return f"tl.where({_atom(c)} > 0, float('inf'), float('-inf'))"

    def _piecewise(self, e: sp.Piecewise) -> str:
        *head, (last, cond) = e.args
        out = self(last)
        where = "torch.where" if self.target == "torch" else "tl.where"
        for value, cond in reversed(head):
            out = f"{where}({self._cond(cond)}, {self(value)}, {out})"
        return out

    def _cond(self, c) -> str:
        ops = {sp.Ne: "!=", sp.Eq: "==", sp.StrictLessThan: "<", sp.LessThan: "<=",
               sp.StrictGreaterThan: ">", sp.GreaterThan: ">="}
        for cls, op in ops.items():
            if isinstance(c, cls):
                return f"({self(c.lhs)} {op} {self(c.rhs)})"
        raise NotImplementedError(f"{self.target} printer: cannot print the condition {c}")


def _atom(s: str) -> str:
    return s if s.replace("_", "").isalnum() else f"({s})"


def _name(sym: sp.Symbol) -> str:
    return {"epsilon": "eps"}.get(sym.name, sym.name)


TORCH = "torch"
TRITON = "triton"
