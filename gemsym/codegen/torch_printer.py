"""PyTorch source: the formulas of the generated package's ``_formulas.py``.

:class:`TorchPrinter` holds the PyTorch spellings (its function table, reciprocals, square
roots, powers, hypot, max/min through clamps, the runtime helpers ``_sigmoid_lin``,
``_inf_times``, ``_tail_times`` of the generated ``_runtime``); the compensated steps of its
float64 ``exact`` path are in its base class, :class:`~.torch_exact.TorchExactPath`.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import hypot

from .base_printer import _PREC_ATOM, _float, _sigmoid_linear_args
from .stable import InfTimes, SigmoidLinear, SigmoidRatio
from .torch_exact import TorchExactPath

__all__ = ["TorchPrinter"]


class TorchPrinter(TorchExactPath):
    """PyTorch source; helpers from the generated ``_runtime``.  The formulas take the
    ``exact`` flag (see ``_runtime._plan``), which the integer powers and the
    compensated sigmoid arguments receive."""

    target = "torch"
    where = "torch.where"
    select = "_where"
    divide_once = True
    shared_masks = True
    pair_sigmoids = True
    #: one eager op fewer, the same bits
    folds_negation = True
    #: two comparisons and two full-size selections fewer per output in an eager call
    branches_on_data = True
    memoizes_parameters = True
    functions = {
        "exp": "torch.exp", "log": "torch.log", "log1p": "torch.log1p",
        "expm1": "_expm1", "Expm1": "_expm1", "Abs": "torch.abs", "tanh": "torch.tanh",
        "Sigmoid": "torch.sigmoid", "erf": "torch.special.erf",
        "erfc": "torch.special.erfc", "sin": "torch.sin", "cos": "torch.cos",
        "sinh": "torch.sinh", "cosh": "torch.cosh", "atan": "torch.atan",
        "sign": "torch.sign", "Erfc": "torch.special.erfc", "Erfcx": "torch.special.erfcx",
    }

    @property
    def precision_arg(self) -> str:
        return ", exact"

    def _print_Integer(self, e: sp.Integer):
        # a float literal: eager PyTorch wraps an int operand through a slower promotion
        # path (x + 1: 9.7 us, x + 1.0: 6.5 us on 2^10 float64 elements, same result)
        return _float(float(int(e))), _PREC_ATOM

    def _divide(self, num: str, den: list[str]) -> str:
        """num/den; 1/d as ``torch.reciprocal(d)``: eager ``1/d`` is that reciprocal times a
        wrapped 1 (the same bits, 17 us against 4.7 us on 2^10 float64 elements)."""
        if num in ("1", "1.0") and len(den) == 1:
            return f"torch.reciprocal({den[0]})"
        return super()._divide(num, den)

    def clamp(self, lo: sp.Expr | None, hi: sp.Expr | None) -> str:
        # one clamp (vectorised; NaN stays NaN) where a comparison and a where cost ten;
        # at 0, -0 must stay -0: relu keeps it eagerly and under Inductor alike, and
        # eager clamp(min=0) keeps it too (Inductor's gives +0), so the runtime helper
        # takes one eager clamp where it can
        x = self.x_name
        if lo is not None and lo == 0:
            if hi is not None:
                return f"_clamp_at_zero({x}, {float(hi)!r})"
            x, lo = f"torch.relu({x})", None
        bounds = [f"{k}={float(v)!r}" for k, v in (("min", lo), ("max", hi)) if v is not None]
        return f"torch.clamp({x}, {', '.join(bounds)})" if bounds else x

    def linear_tail(self, value: str, hi: sp.Expr) -> str:
        return f"({value}) - torch.clamp({float(hi)!r} - x0, max=0.0)"

    def side_clamp(self, side: int, bound: sp.Expr) -> str:
        """The input x0 moved onto one side of the junction 0 for a sum of sides
        (:class:`~.narrow.Clamp`): side 1, min(max(x0, +0), bound), +0 for x0 < 0 and x0
        itself at -0 (``_clamp_at_zero``); side 0, max(min(x0, -0), bound), -0 for x0 > 0
        and x0 itself at -0 (at +0, +0 or -0: the sum is the same, ``narrow.clamp._sides``).
        NaN stays NaN."""
        if side:
            return f"_clamp_at_zero(x0, {float(bound)!r})"
        return f"torch.clamp(x0, min={float(bound)!r}, max=-0.0)"

    def _sqrt(self, b: sp.Expr) -> str:
        return f"torch.sqrt({self(b)})"

    def exact_only(self, chosen: str, otherwise: str) -> str:
        return f"({chosen} if exact else {otherwise})"

    def smallest_normal(self) -> str:
        return f"torch.finfo({self.x_name}.dtype).tiny"

    def overflow_bound(self, k: str) -> str:
        return f"torch.finfo({self.x_name}.dtype).max ** (1.0/max(1, {k}))"

    def _real_power(self, b: sp.Expr, k: sp.Expr) -> str:
        return f"torch.pow({self(b)}, {_float(float(k))})"

    def _print_hypot(self, e: hypot):
        # torch.hypot takes two tensors: a number argument becomes one shaped like the other
        a, b = e.args
        if b.is_number:
            a, b = b, a
        if a.is_number:
            other = self(b)
            return f"torch.hypot(torch.full_like({other}, {self(a)}), {other})", _PREC_ATOM
        return f"torch.hypot({self(a)}, {self(b)})", _PREC_ATOM

    def _print_Max(self, e: sp.Max):
        return self._fold("torch.maximum", e), _PREC_ATOM

    def _print_Min(self, e: sp.Min):
        return self._fold("torch.minimum", e), _PREC_ATOM

    def _fold(self, fn: str, e: sp.Expr) -> str:
        # a number argument goes through clamp (torch.maximum needs two tensors)
        nums = [a for a in e.args if a.is_number]
        rest = [a for a in e.args if not a.is_number]
        out = self(rest[0])
        for a in rest[1:]:
            out = f"{fn}({out}, {self(a)})"
        if nums:
            bound = "min" if fn.endswith("maximum") else "max"
            out = f"torch.clamp_{bound}({out}, {self(nums[0])})"
        return out

    def _print_SigmoidLinear(self, e: SigmoidLinear):
        c, var, d, neg = _sigmoid_linear_args(e)
        return (f"_sigmoid_lin({self(c)}, {self(var)}, {self(d)}, exact"
                f"{', True' if neg else ''})"), _PREC_ATOM

    def _print_SigmoidRatio(self, e: SigmoidRatio):
        p, n, c, var, d = e.args
        args = f"{self(p)}, {self(n)}, {self(-c)}, {self(var)}, {self(-d)}"
        if self.hoist is not None and not (p.has(var) or n.has(var) or d.has(var)):
            # the values it reads are the parameters' own: named with their expressions,
            # which the ``memo`` keeps
            args += ", " + self.hoist.named(f"_ratio_values({self(p)}, {self(n)}, {self(-d)})")
        return f"_sigmoid_ratio({args})", _PREC_ATOM

    def _print_InfTimes(self, e: InfTimes):
        if e.args[0].is_number:
            return ("float('inf')" if e.args[0] > 0 else "float('-inf')"), _PREC_ATOM
        return f"_inf_times({self(e.args[0])})", _PREC_ATOM

    def _print_TailTimes(self, e):
        v, var, k, c, d, j, m, b = e.args
        return (f"_tail_times({self(v)}, {self(var)}, {int(k)}, {self(c)}, {self(d)}, "
                f"{int(j)}, {int(m)}, {self(b)}, exact)"), _PREC_ATOM
