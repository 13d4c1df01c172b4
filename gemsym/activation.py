"""The activation model: named parameters and an ordered list of branches.

An activation f is given by junction points c_1 < ... < c_m and one SymPy expression per
interval (-oo, c_1), (c_1, c_2), ..., (c_m, oo).  Every analysis in gemsym works on these
branch expressions separately -- never on a ``Piecewise`` -- because SymPy 1.14's
``Piecewise.diff``, ``limit`` and ``continuous_domain`` are wrong at junctions.

A user-defined family is an :class:`Activation` built in a few lines, either from its
branches or from one expression with ``Abs``/``Max``/``Min``/``Heaviside``/``sign`` and the
points where those switch (:meth:`Activation.from_expression`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import sympy as sp

from .parameters import Parameter, ParameterError, ValueLike

__all__ = ["X", "Branch", "Limit", "Activation", "BranchError", "check_real_branches", "order_points"]

#: The input variable shared by every built-in family.
X = sp.Symbol("x", real=True)


@dataclass(frozen=True)
class Branch:
    """f(x) = ``expr`` for ``lower`` < x < ``upper`` (the value at a junction is the
    common one-sided limit; it only matters where f is discontinuous)."""

    expr: sp.Expr
    lower: sp.Expr = sp.S.NegativeInfinity
    upper: sp.Expr = sp.S.Infinity

    def contains(self, point: sp.Expr) -> bool:
        """True when ``point`` lies in the open interval of this branch."""
        return bool(sp.And(point > self.lower, point < self.upper))


@dataclass(frozen=True)
class Limit:
    """The function the family tends to as ``parameter`` tends to ``value``
    (e.g. E-GEM -> ReLU as eps -> 0, Sqish -> max(a x, x) as gamma -> oo)."""

    parameter: str
    value: sp.Expr
    function: "Activation"


@dataclass(frozen=True)
class Activation:
    """A piecewise activation with named, typed parameters.

    ``branches`` are ordered left to right; consecutive branches share a junction.
    ``gate`` (optional) gives, per branch, g with f = x * g.  ``claimed_smoothness`` is
    the class the literature claims (an expression in the parameters, or ``oo``).
    ``values`` holds parameters already bound to numbers (or left symbolic).
    """

    name: str
    branches: tuple[Branch, ...]
    parameters: tuple[Parameter, ...] = ()
    x: sp.Symbol = X
    gate: tuple[sp.Expr, ...] | None = None
    claimed_smoothness: sp.Expr | None = None
    limit: Limit | None = None
    title: str = ""
    description: str = ""
    values: Mapping[str, sp.Expr] = field(default_factory=dict)
    #: Where the family comes from (paper, arXiv id), printed by ``gemsym list``.
    citation: str = ""
    #: Names in generated code; empty means derived from ``name`` (see the properties).
    python_name: str = ""
    class_name: str = ""

    def __post_init__(self) -> None:
        if not self.branches:
            raise ValueError(f"activation {self.name!r} needs at least one branch")
        if self.branches[0].lower != sp.S.NegativeInfinity or self.branches[-1].upper != sp.oo:
            raise ValueError(f"activation {self.name!r}: branches must cover the real line")
        for left, right in zip(self.branches, self.branches[1:]):
            if left.upper != right.lower:
                raise ValueError(
                    f"activation {self.name!r}: branch ending at {left.upper} is followed "
                    f"by one starting at {right.lower}"
                )
            if not bool(left.upper > left.lower) and left.upper.is_number and left.lower.is_number:
                raise ValueError(f"activation {self.name!r}: junctions must increase")
        if self.gate is not None and len(self.gate) != len(self.branches):
            raise ValueError(f"activation {self.name!r}: one gate expression per branch")

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_branches(
        cls,
        name: str,
        pieces: Sequence[sp.Expr],
        junctions: Sequence[ValueLike] = (),
        **kwargs,
    ) -> "Activation":
        """Build from branch expressions left to right and the junctions between them."""
        points = [sp.sympify(j) for j in junctions]
        if len(pieces) != len(points) + 1:
            raise ValueError(
                f"pieces: {len(pieces)} branch expressions need {len(pieces) - 1} junctions "
                f"(got {len(points)})"
            )
        bounds = [sp.S.NegativeInfinity, *points, sp.S.Infinity]
        branches = tuple(
            Branch(sp.sympify(e), lo, hi) for e, lo, hi in zip(pieces, bounds, bounds[1:])
        )
        return cls(name=name, branches=branches, **kwargs)

    @classmethod
    def from_expression(
        cls,
        name: str,
        expr: sp.Expr,
        junctions: Sequence[ValueLike] = (),
        x: sp.Symbol = X,
        **kwargs,
    ) -> "Activation":
        """Split one expression with ``Abs``, ``Max``, ``Min``, ``Heaviside``, ``sign`` or
        ``Piecewise`` into branches at ``junctions``: on each interval every such switch
        is resolved at an interior point, so the junctions must be where they switch.
        Junctions may depend on parameters (SmeLU's -beta, beta) when their order follows
        from the parameters' assumptions; a switch whose sign at an interior point the
        assumptions do not decide is resolved at the parameters' value 1, so such signs
        must not depend on the parameters."""
        points = order_points([sp.sympify(j) for j in junctions])
        bounds = [sp.S.NegativeInfinity, *points, sp.S.Infinity]
        pieces = [
            _resolve_switches(sp.sympify(expr), x, _interior_point(lo, hi))
            for lo, hi in zip(bounds, bounds[1:])
        ]
        return cls.from_branches(name, pieces, points, x=x, **kwargs)

    # ---------------------------------------------------------------- parameters
    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ParameterError(
            f"{self.name} has no parameter {name!r}; it has: "
            + (", ".join(self.parameter_names) or "none")
        )

    @property
    def free_symbols(self) -> set[sp.Symbol]:
        """Parameter symbols still present in the branches."""
        syms: set[sp.Symbol] = set()
        for b in self.branches:
            syms |= b.expr.free_symbols
        syms.discard(self.x)
        return syms

    @property
    def is_concrete(self) -> bool:
        return not self.free_symbols

    def bind(self, **values: ValueLike) -> "Activation":
        """Substitute parameter values (checked against their domains; ``'symbolic'``
        keeps a parameter symbolic).  Unknown names raise :class:`ParameterError`."""
        subs: dict[sp.Symbol, sp.Expr] = {}
        bound = dict(self.values)
        for key, raw in values.items():
            if raw is None:
                continue
            param = self.parameter(key)
            value = param.check(raw)
            bound[key] = value
            if value != param.symbol:
                subs[param.symbol] = value
        if not subs:
            return replace(self, values=bound)
        return self.substitute(subs, values=bound)

    def with_defaults(self, **values: ValueLike) -> "Activation":
        """Bind ``values`` and give every other parameter its default."""
        merged = {p.name: p.default for p in self.parameters if p.name not in self.values}
        merged.update({k: v for k, v in values.items() if v is not None})
        return self.bind(**merged)

    def substitute(self, subs: Mapping[sp.Symbol, sp.Expr], values=None) -> "Activation":
        """The same activation with symbols replaced (junctions included)."""
        def sub(e):
            return sp.sympify(e).subs(subs) if subs else e
        branches = tuple(Branch(sub(b.expr), sub(b.lower), sub(b.upper)) for b in self.branches)
        gate = None if self.gate is None else tuple(sub(g) for g in self.gate)
        claimed = None if self.claimed_smoothness is None else sub(self.claimed_smoothness)
        limit = None
        if self.limit is not None:
            limit = replace(self.limit, function=self.limit.function.substitute(subs))
        return replace(
            self,
            branches=branches,
            gate=gate,
            claimed_smoothness=claimed,
            limit=limit,
            values=dict(self.values if values is None else values),
        )

    # ---------------------------------------------------------------- naming
    @property
    def identifier(self) -> str:
        """The functional name in generated code: ``python_name`` or ``name`` with every
        character that is not alphanumeric replaced by ``_``."""
        if self.python_name:
            return self.python_name
        ident = "".join(ch if ch.isalnum() else "_" for ch in self.name)
        return ident if ident and not ident[0].isdigit() else f"f_{ident}"

    @property
    def module_class_name(self) -> str:
        """The ``nn.Module`` class name in generated code: ``class_name`` or the
        identifier in CamelCase."""
        if self.class_name:
            return self.class_name
        return "".join(part[:1].upper() + part[1:] for part in self.identifier.split("_") if part)

    # ---------------------------------------------------------------- structure
    @property
    def junctions(self) -> tuple[sp.Expr, ...]:
        return tuple(b.upper for b in self.branches[:-1])

    @property
    def label(self) -> str:
        """Name with bound parameter values, e.g. ``e-gem(N=2, eps=1/10000)``."""
        if not self.values:
            return self.name
        inner = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.name}({inner})"

    def derivative(self, k: int = 1) -> tuple[sp.Expr, ...]:
        """f^{(k)} on every branch (derivatives of the branch expressions)."""
        if k < 0:
            raise ValueError(f"k must be a non-negative integer (got {k})")
        return tuple(sp.diff(b.expr, self.x, k) if k else b.expr for b in self.branches)

    def branch_index(self, point) -> int:
        """Index of the branch whose open interval holds ``point`` (a junction belongs
        to the branch on its right)."""
        for i, b in enumerate(self.branches):
            if bool(point < b.upper):
                return i
        return len(self.branches) - 1

    def piecewise(self, k: int = 0) -> sp.Piecewise:
        """f^{(k)} as a SymPy ``Piecewise`` -- for display only; analyses use branches."""
        exprs = self.derivative(k)
        args = [(e, self.x < b.upper) for e, b in zip(exprs[:-1], self.branches[:-1])]
        args.append((exprs[-1], True))
        return sp.Piecewise(*args)

    def numeric(self, k: int = 0, module: str = "mpmath") -> Callable:
        """A callable evaluating f^{(k)} at a number (all parameters must be bound)."""
        if not self.is_concrete:
            names = ", ".join(sorted(str(s) for s in self.free_symbols))
            raise ParameterError(f"{self.name}: bind the parameters {names} before evaluating")
        funcs = [sp.lambdify(self.x, e, modules=module) for e in self.derivative(k)]
        uppers = [float(b.upper) for b in self.branches[:-1]]

        def f(t):
            for upper, g in zip(uppers, funcs):
                if t < upper:
                    return g(t)
            return funcs[-1](t)

        return f


class BranchError(ValueError):
    """A branch that is not a real function on its interval (complex, NaN, zoo)."""


def _sample_values(act: "Activation") -> dict:
    """A value for every parameter still symbolic: its default, else 1 (only used to
    probe whether branches are real, never for a result)."""
    values = {}
    for p in act.parameters:
        if p.symbol in act.free_symbols or any(p.symbol in b.lower.free_symbols for b in act.branches):
            values[p.symbol] = p.default if p.default is not None else sp.S.One
    return values


def check_real_branches(act: "Activation") -> None:
    """Raise :class:`BranchError` naming the branch when a branch is NaN or zoo, or takes
    a non-real value at points inside its interval (sqrt(x) for x < 0): the analyses
    assume real functions.  Probed at three points of each interval with the symbolic
    parameters at their defaults; a branch that is real there may still fail elsewhere."""
    sample = _sample_values(act)
    for i, b in enumerate(act.branches):
        where = f"branch {i + 1} of {act.name} ({_interval_text(b)}: {b.expr})"
        if b.expr.has(sp.nan, sp.zoo) or b.expr in (sp.oo, -sp.oo):
            raise BranchError(f"{where} is not a finite real function (NaN or infinite); "
                              "allowed: real expressions finite inside their interval")
        lo, hi = sp.sympify(b.lower).subs(sample), sp.sympify(b.upper).subs(sample)
        if lo == -sp.oo and hi == sp.oo:
            points = [sp.Rational(-5, 3), sp.Rational(2, 7), sp.Rational(7, 3)]
        elif lo == -sp.oo:
            points = [hi - sp.Rational(1, 7), hi - 1, hi - sp.Rational(17, 3)]
        elif hi == sp.oo:
            points = [lo + sp.Rational(1, 7), lo + 1, lo + sp.Rational(17, 3)]
        else:
            points = [lo + (hi - lo) * k for k in (sp.Rational(1, 7), sp.Rational(1, 2), sp.Rational(6, 7))]
        expr = b.expr.subs(sample)
        for t in points:
            try:
                v = sp.N(expr.subs(act.x, t), 20)
            except (TypeError, ValueError, ZeroDivisionError):
                continue
            if v.has(sp.nan):
                raise BranchError(f"{where} is NaN at x = {t}; allowed: real expressions")
            re, im = v.as_real_imag()
            if im.is_number and im != 0 and abs(im) > 1e-15 * (1 + abs(re)):
                raise BranchError(f"{where} is not real at x = {t} (value {sp.N(v, 6)}); "
                                  "allowed: expressions real on their interval")


def _interval_text(b: Branch) -> str:
    lo, hi = b.lower, b.upper
    if lo == -sp.oo and hi == sp.oo:
        return "all x"
    if lo == -sp.oo:
        return f"x < {hi}"
    if hi == sp.oo:
        return f"x > {lo}"
    return f"{lo} < x < {hi}"


def order_points(points: Sequence[sp.Expr]) -> list[sp.Expr]:
    """``points`` sorted increasingly, duplicates removed; points may depend on parameters
    (-beta < 0 < beta for beta > 0) when the sign of every difference follows from the
    parameters' assumptions, else ValueError naming the pair."""
    out: list[sp.Expr] = []
    for c in points:
        c = sp.sympify(c)
        i = 0
        while i < len(out):
            d = sp.simplify(c - out[i]) if not (c - out[i]).is_number else c - out[i]
            if d.is_zero:
                break
            if d.is_positive:
                i += 1
                continue
            if d.is_negative:
                out.insert(i, c)
                break
            raise ValueError(
                f"junctions: the order of {out[i]} and {c} depends on the parameter values; "
                "allowed: junctions whose order follows from the parameters' domains")
        else:
            out.append(c)
    return out


def _interior_point(lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    if lo == sp.S.NegativeInfinity and hi == sp.oo:
        return sp.Rational(1, 7)
    if lo == sp.S.NegativeInfinity:
        return hi - 1
    if hi == sp.oo:
        return lo + 1
    return (lo + hi) / 2


def _resolve_switches(expr: sp.Expr, x: sp.Symbol, point: sp.Expr) -> sp.Expr:
    """Replace every sign-dependent node by the branch it takes near ``point``."""

    def sign_at(arg: sp.Expr) -> int:
        value = arg.subs(x, point)
        if value.is_positive or value.is_negative:  # decided by the parameters' assumptions
            return 1 if value.is_positive else -1
        free = value.free_symbols
        if free:
            value = value.subs({s: 1 for s in free})
        from .evaluate import Imprecise, certified

        try:  # plain sp.N returns noise, with either sign, where terms cancel
            v = certified(value, 30)
        except Imprecise:
            v = sp.S.Zero
        if v == 0:
            raise ValueError(
                f"from_expression: {arg} vanishes (or cannot be told from 0) at the sample "
                f"point {point}; declare its zeros as junctions"
            )
        return 1 if v > 0 else -1

    def rewrite(e: sp.Expr) -> sp.Expr:
        if e.is_Atom:
            return e
        args = [rewrite(a) for a in e.args]
        if isinstance(e, sp.Abs):
            return sign_at(args[0]) * args[0]
        if isinstance(e, sp.sign):
            return sp.Integer(sign_at(args[0]))
        if isinstance(e, sp.Heaviside):
            return sp.Integer(1 if sign_at(args[0]) > 0 else 0)
        if isinstance(e, (sp.Max, sp.Min)):
            best = args[0]
            for other in args[1:]:
                diff = sign_at(other - best)
                if (diff > 0) == isinstance(e, sp.Max):
                    best = other
            return best
        if isinstance(e, sp.Piecewise):
            for value, cond in e.args:
                c = cond.subs(x, point)
                if c.free_symbols:
                    c = c.subs({s: 1 for s in c.free_symbols})
                if bool(c):
                    return rewrite(value)
            raise ValueError(f"from_expression: no Piecewise condition holds at {point}")
        return e.func(*args)

    return rewrite(expr)
