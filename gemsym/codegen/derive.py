"""The expressions a generated op needs, derived from a family's branches by SymPy.

For an activation f with real parameters theta_1..theta_k (and integer parameters such as N,
kept symbolic and passed at run time) this module computes, on every branch,

* ``forward``: f;
* ``first``: df/dx, df/dtheta_1, ..., df/dtheta_k (backward);
* ``second``: d2f/dx2, d2f/dx dtheta_i, d2f/dtheta_i dtheta_j for i <= j (double backward);

each by ``sp.diff`` of the branch expression (after 1/(1 + c e^z) -> sigma(-z - log c)),
then rewritten by :func:`gemsym.codegen.stable.stable_form`.  Writers print these; they do
not differentiate anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp
from sympy.codegen.cfunctions import hypot

from ..activation import Activation
from ..parameters import Parameter
from .infinity import branch_limits, given_limits
from .rules import removable_points, to_primitives
from .stable import (R, InfTimes, IPow, PowTimes, Sigmoid, SigmoidLinear, SmallestNormal,
                     StableForm, XTimes, rewrite_sigmoids, stable_form)
from .sums import Factored, factored
from .tails import common_power_first, reciprocal_tails, tail_safe

__all__ = ["FamilyCode", "derive"]



@dataclass(frozen=True)
class FamilyCode:
    """Everything the writers need for one family."""

    activation: Activation
    pyname: str
    classname: str
    int_params: tuple[Parameter, ...]
    real_params: tuple[Parameter, ...]
    x: sp.Symbol
    symbols: dict[str, sp.Symbol]  # parameter name -> plain symbol used in printing
    junctions: tuple[sp.Expr, ...]
    forward: tuple[tuple[StableForm, ...], ...]  # [output][branch]
    first: tuple[tuple[StableForm, ...], ...]
    second: tuple[tuple[StableForm, ...], ...]
    first_names: tuple[str, ...]
    second_names: tuple[str, ...]
    #: the parameters' derivatives as shared terms times constants (:mod:`.sums`), for
    #: ``<name>_sums``; None without real parameters or where they do not factor
    sums: Factored | None = None

    @property
    def transcendental(self) -> bool:
        """Whether f or a first derivative calls a function beyond arithmetic, integer
        powers, |.|, max and min (exp, a sigmoid, log, ...): the Triton launch settings
        depend on it."""
        arithmetic = (IPow, XTimes, PowTimes, SmallestNormal, InfTimes, sp.Abs, sp.Max, sp.Min)
        for out in (*self.forward, *self.first):
            for form in out:
                for expr in form.expressions:
                    if any(not isinstance(f, arithmetic) for f in expr.atoms(sp.Function)):
                        return True
        return False


#: Names the generated formulas and kernels use for themselves (a parameter so named gets
#: a trailing underscore, as a Python keyword does: SELU's lambda becomes lambda_).
_TAKEN = frozenset({"x", "r", "ax", "y", "g", "n", "exact", "narrow", "memo", "own", "x0",
                    "y_l", "y_r", "torch", "tl", "triton", "math", "F", "mask", "offs", "pid",
                    "BLOCK", "PRECISE", "PARAMS_GRAD"})


def _identifier(name: str) -> str:
    import keyword

    # the parameter's own spelling (a user's K stays K, as GEM's N): the generated
    # functions' and modules' keyword arguments are the names the family was written with
    out = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    if not out or out[0].isdigit():
        raise ValueError(f"parameter name {name!r} cannot become a Python identifier")
    if keyword.iskeyword(out) or out in _TAKEN or out.startswith("_t") or out.startswith("d_"):
        out += "_"
    return out


def _form(expr: sp.Expr, x: sp.Symbol, ints, defaults, bounds) -> StableForm:
    """The stable form of one branch expression, with the limit values at the points of
    its interval where it cannot be evaluated (removable singularities), and its values at
    the interval's infinite ends where its code may miss them (:func:`_infinite_ends`)."""
    limits = _infinite_ends(expr, x, ints, defaults, bounds)
    if expr.has(hypot) and not expr.has(sp.Piecewise):
        # derivatives of a hypot are sums over powers of it (ISRLU's 1/h - a x^2/h^3, which
        # cancels and overflows); over a common denominator they collapse (1/h^3)
        expr = sp.together(expr.replace(lambda e: isinstance(e, hypot),
                                        lambda e: sp.sqrt(e.args[0]**2 + e.args[1]**2)))
    expr = tail_safe(to_primitives(expr, x, conjugate=False), x)
    form = stable_form(expr, x, ints, defaults)
    if form.kind in ("plain", "power"):
        # after stable_form, which needs the plain powers to cancel and factor
        large = None if form.large is None else reciprocal_tails(form.large, x)
        small = reciprocal_tails(form.small, x)
        if form.kind == "power":  # |x| <= 1: x^k may underflow where the value does not
            small = common_power_first(small, x)
        form = replace(form, small=small, large=large)
    points = tuple((p, v) for p, v in removable_points(expr, x, *bounds)
                   if not _finite_at(form, x, p))
    if points:
        form = replace(form, points=points)
    if limits is not None and form.kind in ("plain", "power"):
        given = given_limits(form.large if form.large is not None else form.small, limits, x)
        form = replace(form, limits=limits, given=given)
    return form


def _infinite_ends(expr: sp.Expr, x: sp.Symbol, ints, defaults, bounds):
    """The limits of a branch at its infinite ends (:func:`.infinity.branch_limits`), with
    which ``_form`` marks those its code gives by itself (:func:`.infinity.given_limits`;
    not GELU's x erfc(-x/sqrt 2)/2, -oo * 0 at -oo, Softsign's x/(x + 1), oo/oo, leaky
    ReLU's alpha x, 0 oo at alpha = 0).  None without an infinite end, and with an integer
    parameter (SymPy's limits in a symbolic N are not to be relied on)."""
    lower, upper = bounds
    if ints and expr.has(*ints) or not (lower == -sp.oo or upper == sp.oo):
        return None
    return branch_limits(expr, x, lower, upper, defaults) if expr.has(x) else None


def _finite_at(form: StableForm, x: sp.Symbol, point: sp.Expr) -> bool:
    """Whether the form the code evaluates at ``point`` has a finite value there."""
    expr = form.large if form.kind == "power" and abs(point) > 1 else form.small
    expr = expr.replace(lambda e: isinstance(e, IPow), lambda e: e.args[0] ** e.args[1])
    expr = expr.replace(lambda e: isinstance(e, (XTimes, PowTimes)),
                        lambda e: e.args[0] * e.args[1] ** e.args[2])
    expr = expr.replace(lambda e: isinstance(e, SigmoidLinear),
                        lambda e: Sigmoid(e.args[0] * e.args[1] + e.args[2]))
    expr = expr.replace(lambda e: isinstance(e, Sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    value = expr.xreplace({R: 1 / x}).xreplace({x: point})
    return bool(value.is_finite) and not value.has(sp.nan, sp.zoo)


def derive(act: Activation) -> FamilyCode:
    """Derive f, its first and its second partial derivatives in x and the real
    parameters, branch by branch, in stable form."""
    x = act.x
    present = act.free_symbols
    params = [p for p in act.parameters if p.symbol in present]
    int_params = tuple(p for p in params if p.integer)
    real_params = tuple(p for p in params if not p.integer)
    symbols: dict[str, sp.Symbol] = {}
    subs = {}
    for p in params:
        plain = sp.Symbol(_identifier(p.name), **p.symbol.assumptions0)
        symbols[p.name] = plain
        subs[p.symbol] = plain
    ints = [symbols[p.name] for p in int_params]
    reals = [symbols[p.name] for p in real_params]
    defaults = {symbols[p.name]: p.default for p in params if p.default is not None}
    branches = [to_primitives(rewrite_sigmoids(sp.sympify(b.expr).xreplace(subs)), x)
                for b in act.branches]
    bounds = [(sp.sympify(b.lower).xreplace(subs), sp.sympify(b.upper).xreplace(subs))
              for b in act.branches]

    def forms(exprs_per_branch):
        # [branch][output] -> [output][branch]
        outs = list(zip(*exprs_per_branch))
        return tuple(tuple(_form(e, x, ints, defaults, bounds[b]) for b, e in enumerate(out))
                     for out in outs)

    variables = [x, *reals]
    names = ["x", *[_identifier(p.name) for p in real_params]]
    forward = forms([[e] for e in branches])
    first = forms([[sp.diff(e, v) for v in variables] for e in branches])
    pairs = [(i, j) for i in range(len(variables)) for j in range(i, len(variables))]
    second = forms([[sp.diff(e, variables[i], variables[j]) for i, j in pairs] for e in branches])
    return FamilyCode(
        activation=act,
        pyname=act.identifier,
        classname=act.module_class_name,
        int_params=int_params,
        real_params=real_params,
        x=x,
        symbols=symbols,
        junctions=tuple(sp.sympify(j).xreplace(subs) for j in act.junctions),
        forward=forward,
        first=first,
        second=second,
        first_names=tuple(f"d_{n}" for n in names),
        second_names=tuple(f"d_{names[i]}_{names[j]}" for i, j in pairs),
        sums=factored(list(zip(names[1:], first[1:])), x) if reals else None,
    )
