"""The PyTorch printer's ``exact`` path: the compensated steps its float64 formulas take.

The generated formulas take the ``exact`` flag (``_runtime._plan``: float64 inputs).  Where
the expression calls for it (decided by :mod:`.compensated` and :mod:`.tails`, on the
expression with the temporaries of ``sp.cse`` substituted back), a value is printed as
``(compensated if exact else plain)``:

- exp, erfc and sigmoid of an argument that rounds, the argument carried as a pair hi + lo
  (``_compensated_call``, ``_linear_sigmoid``, ``_rounded_sigmoid``);
- a product with a factor e^u that vanishes into the subnormal range (``_exp_tails``);
- a quotient whose numerator cancels near a real root (``quotient``);
- an integer power of a base holding a hypot (``_print_IPow``).

The pairs are hoisted into lines evaluated once per formula (``preamble``); the plain
spellings come from :class:`~.torch_printer.TorchPrinter`'s table.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import hypot

from .base_printer import _PREC_ATOM, CodePrinter, _atom, _float
from .compensated import COMPENSATED_FUNCTIONS, DD, Factored, argument_plan, dd_tree
from .stable import R, IPow, XTimes
from .tails import product_factors, vanishing_factors

__all__ = ["TorchExactPath"]


class TorchExactPath(CodePrinter):
    """The ``exact`` path of :class:`~.torch_printer.TorchPrinter` (its base class, not a
    target by itself)."""

    def _print_exp(self, e: sp.Function):
        return self._compensated_call(e)

    def _print_erfc(self, e: sp.Function):
        return self._compensated_call(e)

    _print_Erfc = _print_erfc
    _print_Sigmoid = _print_erfc

    def _compensated_call(self, e: sp.Function):
        """g(t) as ``helper(t as hi + lo) if exact else g(t)`` when t rounds (see
        :func:`.compensated.argument_plan`); the float32/16-bit paths keep g(t)."""
        plain, prec = self._print_Function(e)
        helper = COMPENSATED_FUNCTIONS.get(type(e).__name__)
        x = sp.Symbol(self.x_name, real=True)
        arg = self._expanded(e.args[0])
        # sigma(t) and sigma(-t) share one evaluation of t
        negate = arg.could_extract_minus_sign()
        plan = argument_plan(-arg if negate else arg, x) if helper else None
        if plan is None and helper == "_sigmoid_dd":
            return self._linear_sigmoid(arg, x, plain, prec)
        if plan is None:
            return plain, prec
        dd = self._hoist(self._dd(plan))
        return (f"({helper}({f'_dd_neg({dd})' if negate else dd}) if exact else {plain})",
                _PREC_ATOM)

    def _print_Mul(self, e: sp.Mul):
        return self._exp_tails(e, lambda: super(TorchExactPath, self)._print_Mul(e))

    def _print_XTimes(self, e: XTimes):
        return self._exp_tails(e, lambda: super(TorchExactPath, self)._print_XTimes(e))

    def _exp_tails(self, e: sp.Expr, plain) -> tuple[str, int]:
        """A product p = c v with a vanishing factor v = g e^u (:func:`.tails.vanishing_factors`,
        decided on the expression with the temporaries of ``sp.cse`` substituted back) as
        ``_exp_tail(p, c, u as hi + lo[, g]) if exact else p``: where e^u is below the
        normal range, sign(c) exp(u + log|c g|) (runtime ``_compensated._exp_tail``: e^u
        rounded into the subnormal range keeps a few bits, which c > 1 multiplies; GELU
        f at x = -37.7 was 17 ULP off, Mish f at x = -735 1030); elsewhere p, bit for bit
        (``plain()`` prints p).  c is the product of the other factors, the powers of x of
        an ``XTimes`` last.  Decided here, after ``sp.cse``: a cofactor in the expression
        tree would have shared sub-products with p and changed p's rounding order.  The
        products inside p, c and u are printed plainly (p's tail covers them)."""
        if self.__dict__.get("_in_tail"):
            return plain()
        x = sp.Symbol(self.x_name, real=True)
        factors, k = self._flat_factors(e)
        full = [self._expanded(f) for f in factors]
        tails = []
        for idx, u, g in vanishing_factors(full, x):
            numeric = sp.Mul(*[full[i] for i in range(len(factors)) if i not in idx])
            # a number c with |c| <= 2 scales e^u's subnormal rounding (<= 1/2 ULP) to at
            # most 1 ULP of c e^u; larger ones take the tail
            if k or not numeric.is_number or abs(numeric) > 2:
                tails.append((idx, u, g))
        if not tails:
            return plain()
        self._in_tail = True
        try:
            p = out = plain()[0]
            for idx, u, g in tails:
                rest = [f for i, f in enumerate(factors) if i not in idx]
                c = "*".join([_atom(self(f)) for f in rest] + [self.x_name] * k) or "1.0"
                tree = dd_tree(u, x)
                pair = (self._hoist(self._dd(tree)) if tree is not None and not tree.exact
                        else f"({self(u)}, None)")
                extra = "" if g == 1 else f", {self(g)}"
                out = f"_exp_tail({out}, {c}, {pair}{extra})"
        finally:
            self._in_tail = False
        return f"({out} if exact else {p})", _PREC_ATOM

    def _flat_factors(self, e: sp.Expr) -> tuple[list[sp.Expr], int]:
        """(factors, k) of e = product of factors times x^k (k from an ``XTimes``), with
        every temporary of ``sp.cse`` that stands for a product replaced by its factors."""
        outside, inner, k = product_factors(e)
        defs = dict(self.definitions)
        out, todo = [], outside + inner
        while todo:
            f = todo.pop(0)
            if f in defs and defs[f].is_Mul:
                todo[:0] = list(sp.Mul.make_args(defs[f]))
            else:
                out.append(f)
        return out, k

    def _linear_sigmoid(self, arg: sp.Expr, x: sp.Symbol, plain: str, prec: int):
        """sigma(c x + d) (c, d numbers) on the ``exact`` path by ``_sigmoid_lin``:
        torch.sigmoid is 0 below s = -709.78 (1/(1 + inf)) where sigma(s) = e^s is still a
        subnormal number (Mish's d/dx = tanh(sp) + x sech^2(sp) sigma(x) at x = -727 was
        +1.7e-316 against -1.25e-313); the other paths keep torch.sigmoid.  Another
        argument: ``_rounded_sigmoid``."""
        c, d = arg.coeff(x, 1), arg.coeff(x, 0)
        if not (arg.is_polynomial(x) and c.is_number and d.is_number and c != 0
                and sp.expand(arg - c * x - d) == 0):
            return self._rounded_sigmoid(arg, plain, prec)
        return (f"(_sigmoid_lin({_float(float(c))}, {self.x_name}, {_float(float(d))}, exact) if exact"
                f" else {plain})", _PREC_ATOM)

    def _rounded_sigmoid(self, arg: sp.Expr, plain: str, prec: int):
        """sigma(t) for a t that is neither linear in x nor has a double-double plan, on the
        ``exact`` path by ``_sigmoid_pair(1.0, t, 0.0, exact)``: the rounded t taken as it
        is (no argument correction), its two quotients 1/(1 + e), e/(1 + e)
        corrected for their roundings (torch.sigmoid's float64 result is up to 1.85 ULP
        off and depends on the tensor's size), and sigma(t), sigma(-t) from the same
        e = exp(-|t|), so that e's rounding cancels to (sigma(t) - sigma(-t)) times it in
        their product sech^2(t/2)/4.  Mish's d/dx = tanh(sp) + 4 x sigma(2 sp) sigma(x)
        sigma(-2 sp), float64, 10^5 inputs: 5.31 -> 3.43 ULP of the larger term (at
        x = -1.805 torch.sigmoid(-2 sp) alone was 2.07 of 4.77), TanhExp's 4.26 -> 3.19."""
        negate = arg.could_extract_minus_sign()
        # one preamble line per t for both sides, wherever they occur (a tail's cofactor
        # repeats them): t printed from x (the same operations as its temporary's)
        pair = self._hoist(f"_sigmoid_pair(1.0, {self(-arg if negate else arg)}, 0.0, exact)")
        return f"({pair}[{int(negate)}] if exact else {plain})", _PREC_ATOM

    def _hoist(self, code: str) -> str:
        """The name of a preamble line evaluating ``code`` once per formula."""
        names = self.__dict__.setdefault("_hoisted", {})
        if code not in names:
            names[code] = f"_d{len(names)}"
        return names[code]

    def preamble(self) -> list[str]:
        """The double-double values the formula uses, evaluated on the ``exact`` path only
        (they depend on x and the parameters alone)."""
        return [f"{name} = {code} if exact else None"
                for code, name in self.__dict__.get("_hoisted", {}).items()]

    def quotient(self, num: sp.Expr, den: sp.Expr | None, lo: float, hi: float,
                 small: bool | None) -> tuple[str, str | None]:
        """num/den on the ``exact`` path when num is a polynomial in x or 1/x whose terms
        cancel near a real root in lo < x < hi (|x| <= 1 or > 1 as ``small`` says): num
        written through its roots (:func:`.compensated.factor_roots`, a few ULP through
        the zero), else evaluated in double-double and rounded once; den, whose rounding
        then dominates (squared in f', cubed in f''), in double-double and rounded once."""
        plain_num = self(num)
        plain_den = None if den is None else self(den)
        found = self._cancelling(num, lo, hi, small)
        if found is None:
            return plain_num, plain_den
        full, factored = found
        x = sp.Symbol(self.x_name, real=True)
        tree = None if factored is not None else dd_tree(full, x)
        if factored is not None:
            out = f"({self._factored(factored)} if exact else {plain_num})"
        elif tree is not None and not tree.exact:
            out = f"(_dd_value({self._hoist(self._dd(tree))}) if exact else {plain_num})"
        else:
            return plain_num, plain_den
        if den is None:
            return out, None
        den_tree = dd_tree(self._expanded(den), x)
        if den_tree is None or den_tree.exact:
            return out, plain_den
        return out, f"(_dd_value({self._hoist(self._dd(den_tree))}) if exact else {plain_den})"

    def _factored(self, f: Factored) -> str:
        x = self.x_name
        if f.large:
            # x = +-inf as the largest finite value: (x - x_i)/x -> 1, not inf/inf
            x = self._hoist(f"torch.nan_to_num({x}, nan=math.nan)")
        factors = []
        for hi, lo in f.roots:
            d = f"{x} - {hi!r}" if hi > 0 else (f"{x} + {-hi!r}" if hi < 0 else x)
            if lo != 0.0:
                # the root's pair in the compute dtype (float32 on CUDA: its own hi + lo)
                pair = self._hoist(f"_ddc({_float(hi)}, {_float(lo)}, {self.x_name})")
                d = f"({x} - {pair}[0]) - {pair}[1]"
            factors.append(f"(({d})/{x})" if f.large else f"({d})")
        # Horner: q(x) = c0 + x (c1 + ...), Q(1/x) = a0 + (a1 + ...)/x
        *rest, h = f.coefficients
        poly = _float(h)
        for c in reversed(rest):
            step = f"({poly})/{x}" if f.large else f"{x}*({poly})"
            poly = step if c == 0.0 else f"{_float(c)} + {step}"
        return "*".join(factors + [f"({poly})"])

    def _dd(self, t: DD) -> str:
        """The runtime calls (``_compensated.py``) evaluating ``t`` as a pair (hi, lo)."""
        op, a = t.op, t.args
        if op == "leaf":
            return f"({self(a[0])}, None)"
        if op == "const":
            hi, lo = a
            return f"({_float(hi)}, None)" if lo == 0.0 else \
                f"_ddc({_float(hi)}, {_float(lo)}, {self.x_name})"
        if op == "recip" and a[0].op == "leaf":
            return f"_dd_recip(({self(a[0].args[0])}, None))"
        if op in ("recip", "neg", "abs", "sq", "sqrt"):
            return f"_dd_{op}({self._dd(a[0])})"
        if op == "pow":
            return f"_dd_pow({self._dd(a[0])}, {a[1]})"
        if op == "scale":
            return f"_dd_scale({self._dd(a[0])}, {_float(a[1])})"
        return f"_dd_{op}({self._dd(a[0])}, {self._dd(a[1])})"

    def _print_IPow(self, e: IPow):
        """u^k with u holding a hypot (ISRLU's (1 + a x^2)^(-3/2) = 1/h^3, x/h): on the
        ``exact`` path u as hi + lo (h's own rounding, tripled by the cube, was 4 ULP)
        and the power rounded once."""
        plain, prec = super()._print_IPow(e)
        base, k = e.args
        full = self._expanded(base)
        if base == R or not k.is_Integer or int(k) < 2 or not full.has(hypot):
            return plain, prec
        tree = dd_tree(full, sp.Symbol(self.x_name, real=True))
        if tree is None or tree.exact:
            return plain, prec
        return (f"(_dd_value(_dd_pow({self._hoist(self._dd(tree))}, {int(k)})) if exact"
                f" else {plain})", _PREC_ATOM)
