"""Where f is smooth: the pieces between junctions, switch points and singular points,
and what f does at each of their ends (:mod:`gemsym.shape.properties` works piece by
piece).

A branch may still hold ``Abs``/``sign``/``Heaviside``/``Max``/``Min`` (written with
:meth:`~gemsym.Activation.from_branches`): their switch points split it and each part gets
the switches resolved, so no derivative ever meets a ``DiracDelta``.  Denominators, bases
of fractional or negative powers, arguments of ``log`` and the cosines (sines) under
``tan``/``sec`` (``cot``/``csc``) are where a branch may be singular: their zeros inside the
branch split it too.  At every point between two pieces the one-sided limits of f say
whether f is continuous there, jumps, or is unbounded (a pole).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..activation import Activation, _interior_point, _resolve_switches
from .signs import Undecided, end_limit, is_concrete, numeric
from .zeros import real_zeros, sign_on

__all__ = ["Piece", "Breakpoint", "split"]

_SWITCHES = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min)


@dataclass(frozen=True)
class Piece:
    """f(x) = ``expr`` on the open interval (``lower``, ``upper``), smooth there."""

    expr: sp.Expr
    lower: sp.Expr
    upper: sp.Expr


@dataclass(frozen=True)
class Breakpoint:
    """The point between two pieces: ``left``/``right`` are the one-sided limits of f;
    ``kind`` is 'continuous' (they agree and are finite), 'jump' (finite, different) or
    'pole' (one of them infinite); ``cause`` says why the line is split there."""

    point: sp.Expr
    left: sp.Expr
    right: sp.Expr
    kind: str
    cause: str


def _switch_arguments(expr: sp.Expr) -> list[sp.Expr]:
    out = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            out.append(node.args[0])
        elif isinstance(node, (sp.Max, sp.Min)):
            out += [a - b for a, b in zip(node.args, node.args[1:])]
        elif isinstance(node, sp.Piecewise):
            raise Undecided(f"a branch holds {node}: write its cases as branches")
    return out


def _singular_arguments(expr: sp.Expr) -> list[tuple[sp.Expr, bool]]:
    """(g, must_be_positive): f may be singular where g = 0; under a log or a fractional
    power g must moreover be positive for f to be real."""
    out = []
    for node in sp.preorder_traversal(expr):
        if node.is_Pow:
            e = node.exp
            if e.is_integer and e.is_nonnegative:
                continue
            out.append((node.base, not e.is_integer))
        elif isinstance(node, sp.log):
            out.append((node.args[0], True))
        elif isinstance(node, (sp.tan, sp.sec)):
            out.append((sp.cos(node.args[0]), False))
        elif isinstance(node, (sp.cot, sp.csc)):
            out.append((sp.sin(node.args[0]), False))
    return out


def _zeros(g: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> list[sp.Expr]:
    if not g.has(x):
        return []
    found = real_zeros(g, x, lo, hi, []) or []
    return [z for z in found if z != lo and z != hi]


def _cut(pieces: list[Piece], points: list[sp.Expr], x: sp.Symbol, resolve: bool) -> list[Piece]:
    out = []
    for pc in pieces:
        inside = sorted({z for z in points if _strictly_inside(z, pc)}, key=numeric)
        bounds = [pc.lower, *inside, pc.upper]
        for lo, hi in zip(bounds, bounds[1:]):
            expr = _resolve_switches(pc.expr, x, _interior_point(lo, hi)) if resolve else pc.expr
            out.append(Piece(expr, lo, hi))
    return out


def _strictly_inside(z: sp.Expr, pc: Piece) -> bool:
    if not is_concrete(z):
        return True  # zeros found symbolically lie inside by construction
    v = numeric(z)
    return (pc.lower == -sp.oo or v > numeric(pc.lower)) and (pc.upper == sp.oo or v < numeric(pc.upper))


def _check_real(g: sp.Expr, x: sp.Symbol, pc: Piece, name: str) -> None:
    if not g.has(x):
        if is_concrete(g) and numeric(g) < 0:
            raise ValueError(f"{name}: the branch {pc.expr} is not real ({g} < 0 under a "
                             "log or a fractional power)")
        return
    if sign_on(g, x, pc.lower, pc.upper) < 0:
        raise ValueError(f"{name}: the branch {pc.expr} is not real on ({pc.lower}, "
                         f"{pc.upper}) ({g} < 0 under a log or a fractional power)")


def _kind(left: sp.Expr, right: sp.Expr) -> str:
    if any(v in (sp.oo, -sp.oo) for v in (left, right)):
        return "pole"
    if sp.simplify(left - right) == 0:
        return "continuous"
    if is_concrete(left) and is_concrete(right):
        return "jump"
    diff = sp.simplify(left - right)
    if diff.is_zero is False:
        return "jump"
    raise Undecided(f"cannot decide whether f is continuous where it tends to {left} and "
                    f"{right}: it depends on the parameters; bind them")


def split(act: Activation) -> tuple[list[Piece], list[Breakpoint]]:
    """The pieces on which f is smooth, left to right, and the points between them."""
    x = act.x
    pieces: list[Piece] = []
    causes: dict = {j: "junction" for j in act.junctions}
    for b in act.branches:
        part = [Piece(b.expr, b.lower, b.upper)]
        switch = [z for g in _switch_arguments(b.expr) for z in _zeros(g, x, b.lower, b.upper)]
        if _switch_arguments(b.expr):
            part = _cut(part, switch, x, resolve=True)
            causes.update({z: "switch of Abs/sign/Max/Min" for z in switch})
        sing: list[sp.Expr] = []
        for pc in part:
            for g, positive in _singular_arguments(pc.expr):
                zs = _zeros(g, x, pc.lower, pc.upper)
                sing += zs
                causes.update({z: f"{g} = 0" for z in zs})
        if sing:
            part = _cut(part, sing, x, resolve=False)
        for pc in part:
            for g, positive in _singular_arguments(pc.expr):
                if positive:
                    _check_real(g, x, pc, act.name)
        pieces += part
    points = []
    for left, right in zip(pieces, pieces[1:]):
        c = left.upper
        lval = end_limit(left.expr, x, c, False)
        rval = end_limit(right.expr, x, c, True)
        points.append(Breakpoint(c, lval, rval, _kind(lval, rval), causes.get(c, "junction")))
    return pieces, points
